/*
 * autoglm/helpers.h — optional, header-only conveniences for AutoGLM plugin authors.
 *
 * Everything here is `static inline` or a macro built only on plugin.h, so including it adds no
 * exported symbol and no link-time dependency: a plugin that uses it still exports exactly
 * `aglm_plugin_entry_v1`. C99 and C++11, warning-free with -Wall -Wextra -pedantic.
 *
 * Convention: every helper that needs the host takes the host table explicitly as its first
 * argument, `const aglm_host_api *host` (the pointer `init` received; plugins keep it in a
 * static variable), followed by the `aglm_ctx *` of the current call when it needs one. The
 * threading and lifetime rules are those of the host function each helper wraps: a helper
 * taking a ctx may only be called during the call that received that ctx, on its thread.
 *
 * Contents:
 *   errors/logging   aglm_errorf, aglm_verrorf, aglm_logf, aglm_vlogf
 *   parameters       aglm_param_f64, aglm_param_i64, aglm_param_bool, aglm_param_str,
 *                    aglm_param_list
 *   views            aglm_view_is_f32, aglm_view_is_i32, aglm_view_numel,
 *                    aglm_view_is_contiguous, aglm_dtype_name, aglm_check_view,
 *                    aglm_check_row_view
 *   memory           aglm_calloc, aglm_strdup
 *   schemas          AGLM_PARAM_FLOAT_SPEC, AGLM_PARAM_FLOAT_RANGE_SPEC, AGLM_PARAM_INT_SPEC,
 *                    AGLM_PARAM_BOOL_SPEC, AGLM_PARAM_STRING_SPEC, AGLM_PARAM_CHOICE_SPEC,
 *                    AGLM_PARAM_FLOAT_LIST_SPEC, AGLM_PARAM_FLOAT_LIST_RANGE_SPEC,
 *                    AGLM_CLOSED, AGLM_OPEN_MIN, AGLM_OPEN_MAX, AGLM_OPEN,
 *                    AGLM_SCHEMA, AGLM_NO_PARAMS, AGLM_COUNTOF
 *   registration     aglm_component, aglm_function, AGLM_FN
 *   optimizer state  aglm_state_like
 *   entry point      AGLM_DEFINE_PLUGIN, AGLM_DEFINE_PLUGIN_EX
 *   misc             AGLM_RESTRICT, AGLM_SQRTF, AGLM_PRINTF_LIKE, AGLM_MESSAGE_MAX
 *
 * Typical plugin skeleton:
 *
 *   #include <autoglm/helpers.h>
 *   static const aglm_host_api *host;                       // set once in init
 *   static const aglm_param_spec my_params[] = {
 *       AGLM_PARAM_FLOAT_SPEC("scale", 1.0, 0.0, INFINITY, "multiplies the metric"),
 *   };
 *   ...create / destroy / vtable functions, all `static`...
 *   static aglm_status my_init(const aglm_host_api *h, aglm_ctx *ctx) {
 *       host = h;
 *       aglm_component_desc d = aglm_component(AGLM_KIND_EVALUATOR, "my_metric", "one line",
 *           "1.0.0", AGLM_SCHEMA(my_params), my_create, my_destroy, &my_vtable);
 *       return host->register_component(ctx, &d);
 *   }
 *   AGLM_DEFINE_PLUGIN("my-plugin", "1.0.0", my_init);
 */
#ifndef AUTOGLM_HELPERS_H
#define AUTOGLM_HELPERS_H

#include "plugin.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------- */
/* Small portability macros                                                                      */
/* ------------------------------------------------------------------------------------------- */

/** `restrict` in C99, the common `__restrict` extension in C++ (which has no restrict). Use it
 *  on the pointers of hot loops so the compiler may vectorise them. */
#if defined(__cplusplus)
#if defined(__GNUC__) || defined(_MSC_VER)
#define AGLM_RESTRICT __restrict
#else
#define AGLM_RESTRICT
#endif
#else
#define AGLM_RESTRICT restrict
#endif

/** Lets GCC/Clang check printf-style arguments: `fmt_index` is the 1-based position of the
 *  format, `first_arg` that of the first variadic argument (0 for a va_list function). */
#if defined(__GNUC__) || defined(__clang__)
#define AGLM_PRINTF_LIKE(fmt_index, first_arg) \
    __attribute__((__format__(__printf__, fmt_index, first_arg)))
#else
#define AGLM_PRINTF_LIKE(fmt_index, first_arg)
#endif

/** Correctly rounded float square root without errno side effects, so that a loop calling it
 *  can be vectorised without -fno-math-errno: Clang's __builtin_elementwise_sqrt where
 *  available (Clang is what SwiftPM builds the bundled plugins with), plain sqrtf otherwise
 *  (GCC then vectorises such a loop only with -fno-math-errno). The result is bit-identical to
 *  sqrtf for every input. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define AGLM_SQRTF(x) __builtin_elementwise_sqrt((float)(x))
#endif
#endif
#ifndef AGLM_SQRTF
#define AGLM_SQRTF(x) sqrtf(x)
#endif

/** Number of elements of an array (not a pointer). */
#define AGLM_COUNTOF(array) (sizeof(array) / sizeof((array)[0]))

/** Size of the stack buffer aglm_errorf/aglm_logf format into; longer messages are truncated. */
#define AGLM_MESSAGE_MAX 1024

/* ------------------------------------------------------------------------------------------- */
/* Errors and logging                                                                            */
/* ------------------------------------------------------------------------------------------- */

/** va_list form of aglm_errorf. `ap` is consumed (va_end is the caller's job). */
static inline AGLM_PRINTF_LIKE(4, 0) aglm_status
aglm_verrorf(const aglm_host_api *host, aglm_ctx *ctx, aglm_status status, const char *fmt,
             va_list ap) {
    char message[AGLM_MESSAGE_MAX];
    vsnprintf(message, sizeof message, fmt, ap);
    host->set_error(ctx, message);
    return status;
}

/** Formats a message printf-style (into a stack buffer of AGLM_MESSAGE_MAX bytes, truncating),
 *  attaches it to the current call with host->set_error, and returns `status`, so that a
 *  failure path is one line:
 *      return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "eps must be > 0, got %g", eps);
 *  The host copies the message; nothing is allocated. Same rule as set_error: only during the
 *  call that received ctx, on its thread (never from a parallel_for worker). */
static inline AGLM_PRINTF_LIKE(4, 5) aglm_status
aglm_errorf(const aglm_host_api *host, aglm_ctx *ctx, aglm_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aglm_verrorf(host, ctx, status, fmt, ap);
    va_end(ap);
    return status;
}

/** va_list form of aglm_logf. `ap` is consumed (va_end is the caller's job). */
static inline AGLM_PRINTF_LIKE(4, 0) void
aglm_vlogf(const aglm_host_api *host, aglm_ctx *ctx, aglm_log_level level, const char *fmt,
           va_list ap) {
    char message[AGLM_MESSAGE_MAX];
    vsnprintf(message, sizeof message, fmt, ap);
    host->log(ctx, level, message);
}

/** Formats a log line printf-style (stack buffer, truncated at AGLM_MESSAGE_MAX bytes) and
 *  writes it with host->log, attributed to the calling component. host->log is thread-safe;
 *  ctx may be NULL (e.g. from a parallel_for worker, which must not use a ctx). */
static inline AGLM_PRINTF_LIKE(4, 5) void
aglm_logf(const aglm_host_api *host, aglm_ctx *ctx, aglm_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    aglm_vlogf(host, ctx, level, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------------------------- */
/* Parameter values (only during `create`: `params` is borrowed for that call)                  */
/* ------------------------------------------------------------------------------------------- */
/* A name the schema does not declare (or a parameter of another type) gives 0 / "" and, for a
 * plugin built against ABI 1.2, makes `create` fail with a message naming it (see
 * aglm_host_api.param_number). */

/** Value of a FLOAT parameter (validated by the host, default applied). */
static inline double aglm_param_f64(const aglm_host_api *host, const aglm_params *params,
                                    const char *name) {
    return host->param_number(params, name);
}

/** Value of an INT parameter as int64_t (saturating; 0 for NaN). */
static inline int64_t aglm_param_i64(const aglm_host_api *host, const aglm_params *params,
                                     const char *name) {
    double d = host->param_number(params, name);
    if (d != d) return 0;
    if (d >= 9223372036854775807.0) return INT64_MAX;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)d;
}

/** Value of a BOOL parameter: 1 or 0. */
static inline int aglm_param_bool(const aglm_host_api *host, const aglm_params *params,
                                  const char *name) {
    return host->param_number(params, name) != 0.0;
}

/** Value of a STRING or CHOICE parameter. Borrowed: valid only during
 *  `create`; copy it if the instance needs it later. */
static inline const char *aglm_param_str(const aglm_host_api *host, const aglm_params *params,
                                         const char *name) {
    const char *s = host->param_string(params, name);
    return s != NULL ? s : "";
}

/** Copies up to `capacity` items of a FLOAT_LIST parameter into `out` (caller-owned) and
 *  returns the list's full length (which may exceed `capacity`). */
static inline size_t aglm_param_list(const aglm_host_api *host, const aglm_params *params,
                                     const char *name, double *out, size_t capacity) {
    return host->param_list(params, name, out, capacity);
}

/* ------------------------------------------------------------------------------------------- */
/* Raw tensor views (pure functions of the view; callable from any thread)                      */
/* ------------------------------------------------------------------------------------------- */

/** 1 if the view holds float32 elements. */
static inline int aglm_view_is_f32(const aglm_view *v) {
    return v != NULL && v->dtype.code == AGLM_DTYPE_FLOAT && v->dtype.bits == 32 &&
           v->dtype.lanes == 1;
}

/** 1 if the view holds int32 elements. */
static inline int aglm_view_is_i32(const aglm_view *v) {
    return v != NULL && v->dtype.code == AGLM_DTYPE_INT && v->dtype.bits == 32 &&
           v->dtype.lanes == 1;
}

/** Number of elements (product of the extents; 1 for a 0-dim view, 0 for NULL). */
static inline int64_t aglm_view_numel(const aglm_view *v) {
    int64_t n = 1;
    int32_t i;
    if (v == NULL) return 0;
    for (i = 0; i < v->ndim; ++i) n *= v->shape[i];
    return n;
}

/** 1 if the view is dense row-major (strides[i] == product of shape[i+1..]; the stride of an
 *  extent-1 dimension is ignored, as in DLPack/PyTorch), so `data` can be read as a flat array
 *  of aglm_view_numel(v) elements. 0 for NULL, a malformed view or a too-short struct_size. */
static inline int aglm_view_is_contiguous(const aglm_view *v) {
    int64_t expected = 1;
    int32_t i;
    if (!AGLM_HAS_FIELD(v, aglm_view, strides) || v->ndim < 0 || v->ndim > 8) return 0;
    if (v->ndim > 0 && (v->shape == NULL || v->strides == NULL)) return 0;
    for (i = v->ndim - 1; i >= 0; --i) {
        if (v->shape[i] < 0) return 0;
        if (v->shape[i] != 1 && v->strides[i] != expected) return 0;
        expected *= v->shape[i];
    }
    return 1;
}

/** Writes a readable name of `dtype` ("float32", "int32", "bfloat16", "uint8x4", ...) into
 *  `buf` (caller-owned, `capacity` bytes, always NUL-terminated) and returns `buf`. */
static inline const char *aglm_dtype_name(aglm_dtype dtype, char *buf, size_t capacity) {
    const char *base = dtype.code == AGLM_DTYPE_INT      ? "int"
                       : dtype.code == AGLM_DTYPE_UINT   ? "uint"
                       : dtype.code == AGLM_DTYPE_FLOAT  ? "float"
                       : dtype.code == AGLM_DTYPE_BFLOAT ? "bfloat"
                                                         : "dtype?";
    if (dtype.lanes == 1)
        snprintf(buf, capacity, "%s%u", base, (unsigned)dtype.bits);
    else
        snprintf(buf, capacity, "%s%ux%u", base, (unsigned)dtype.bits, (unsigned)dtype.lanes);
    return buf;
}

/** Internal: the presence, element type and rank checks shared by aglm_check_view and
 *  aglm_check_row_view. */
static inline aglm_status aglm_check_view_type(const aglm_host_api *host, aglm_ctx *ctx,
                                               const aglm_view *v, const char *what,
                                               aglm_dtype_code code, int32_t ndim) {
    char got[24];
    if (v == NULL)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "%s: missing (NULL view)", what);
    if (v->dtype.code != (uint8_t)code || v->dtype.bits != (code == AGLM_DTYPE_BFLOAT ? 16 : 32) ||
        v->dtype.lanes != 1)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT, "%s: expected %s elements, got %s",
                           what, code == AGLM_DTYPE_FLOAT ? "float32" : code == AGLM_DTYPE_BFLOAT ? "bfloat16" : "int32",
                           aglm_dtype_name(v->dtype, got, sizeof got));
    if (ndim >= 0 && v->ndim != ndim)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "%s: expected %d dimensions, got %d", what, (int)ndim, (int)v->ndim);
    return AGLM_OK;
}

/** Checks that `v` is a dense view of 32-bit elements of type `code` (AGLM_DTYPE_FLOAT or
 *  AGLM_DTYPE_INT) with `ndim` dimensions (-1: any). On failure sets an error naming the view
 *  `what` (e.g. "logits") and returns AGLM_ERR_INVALID_ARGUMENT (wrong type or rank) or
 *  AGLM_ERR_UNSUPPORTED (strided view); otherwise returns AGLM_OK. Same threading rule as
 *  set_error. */
static inline aglm_status aglm_check_view(const aglm_host_api *host, aglm_ctx *ctx,
                                          const aglm_view *v, const char *what,
                                          aglm_dtype_code code, int32_t ndim) {
    aglm_status st = aglm_check_view_type(host, ctx, v, what, code, ndim);
    if (st != AGLM_OK) return st;
    if (!aglm_view_is_contiguous(v))
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "%s: only dense row-major views are supported", what);
    return AGLM_OK;
}

/** Like aglm_check_view, but accepts strided views whose rows are contiguous: the innermost
 *  stride must be 1 (or the innermost extent at most 1) and the other strides non-negative, as
 *  the host passes them to a fused attention that sets `strided` in its layout (ABI 1.1). Fails
 *  with AGLM_ERR_UNSUPPORTED otherwise. Same threading rule as set_error. */
static inline aglm_status aglm_check_row_view(const aglm_host_api *host, aglm_ctx *ctx,
                                              const aglm_view *v, const char *what,
                                              aglm_dtype_code code, int32_t ndim) {
    aglm_status st = aglm_check_view_type(host, ctx, v, what, code, ndim);
    int32_t i;
    if (st != AGLM_OK) return st;
    for (i = 0; i < v->ndim; ++i)
        if (v->strides[i] < 0)
            return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED, "%s: negative strides are not supported", what);
    if (v->ndim > 0 && v->shape[v->ndim - 1] > 1 && v->strides[v->ndim - 1] != 1)
        return aglm_errorf(host, ctx, AGLM_ERR_UNSUPPORTED,
                           "%s: the innermost dimension must be contiguous (stride 1)", what);
    return AGLM_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* Memory                                                                                        */
/* ------------------------------------------------------------------------------------------- */

/** calloc(1, size) that, on failure, sets an "out of memory" error on ctx and returns NULL (the
 *  caller then returns AGLM_ERR_OUT_OF_MEMORY). The block is plugin-owned: release it with
 *  free(), typically in `destroy`. */
static inline void *aglm_calloc(const aglm_host_api *host, aglm_ctx *ctx, size_t size) {
    void *p = calloc(1, size != 0 ? size : 1);
    if (p == NULL)
        aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory (allocating %lu bytes)",
                    (unsigned long)size);
    return p;
}

/** Copies the NUL-terminated string `s` into a new malloc'd block (plugin-owned: free() it),
 *  e.g. to keep a STRING parameter beyond `create`. On failure sets an "out of memory" error on
 *  ctx and returns NULL. (strdup is POSIX, not C99.) */
static inline char *aglm_strdup(const aglm_host_api *host, aglm_ctx *ctx, const char *s) {
    size_t size = strlen(s) + 1;
    char *copy = (char *)malloc(size);
    if (copy == NULL) {
        aglm_errorf(host, ctx, AGLM_ERR_OUT_OF_MEMORY, "out of memory (copying a %lu-byte string)",
                    (unsigned long)size);
        return NULL;
    }
    memcpy(copy, s, size);
    return copy;
}

/* ------------------------------------------------------------------------------------------- */
/* Parameter schemas                                                                             */
/* ------------------------------------------------------------------------------------------- */
/*
 * Each macro expands to a complete brace initialiser of an aglm_param_spec (struct_size set,
 * every field given, so no -Wmissing-field-initializers), for a static array:
 *     static const aglm_param_spec params[] = {
 *         AGLM_PARAM_FLOAT_SPEC("eps", 1e-8, 0.0, INFINITY, "added to the denominator"),
 *         AGLM_PARAM_BOOL_SPEC("amsgrad", 0, "use the max of past squared gradients"),
 *     };
 * Bounds are inclusive (the *_RANGE_SPEC forms exclude either end); use -INFINITY / INFINITY
 * for none. Strings and arrays must outlive the
 * registration call (string literals and static arrays do; the host copies them).
 */

/** Positional form shared by the macros below (field order of aglm_param_spec; the last two
 *  are min_exclusive and max_exclusive, ABI 1.2). */
#define AGLM_PARAM_SPEC_(name, type, doc, num, str, list, list_n, lo, hi, choices, len, lo_x, hi_x) \
    { sizeof(aglm_param_spec), (name), (type), (doc), (double)(num), (str), (list),                \
      (size_t)(list_n), (double)(lo), (double)(hi), (choices), (size_t)(len), (lo_x), (hi_x) }

/** Values for the `bounds` argument of the *_RANGE_SPEC macros (ABI 1.2): which ends of
 *  [min, max] are excluded. AGLM_OPEN_MIN with min 0 is "> 0"; AGLM_OPEN_MAX with [0, 1] is
 *  [0, 1); AGLM_OPEN for (min, max). */
#define AGLM_CLOSED 0
#define AGLM_OPEN_MIN 1
#define AGLM_OPEN_MAX 2
#define AGLM_OPEN 3

/** A FLOAT parameter with default `def` in [min, max]. */
#define AGLM_PARAM_FLOAT_SPEC(name, def, min, max, doc) \
    AGLM_PARAM_FLOAT_RANGE_SPEC(name, def, min, max, AGLM_CLOSED, doc)

/** A FLOAT parameter with default `def` between min and max, the ends excluded as `bounds`
 *  says (AGLM_OPEN_MIN, AGLM_OPEN_MAX, AGLM_OPEN; ABI 1.2: a plugin using exclusive bounds
 *  needs a 1.2 host, which AGLM_DEFINE_PLUGIN requires):
 *      AGLM_PARAM_FLOAT_RANGE_SPEC("eps", 1e-8, 0.0, INFINITY, AGLM_OPEN_MIN, "> 0") */
#define AGLM_PARAM_FLOAT_RANGE_SPEC(name, def, min, max, bounds, doc)                       \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_FLOAT, doc, def, NULL, NULL, 0, min, max, NULL, 0,     \
                     ((bounds) & AGLM_OPEN_MIN) != 0, ((bounds) & AGLM_OPEN_MAX) != 0)

/** An INT parameter with (integral) default `def` in [min, max]. */
#define AGLM_PARAM_INT_SPEC(name, def, min, max, doc) \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_INT, doc, def, NULL, NULL, 0, min, max, NULL, 0, 0, 0)

/** A BOOL parameter with default `def` (0 or 1). */
#define AGLM_PARAM_BOOL_SPEC(name, def, doc) \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_BOOL, doc, (def) ? 1 : 0, NULL, NULL, 0, 0, 1, NULL, 0, 0, 0)

/** A STRING parameter with default `def` (a string literal). */
#define AGLM_PARAM_STRING_SPEC(name, def, doc)                                                  \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_STRING, doc, 0, def, NULL, 0, -INFINITY, INFINITY, NULL, 0, \
                     0, 0)

/** A CHOICE parameter: `choices` is a static NULL-terminated `const char *const[]`, `def` one
 *  of them. */
#define AGLM_PARAM_CHOICE_SPEC(name, def, choices, doc)                                        \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_CHOICE, doc, 0, def, NULL, 0, -INFINITY, INFINITY, choices, \
                     0, 0, 0)

/** A FLOAT_LIST parameter: `defaults` is a static `const double[]` array (its element count is
 *  taken with AGLM_COUNTOF, so pass the array itself, not a pointer), `length` the required
 *  list length (0 = any), each item in [min, max]. */
#define AGLM_PARAM_FLOAT_LIST_SPEC(name, defaults, length, min, max, doc) \
    AGLM_PARAM_FLOAT_LIST_RANGE_SPEC(name, defaults, length, min, max, AGLM_CLOSED, doc)

/** A FLOAT_LIST parameter whose items lie between min and max with the ends excluded as
 *  `bounds` says (see AGLM_PARAM_FLOAT_RANGE_SPEC; ABI 1.2), e.g. Adam's betas, each in [0, 1):
 *      AGLM_PARAM_FLOAT_LIST_RANGE_SPEC("betas", betas, 2, 0.0, 1.0, AGLM_OPEN_MAX, "...") */
#define AGLM_PARAM_FLOAT_LIST_RANGE_SPEC(name, defaults, length, min, max, bounds, doc)         \
    AGLM_PARAM_SPEC_(name, AGLM_PARAM_FLOAT_LIST, doc, 0, NULL, defaults, AGLM_COUNTOF(defaults), \
                     min, max, NULL, length, ((bounds) & AGLM_OPEN_MIN) != 0,                     \
                     ((bounds) & AGLM_OPEN_MAX) != 0)

/** Expands to the two arguments `array, count` for aglm_component's schema. */
#define AGLM_SCHEMA(array) (array), AGLM_COUNTOF(array)

/** Expands to the two arguments `NULL, 0` for a component without parameters. */
#define AGLM_NO_PARAMS NULL, 0

/* ------------------------------------------------------------------------------------------- */
/* Registration                                                                                  */
/* ------------------------------------------------------------------------------------------- */

/** Returns a zero-initialised aglm_component_desc with struct_size and the given fields set;
 *  save_state and load_state are NULL (assign them afterwards if the component has its own
 *  state). Pass the schema as AGLM_SCHEMA(array) or AGLM_NO_PARAMS. `vtable` must have static
 *  storage; the strings and the schema only need to live until register_component returns.
 *      aglm_component_desc d = aglm_component(AGLM_KIND_OPTIMIZER, "adamw", "AdamW", "1.0.0",
 *                                             AGLM_SCHEMA(params), create, destroy, &vtable);
 *      return host->register_component(ctx, &d); */
static inline aglm_component_desc aglm_component(
    aglm_kind kind, const char *name, const char *summary, const char *version,
    const aglm_param_spec *params, size_t param_count,
    aglm_status (*create)(aglm_ctx *, const aglm_params *, const void *, void *, void **),
    void (*destroy)(void *), const void *vtable) {
    aglm_component_desc d;
    memset(&d, 0, sizeof d);
    d.struct_size = sizeof d;
    d.kind = kind;
    d.name = name;
    d.summary = summary;
    d.version = version;
    d.params = params;
    d.param_count = param_count;
    d.create = create;
    d.destroy = destroy;
    d.vtable = vtable;
    return d;
}

/** Returns an aglm_function_info (ABI 1.2) with struct_size and the two strings set (either
 *  may be NULL); they only need to live until register_function returns.
 *      aglm_function_info info = aglm_function("linear warmup, then constant",
 *                                              "step=10 base_lr=0.001 warmup=100");
 *      return host->register_function(ctx, "double f(int64_t step, double base_lr, int64_t warmup)",
 *                                     AGLM_FN(f), &info); */
static inline aglm_function_info aglm_function(const char *doc, const char *example_args) {
    aglm_function_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    info.doc = doc;
    info.example_args = example_args;
    return info;
}

/** Casts a function to the generic function pointer type register_function takes (ABI 1.2).
 *  `void (*)(void)` is the type compilers accept any function pointer cast to without a
 *  -Wcast-function-type warning. */
#define AGLM_FN(f) ((void (*)(void))(f))

/* ------------------------------------------------------------------------------------------- */
/* Optimizer state                                                                               */
/* ------------------------------------------------------------------------------------------- */

/** Fills `decl` (caller-owned) as a float32 state buffer called `name` with the shape of
 *  `param`, for an optimizer's declare_state. Fails with AGLM_ERR_INVALID_ARGUMENT (message
 *  set) if `name` does not fit decl->name (31 characters) or the parameter has more than 8
 *  dimensions. */
static inline aglm_status aglm_state_like(const aglm_host_api *host, aglm_ctx *ctx,
                                          aglm_state_decl *decl, const char *name,
                                          const aglm_param_info *param) {
    size_t len = strlen(name);
    int32_t i;
    if (len >= sizeof decl->name)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "state name '%s' is longer than %u characters", name,
                           (unsigned)(sizeof decl->name - 1));
    if (param->ndim < 0 || param->ndim > 8)
        return aglm_errorf(host, ctx, AGLM_ERR_INVALID_ARGUMENT,
                           "parameter '%s' has %d dimensions (at most 8 supported)", param->name,
                           (int)param->ndim);
    memset(decl, 0, sizeof *decl);
    decl->struct_size = sizeof *decl;
    memcpy(decl->name, name, len + 1);
    decl->ndim = param->ndim;
    for (i = 0; i < param->ndim; ++i) decl->shape[i] = param->shape[i];
    return AGLM_OK;
}

/* ------------------------------------------------------------------------------------------- */
/* Entry point                                                                                   */
/* ------------------------------------------------------------------------------------------- */

/** Defines the plugin's entry point `aglm_plugin_entry_v1` (exported), returning a static
 *  aglm_plugin_entry with struct_size, abi_major = AGLM_ABI_MAJOR, abi_minor = AGLM_ABI_MINOR
 *  (of the header compiled against) and the given min_host_minor, plugin name, version and
 *  init function. Use once, at file scope of one translation unit, followed by a semicolon. */
#define AGLM_DEFINE_PLUGIN_EX(plugin_name, plugin_version, min_host_minor, init_fn)            \
    AGLM_PLUGIN_ENTRY {                                                                        \
        static const aglm_plugin_entry aglm_entry_ = {                                         \
            sizeof(aglm_plugin_entry), AGLM_ABI_MAJOR, AGLM_ABI_MINOR, (min_host_minor),       \
            (plugin_name), (plugin_version), (init_fn)};                                       \
        return &aglm_entry_;                                                                   \
    }                                                                                          \
    typedef int aglm_plugin_entry_defined_here_ /* absorbs the caller's semicolon */

/** AGLM_DEFINE_PLUGIN_EX with min_host_minor = AGLM_ABI_MINOR: the plugin requires a host at
 *  least as new as the header it was compiled with, which is always safe. A plugin that only
 *  touches older fields (or checks newer ones with AGLM_HAS_FIELD) may state a lower minimum
 *  with AGLM_DEFINE_PLUGIN_EX. */
#define AGLM_DEFINE_PLUGIN(plugin_name, plugin_version, init_fn) \
    AGLM_DEFINE_PLUGIN_EX(plugin_name, plugin_version, AGLM_ABI_MINOR, init_fn)

#ifdef __cplusplus
}
#endif

#endif /* AUTOGLM_HELPERS_H */

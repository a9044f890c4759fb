/*
 * autoglm/plugin.h — the AutoGLM plugin ABI, version 1.
 *
 * This is the only header a plugin needs. It is C99 and compiles warning-free as C and as C++.
 *
 * A plugin is a shared object that exports exactly one symbol, `aglm_plugin_entry_v1` (the major
 * ABI version is part of the name, so a library built for another major is recognised and
 * refused with a clear message). The host calls it once, checks the versions in the returned
 * `aglm_plugin_entry`, then calls `init`, in which the plugin registers its components by name:
 * attention variants, optimizers, evaluators and callbacks. Each component declares a parameter
 * schema; the host validates the user's configuration against it before any component code runs.
 * Since ABI 1.2 a plugin may also register plain C functions declared by a prototype string
 * (learning-rate schedules and other scalar hooks), which the host calls through libffi.
 *
 * What each minor added is listed in include/CHANGELOG.md; every field and function added after
 * 1.0 says "(ABI 1.x)" where it is declared. Check AGLM_HAS_FIELD before using one, or state the
 * minor you need in `min_host_minor`.
 *
 * Conventions that hold for the whole header:
 *  - Versioning: `AGLM_ABI_MAJOR` changes only on an incompatible change (new entry symbol name).
 *    Minor versions only append: new fields at the end of structs, new functions at the end of
 *    `aglm_host_api`, new enum values. A plugin states the minor it was built with and the
 *    minimum host minor it needs; the host refuses a plugin that needs a newer host.
 *  - `struct_size`: every struct that crosses the boundary starts with it, set by whoever fills
 *    the struct to `sizeof` of its own view of the struct. A reader never touches a field that
 *    lies beyond `struct_size` (use `AGLM_HAS_FIELD`). Arrays of structs are stepped through by
 *    the `struct_size` of their first element.
 *  - Optional function pointers are marked "optional" and may be NULL; the host checks them.
 *    All others are required and a NULL one is refused at registration with a message.
 *  - Errors: fallible functions return `aglm_status`. On failure, attach a message with
 *    `host->set_error(ctx, "...")` (see `autoglm/helpers.h` for a printf-style wrapper); the host
 *    prefixes it with the plugin file, component and call. Never longjmp, throw or abort across
 *    the boundary.
 *  - Ownership words: "borrowed" = valid only for the duration of the call that received it, do
 *    not free or keep it; "host-owned" = the host frees it, at the time stated; "plugin-owned" =
 *    the plugin frees it, at the time stated.
 *  - Threading: the host calls one component instance from one thread at a time. Host API
 *    functions that take an `aglm_ctx *` may only be called on the thread, and during the call,
 *    that received that ctx. `init` runs on the host's main thread. A function registered with
 *    `register_function` may be called from several threads at once (see there).
 *  - Strings are UTF-8, NUL-terminated.
 */
#ifndef AUTOGLM_PLUGIN_H
#define AUTOGLM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major ABI version: part of the entry symbol's name. */
#define AGLM_ABI_MAJOR 1
/** Minor ABI version of this header: additions only. */
#define AGLM_ABI_MINOR 4

/** Marks the entry point as exported from the shared object. */
#if defined(_WIN32)
#define AGLM_EXPORT __declspec(dllexport)
#else
#define AGLM_EXPORT __attribute__((visibility("default")))
#endif

/** True when struct pointer `s` (whose first field is struct_size) is large enough to hold `field`. */
#define AGLM_HAS_FIELD(s, type, field) \
    ((s) != NULL && (s)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ------------------------------------------------------------------------------------------- */
/* Status codes                                                                                  */
/* ------------------------------------------------------------------------------------------- */

/** Result of every fallible call. 0 is success; any other value is failure. */
typedef int32_t aglm_status;
/** Success. */
#define AGLM_OK 0
/** An argument or configuration value was invalid. */
#define AGLM_ERR_INVALID_ARGUMENT 1
/** An allocation failed. */
#define AGLM_ERR_OUT_OF_MEMORY 2
/** The request is valid but not supported by this component (e.g. a tensor layout). */
#define AGLM_ERR_UNSUPPORTED 3
/** The component is not in a state where the call is allowed. */
#define AGLM_ERR_STATE 4
/** A numeric problem (NaN/Inf) the component cannot continue from. */
#define AGLM_ERR_NUMERIC 5
/** Anything else. */
#define AGLM_ERR_INTERNAL 6

/* ------------------------------------------------------------------------------------------- */
/* Opaque host objects                                                                           */
/* ------------------------------------------------------------------------------------------- */

/** Per-call context. Borrowed: valid only during the call that received it. Carries the error
 *  message slot and owns every tensor handle created during the call. */
typedef struct aglm_ctx aglm_ctx;

/** A tensor handle on the host's autograd tape. Host-owned: valid until the plugin call that
 *  created (or received) it returns, except a persistent constant (host->constant_new, ABI
 *  1.2), which stays valid for the life of the instance that made it. Never free it. Ops taking handles accept NULL and then
 *  return NULL, keeping the first error already set (or setting "input N is NULL" if none
 *  was), so a chain of ops can be checked once at its end. */
typedef struct aglm_tensor aglm_tensor;

/** Validated parameter values of one component instance. Borrowed: valid during `create` only;
 *  copy what you need. */
typedef struct aglm_params aglm_params;

/* ------------------------------------------------------------------------------------------- */
/* Raw tensor views (DLPack-compatible layout)                                                   */
/* ------------------------------------------------------------------------------------------- */

/** Element type codes; identical to DLPack's DLDataTypeCode values. */
typedef enum aglm_dtype_code {
    AGLM_DTYPE_INT = 0,   /**< signed integer */
    AGLM_DTYPE_UINT = 1,  /**< unsigned integer */
    AGLM_DTYPE_FLOAT = 2, /**< IEEE floating point */
    AGLM_DTYPE_BFLOAT = 4 /**< bfloat16 */
} aglm_dtype_code;

/** Element type; same layout and meaning as DLPack's DLDataType. */
typedef struct aglm_dtype {
    uint8_t code;   /**< an aglm_dtype_code */
    uint8_t bits;   /**< bits per lane: 32 for float32 and int32 */
    uint16_t lanes; /**< always 1 in ABI 1 */
} aglm_dtype;

/** A strided view of host memory (like DLPack's DLTensor on the CPU). All memory it points to
 *  is host-owned; the view is borrowed for the duration of the call that received it. In ABI 1
 *  the host always passes dense row-major views (strides[i] = product of shape[i+1..]), but a
 *  plugin should check with `aglm_view_is_contiguous` from autoglm/helpers.h and return
 *  AGLM_ERR_UNSUPPORTED rather than misread a strided one. */
typedef struct aglm_view {
    size_t struct_size;     /**< sizeof(aglm_view) as known to the filler */
    void *data;             /**< first element (byte_offset already applied) */
    int32_t ndim;           /**< number of dimensions, 0..8 */
    aglm_dtype dtype;       /**< element type: float32 for activations, int32 for token ids */
    const int64_t *shape;   /**< ndim extents, never NULL (even when ndim is 0) */
    const int64_t *strides; /**< ndim strides in elements (not bytes), never NULL */
} aglm_view;

/* ------------------------------------------------------------------------------------------- */
/* Parameter schemas                                                                             */
/* ------------------------------------------------------------------------------------------- */

/** Type of a declared component parameter. */
typedef enum aglm_param_type {
    AGLM_PARAM_FLOAT = 1,      /**< a double; `min`/`max` bound it (inclusive unless *_exclusive) */
    AGLM_PARAM_INT = 2,        /**< a 64-bit integer; `min`/`max` bound it (inclusive unless *_exclusive) */
    AGLM_PARAM_BOOL = 3,       /**< true/false */
    AGLM_PARAM_STRING = 4,     /**< free text */
    AGLM_PARAM_CHOICE = 5,     /**< one of `choices` */
    AGLM_PARAM_FLOAT_LIST = 6  /**< a list of doubles of length `list_length` (0 = any); each within min/max */
} aglm_param_type;

/** Declaration of one parameter of a component. The host validates configured values against it
 *  (type, range, choices, list length) and rejects unknown keys before any component code runs. */
typedef struct aglm_param_spec {
    size_t struct_size;          /**< sizeof(aglm_param_spec) */
    const char *name;            /**< key in the config, [a-z0-9_]+ */
    aglm_param_type type;        /**< value type */
    const char *doc;             /**< one-line description shown by `autoglm plugins show` */
    double default_number;       /**< default for FLOAT, INT (integral value) and BOOL (0/1) */
    const char *default_string;  /**< default for STRING and CHOICE; NULL otherwise */
    const double *default_list;  /**< default for FLOAT_LIST (default_list_length items); else NULL */
    size_t default_list_length;  /**< number of items in default_list */
    double min;                  /**< lower bound for numbers (inclusive unless min_exclusive); -INFINITY for none */
    double max;                  /**< upper bound for numbers (inclusive unless max_exclusive); INFINITY for none */
    const char *const *choices;  /**< CHOICE only: NULL-terminated list of accepted strings */
    size_t list_length;          /**< FLOAT_LIST only: required length, 0 for any */
    /** (ABI 1.2) FLOAT, INT and FLOAT_LIST only: nonzero when `min` itself is excluded, so a
     *  value (each item of a list) must be > min, e.g. an eps or a learning rate with min 0.
     *  Must be 0 for other types and for an infinite `min`. The host checks it before `create`
     *  and `autoglm plugins show` prints the range as "(0, 1)" or "> 0". A host older than 1.2
     *  does not read it (the bound is then inclusive): a plugin that relies on it sets
     *  min_host_minor to 2. */
    int32_t min_exclusive;
    /** (ABI 1.2) Like min_exclusive, for `max` (value < max), e.g. a decay rate in [0, 1). */
    int32_t max_exclusive;
} aglm_param_spec;

/* ------------------------------------------------------------------------------------------- */
/* Component kinds                                                                                */
/* ------------------------------------------------------------------------------------------- */

/** The four kinds of component a plugin can register. */
typedef enum aglm_kind {
    AGLM_KIND_ATTENTION = 1, /**< multi-head causal attention: vtable is aglm_attention_vtable */
    AGLM_KIND_OPTIMIZER = 2, /**< parameter update rule: vtable is aglm_optimizer_vtable */
    AGLM_KIND_EVALUATOR = 3, /**< validation metric: vtable is aglm_evaluator_vtable */
    AGLM_KIND_CALLBACK = 4   /**< training-loop hook: vtable is aglm_callback_vtable */
} aglm_kind;

/* ----- attention --------------------------------------------------------------------------- */

/** What the host tells an attention component at creation. */
typedef struct aglm_attention_info {
    size_t struct_size; /**< sizeof(aglm_attention_info) */
    int64_t n_head;     /**< query heads */
    int64_t head_dim;   /**< features per head */
    int64_t block_size; /**< longest sequence the model will run */
    int64_t layer;      /**< index of the transformer block this instance serves (0-based) */
    int64_t n_layer;    /**< number of blocks */
} aglm_attention_info;

/** What an attention component tells the host at creation (the host pre-fills defaults). */
typedef struct aglm_attention_layout {
    size_t struct_size; /**< sizeof(aglm_attention_layout) */
    int64_t kv_heads;   /**< key/value heads; default n_head. Must divide n_head (GQA/MQA). */
    /** (ABI 1.1; check AGLM_HAS_FIELD before writing) Fused path only. Default 0. Set it to 1
     *  when fused_forward and fused_backward read every view through its strides (the innermost
     *  stride is always 1; the others are arbitrary and non-negative) and write every element of
     *  out, dq, dk and dv. The host then passes views straight into its packed [batch, seq,
     *  heads * head_dim] activations and gradients instead of dense copies, and does not
     *  zero-fill out, dq, dk, dv. */
    int32_t strided;
    /** (ABI 1.3; check AGLM_HAS_FIELD before writing) Fused path only. Default 0. Set it to 1
     *  when fused_forward and fused_backward accept q, k and v as bfloat16 views (dtype code
     *  AGLM_DTYPE_BFLOAT, 16 bits: the upper half of a float32). In a run with
     *  `train.precision: bf16` the host then passes q, k, v rounded to bfloat16 (to nearest,
     *  ties to even) in such views, with the same shapes and strides; out, dout, dq, dk and dv
     *  stay float32. To a component that leaves it 0 it passes float32 views of the same
     *  rounded values. */
    int32_t bf16;
} aglm_attention_layout;

/** Saved state of a fused forward, handed back to the fused backward. Plugin-owned. */
typedef void *aglm_saved;

/** (ABI 1.2) Arguments of one incremental decoding call (see aglm_attention_vtable.decode). All
 *  views are dense row-major float32 and borrowed for the call; the memory behind them is
 *  host-owned. B is the batch, H = n_head, KV = kv_heads, D = head_dim, n >= 1 the number of
 *  new positions and C the cache capacity (the model's block_size; position + n <= C). */
typedef struct aglm_decode_args {
    size_t struct_size;     /**< sizeof(aglm_decode_args) as known to the host */
    /** Positions already decoded in this sequence: the new rows are positions position ..
     *  position + n - 1. 0 starts a new sequence (the cache rows are then stale and must be
     *  ignored). */
    int64_t position;
    const aglm_view *q;     /**< [B, H, n, D] queries of the new positions (read only) */
    const aglm_view *k;     /**< [B, KV, n, D] keys of the new positions (read only) */
    const aglm_view *v;     /**< [B, KV, n, D] values of the new positions (read only) */
    /** [B, KV, C, D] the key cache of this instance: rows [0, position) hold what this
     *  instance wrote there in the earlier calls of the sequence; the host never reads or
     *  changes them. The call must write rows [position, position + n) (the keys, or whatever
     *  it needs of them later, e.g. rotated keys) and may not write other rows. */
    aglm_view *k_cache;
    aglm_view *v_cache;     /**< [B, KV, C, D] the value cache, same rules as k_cache */
    aglm_view *out;         /**< [B, H, n, D] written: the outputs of the new positions */
} aglm_decode_args;

/** Attention variant. q is [batch, n_head, seq, head_dim]; k and v are [batch, kv_heads, seq,
 *  head_dim]; the output is [batch, n_head, seq, head_dim]. Attention is causal: position t may
 *  only attend to positions <= t. Implement exactly one path:
 *  (a) `forward`, composed from the host's differentiable ops (the host derives the backward), or
 *  (b) `fused_forward` + `fused_backward` on raw views (+ `free_saved`). */
typedef struct aglm_attention_vtable {
    size_t struct_size; /**< sizeof(aglm_attention_vtable) */
    /** Path (a), optional. Returns the output handle (host-owned, from host ops) or NULL with an
     *  error set. q/k/v are borrowed handles. */
    aglm_tensor *(*forward)(void *instance, aglm_ctx *ctx, aglm_tensor *q, aglm_tensor *k,
                            aglm_tensor *v);
    /** Path (b), optional. Writes the output into `out` (host-allocated; dense unless the
     *  layout's `strided` is set). May store
     *  anything needed by the backward in *saved (plugin-owned until `free_saved`). Views are
     *  borrowed. `needs_backward` is 0 at evaluation/sampling time: skip saving then. */
    aglm_status (*fused_forward)(void *instance, aglm_ctx *ctx, const aglm_view *q,
                                 const aglm_view *k, const aglm_view *v, aglm_view *out,
                                 int32_t needs_backward, aglm_saved *saved);
    /** Path (b), optional (required with fused_forward). Given the forward inputs, its output
     *  and d(out), writes dq, dk, dv (host-allocated; dense and zero-filled unless the layout's
     *  `strided` is set; overwrite them). */
    aglm_status (*fused_backward)(void *instance, aglm_ctx *ctx, aglm_saved saved,
                                  const aglm_view *q, const aglm_view *k, const aglm_view *v,
                                  const aglm_view *out, const aglm_view *dout, aglm_view *dq,
                                  aglm_view *dk, aglm_view *dv);
    /** Path (b), optional. Frees what fused_forward stored in *saved. Called exactly once per
     *  non-NULL saved, after the backward or when the graph is dropped, on any thread. */
    void (*free_saved)(void *instance, aglm_saved saved);
    /** (ABI 1.2; read only when the vtable's struct_size covers it) Optional, for either path:
     *  incremental decoding against a key/value cache the host owns (`autoglm sample`). The
     *  outputs must be those `forward` (or `fused_forward`) gives for the same rows when run
     *  on the whole sequence 0 .. position + n - 1 (causal: row i sees positions <= position +
     *  i), up to float rounding. The host calls it with the prompt first (position 0, n = its
     *  length) and then one token at a time (n = 1), never needs a gradient, and uses it only
     *  when the component of every block has it (otherwise it recomputes the whole context for
     *  each token). Same threading as forward; host ops taking handles may not be used (there
     *  are none): compute on the views, with host->sgemm and parallel_for if wanted. `args`
     *  and its views are borrowed; see aglm_decode_args. */
    aglm_status (*decode)(void *instance, aglm_ctx *ctx, const aglm_decode_args *args);
} aglm_attention_vtable;

/* ----- optimizer ---------------------------------------------------------------------------- */

/** (ABI 1.2) Roles of a model parameter, bit flags in aglm_param_info.role, so optimizers such
 *  as Muon choose their update rule without matching names. A tied token embedding that is also
 *  the output head has both AGLM_ROLE_EMBEDDING and AGLM_ROLE_HEAD. */
typedef enum aglm_param_role {
    AGLM_ROLE_UNKNOWN = 0,   /**< no role known (e.g. a parameter a host older than 1.2 passes) */
    AGLM_ROLE_EMBEDDING = 1, /**< a lookup table: token or position embedding */
    AGLM_ROLE_HEAD = 2,      /**< the output projection to the vocabulary's logits */
    AGLM_ROLE_NORM = 4,      /**< a normalisation gain or bias (1-D) */
    AGLM_ROLE_HIDDEN = 8     /**< a hidden weight matrix: attention and MLP projections */
} aglm_param_role;

/** Describes one trainable parameter to an optimizer (and, since ABI 1.2, to a callback through
 *  host->model_param). */
typedef struct aglm_param_info {
    size_t struct_size;   /**< sizeof(aglm_param_info) */
    const char *name;     /**< stable dotted name, e.g. "blocks.0.attn.qkv.weight" */
    int32_t ndim;         /**< number of dimensions */
    const int64_t *shape; /**< ndim extents */
    int64_t numel;        /**< number of elements */
    int32_t decay;        /**< 1 when weight decay applies (tensors with 2+ dims), else 0 */
    int32_t index;        /**< position of this parameter in the model's parameter list */
    /** (ABI 1.2) aglm_param_role flags (AGLM_ROLE_HIDDEN, ...); 0 when unknown. */
    uint32_t role;
} aglm_param_info;

/** A per-parameter state buffer an optimizer asks the host to allocate (zero-filled, float32).
 *  Host-owned, exported in checkpoints as "optim/<param>/<name>", restored on resume. */
typedef struct aglm_state_decl {
    size_t struct_size; /**< sizeof(aglm_state_decl) */
    char name[32];      /**< short name, e.g. "exp_avg" */
    int32_t ndim;       /**< 0..8; 0 means a scalar */
    int64_t shape[8];   /**< extents */
} aglm_state_decl;

/** Arguments of one optimizer update of one parameter. */
typedef struct aglm_optim_step {
    size_t struct_size;            /**< sizeof(aglm_optim_step) */
    const aglm_param_info *param;  /**< which parameter (borrowed) */
    aglm_view *value;              /**< the parameter, float32, update in place (borrowed) */
    const aglm_view *grad;         /**< its gradient, float32, already clipped/averaged (borrowed) */
    aglm_view *const *states;      /**< the buffers declared by `declare_state`, in order (borrowed) */
    size_t state_count;            /**< number of state buffers */
    double lr;                     /**< learning rate for this step (schedule and callbacks applied) */
    int64_t step;                  /**< 1-based optimizer step counter (restored on resume) */
    /** (ABI 1.2) 1-based count of this parameter's own updates, this one included (PyTorch's
     *  per-parameter state["step"]): it equals `step` unless the parameter missed steps (no
     *  gradient, so no call). Host-owned, checkpointed and restored on resume. */
    int64_t param_step;
    /** (ABI 1.4) Multiplier on the optimizer's weight decay for this step, >= 0 and finite: the
     *  value of `train.weight_decay_schedule` (1 without a schedule). An optimizer with a weight
     *  decay coefficient uses `weight_decay * weight_decay_scale`; check the field with
     *  `AGLM_HAS_FIELD` (an older host does not pass it: use 1). */
    double weight_decay_scale;
} aglm_optim_step;

/** Optimizer. */
typedef struct aglm_optimizer_vtable {
    size_t struct_size; /**< sizeof(aglm_optimizer_vtable) */
    /** Required. Declares the state buffers of one parameter: fill up to `capacity` entries of
     *  `decls` (capacity is at least 8; struct_size is pre-set) and store the count in *count.
     *  Called once per parameter, in parameter order, before the first step. */
    aglm_status (*declare_state)(void *instance, aglm_ctx *ctx, const aglm_param_info *param,
                                 aglm_state_decl *decls, size_t capacity, size_t *count);
    /** Optional. Called once per optimizer step before the per-parameter updates. */
    aglm_status (*step_begin)(void *instance, aglm_ctx *ctx, int64_t step, double lr);
    /** Required. Updates one parameter in place. */
    aglm_status (*step)(void *instance, aglm_ctx *ctx, const aglm_optim_step *args);
} aglm_optimizer_vtable;

/* ----- evaluator ---------------------------------------------------------------------------- */

/** Evaluator: accumulates sufficient statistics over batches so the result does not depend on
 *  how the data was split into batches. */
typedef struct aglm_evaluator_vtable {
    size_t struct_size; /**< sizeof(aglm_evaluator_vtable) */
    /** Required. Clears the accumulated statistics. */
    aglm_status (*reset)(void *instance, aglm_ctx *ctx);
    /** Required. Adds one batch: logits [n, vocab] float32 and targets [n] int32 (borrowed). */
    aglm_status (*update)(void *instance, aglm_ctx *ctx, const aglm_view *logits,
                          const aglm_view *targets);
    /** Required. Reports the metrics with host->emit_metric (names like "perplexity"). Does not
     *  reset. */
    aglm_status (*compute)(void *instance, aglm_ctx *ctx);
} aglm_evaluator_vtable;

/* ----- callback ----------------------------------------------------------------------------- */

/** Moments of the training loop at which callbacks run. */
typedef enum aglm_event {
    AGLM_EVENT_TRAIN_BEGIN = 1, /**< before the first step (also after a resume) */
    AGLM_EVENT_TRAIN_END = 2,   /**< after the last step or a stop */
    AGLM_EVENT_STEP_BEGIN = 3,  /**< before each optimizer step's forward passes */
    AGLM_EVENT_STEP_END = 4,    /**< after each optimizer step; loss, lr and grad_norm are set */
    AGLM_EVENT_EVALUATE = 5,    /**< after an evaluation; metrics hold its results */
    AGLM_EVENT_SAVE = 6,        /**< after a checkpoint was written to run_dir */
    /** (ABI 1.2) Just before an evaluation during training (after STEP_END). Delivered only to
     *  callbacks of libraries built with abi_minor >= 2. A callback may put other weights in
     *  place here with host->model_param (e.g. an average of the weights) and must put the
     *  trained ones back at the AGLM_EVENT_EVALUATE that follows; checkpoints are written
     *  after that, so they hold the trained weights. */
    AGLM_EVENT_EVALUATE_BEGIN = 7
} aglm_event;

/** A named scalar metric. */
typedef struct aglm_metric {
    size_t struct_size; /**< sizeof(aglm_metric) */
    const char *name;   /**< e.g. "val/loss", "val/perplexity" */
    double value;       /**< the value */
} aglm_metric;

/** Read-only view of the trainer, given to callbacks. Borrowed for the call. */
typedef struct aglm_trainer_state {
    size_t struct_size;          /**< sizeof(aglm_trainer_state) */
    int64_t step;                /**< optimizer steps completed */
    int64_t max_steps;           /**< configured number of steps */
    int64_t epoch;               /**< passes over the training tokens (tokens_seen / train size) */
    int64_t tokens_seen;         /**< training tokens consumed so far */
    double loss;                 /**< mean training loss of the last step (NaN before the first) */
    double lr;                   /**< learning rate of the last step */
    double grad_norm;            /**< global gradient norm of the last step, before clipping */
    double elapsed_seconds;      /**< wall time since training began */
    int64_t accumulation_steps;  /**< micro-batches per optimizer step currently in force */
    const aglm_metric *metrics;  /**< latest evaluation metrics (metric_count items) */
    size_t metric_count;         /**< number of metrics */
    const char *run_dir;         /**< directory of this run's files */
    int64_t resident_bytes;      /**< resident memory of the process now */
    /* ABI 1.3 (check with AGLM_HAS_FIELD): data-parallel training under mpirun. Callbacks run
     * on every rank; only rank 0 writes the run directory. */
    int32_t rank;                /**< this process's rank, 0 ..< world_size (0 alone) */
    int32_t world_size;          /**< number of data-parallel processes (1 alone) */
} aglm_trainer_state;

/** What a callback may ask of the trainer. The host pre-fills it with "no change" values before
 *  each call; requests from several callbacks combine (any stop/save/evaluate wins; lr scales
 *  multiply; the last accumulation request wins). */
typedef struct aglm_control {
    size_t struct_size;          /**< sizeof(aglm_control) */
    int32_t stop;                /**< set to 1 to end training after this step */
    int32_t save;                /**< set to 1 to write a checkpoint now */
    int32_t evaluate;            /**< set to 1 to run evaluation now */
    double lr_scale;             /**< multiplies the scheduled lr from now on (pre-filled with the
                                      current scale, 1.0 initially) */
    int64_t accumulation_steps;  /**< micro-batches per step from the next step (pre-filled with
                                      the current value) */
} aglm_control;

/** Callback. */
typedef struct aglm_callback_vtable {
    size_t struct_size; /**< sizeof(aglm_callback_vtable) */
    /** Required. Called at each event; `state` is borrowed, `control` may be written. Since ABI
     *  1.2 the model's parameters can be read and written during the call with
     *  host->model_param_count, model_param and model_param_find. Ignore events you do not know
     *  (return AGLM_OK): later minors may add some (only to plugins built against them). */
    aglm_status (*on_event)(void *instance, aglm_ctx *ctx, aglm_event event,
                            const aglm_trainer_state *state, aglm_control *control);
} aglm_callback_vtable;

/* ----- registration -------------------------------------------------------------------------- */

/** Describes one component. Passed to host->register_component during init; the host copies
 *  every string and the schema, so the descriptor may live on the stack. The vtable pointer,
 *  however, must stay valid while the process runs (make it static). */
typedef struct aglm_component_desc {
    size_t struct_size;            /**< sizeof(aglm_component_desc) */
    aglm_kind kind;                /**< which kind, selects the type of `vtable` */
    const char *name;              /**< unique name used in configs, [a-z0-9_]+ */
    const char *summary;           /**< one line for `autoglm plugins` */
    const char *version;           /**< the component's own version, e.g. "1.0.0" */
    const aglm_param_spec *params; /**< parameter schema (param_count items), may be NULL if 0 */
    size_t param_count;            /**< number of parameters */
    /** Required. Creates an instance from validated parameters. `info` is kind-specific and
     *  borrowed: aglm_attention_info for attention, NULL for the other kinds in ABI 1.0. For
     *  attention, `layout` is pre-filled and may be changed; NULL for other kinds. *instance is
     *  plugin-owned until `destroy`. */
    aglm_status (*create)(aglm_ctx *ctx, const aglm_params *params, const void *info,
                          void *layout, void **instance);
    /** Required. Frees an instance. Called once, on the thread that created it. */
    void (*destroy)(void *instance);
    /** Optional. Serialises the instance's own state (beyond host-owned optimizer buffers) for
     *  a checkpoint, by calling host->write_state one or more times. */
    aglm_status (*save_state)(void *instance, aglm_ctx *ctx);
    /** Optional. Restores what save_state wrote. `data` is borrowed. */
    aglm_status (*load_state)(void *instance, aglm_ctx *ctx, const void *data, size_t size);
    /** Kind-specific vtable (static storage): aglm_attention_vtable, aglm_optimizer_vtable,
     *  aglm_evaluator_vtable or aglm_callback_vtable. */
    const void *vtable;
} aglm_component_desc;

/* ----- functions by prototype (ABI 1.2) --------------------------------------------------- */

/** Optional description of a function passed to host->register_function (ABI 1.2). The host
 *  copies both strings during the call, so the struct may live on the stack. */
typedef struct aglm_function_info {
    size_t struct_size;       /**< sizeof(aglm_function_info) */
    /** One line for `autoglm plugins show`, or NULL (`autoglm plugins validate` expects one). */
    const char *doc;
    /** Documented example arguments, `name=value` separated by spaces, e.g.
     *  "step=10 base_lr=0.001 warmup=100" (buffers as comma-separated floats: "x=1,2,3"), or
     *  NULL. `autoglm plugins validate` calls the function with them and expects a finite result;
     *  `autoglm plugins show` prints them. */
    const char *example_args;
} aglm_function_info;

/* ------------------------------------------------------------------------------------------- */
/* The host API                                                                                  */
/* ------------------------------------------------------------------------------------------- */

/** Log levels for host->log. */
typedef enum aglm_log_level {
    AGLM_LOG_DEBUG = 0, /**< detail for developers */
    AGLM_LOG_INFO = 1,  /**< normal progress */
    AGLM_LOG_WARN = 2,  /**< something odd, training goes on */
    AGLM_LOG_ERROR = 3  /**< something failed */
} aglm_log_level;

/** Mask kinds for host->softmax. */
typedef enum aglm_mask_kind {
    AGLM_MASK_NONE = 0,  /**< plain softmax over the last dimension */
    AGLM_MASK_CAUSAL = 1 /**< entries with column > row (of the last two dims) excluded */
} aglm_mask_kind;

/** Function run by host->parallel_for for each chunk [begin, end). */
typedef void (*aglm_parallel_fn)(void *user, int64_t begin, int64_t end);

/** (ABI 1.2) Function run by host->parallel_for_worker for each chunk [begin, end); `worker` is
 *  in [0, host->worker_count()) and no two chunks of one call that run at the same time share
 *  it, so it can index per-worker scratch allocated once. */
typedef void (*aglm_parallel_worker_fn)(void *user, int32_t worker, int64_t begin, int64_t end);

/** Table of host functions, passed to `init` and valid while the process runs (host-owned).
 *  Unless stated otherwise, functions taking `aglm_ctx *` are callable only during the call
 *  that received the ctx, on its thread. Tensor ops (the differentiable level) are recorded on
 *  the autograd tape when called from an attention `forward`; their results are host-owned
 *  handles (see aglm_tensor). Shapes broadcast like NumPy over leading dimensions. On error an
 *  op returns NULL and sets the ctx's error. */
typedef struct aglm_host_api {
    size_t struct_size;   /**< sizeof(aglm_host_api) as known to the host */
    uint32_t abi_major;   /**< the host's major ABI version (1) */
    uint32_t abi_minor;   /**< the host's minor ABI version */
    const char *host_version; /**< the host's version string */

    /* --- diagnostics --- */
    /** Writes a log line attributed to the calling component. Thread-safe; callable from any
     *  thread at any time, with ctx NULL when there is no current call (shown as "plugin"). */
    void (*log)(aglm_ctx *ctx, aglm_log_level level, const char *message);
    /** Attaches an error message to the call that received ctx (the last one set wins). The
     *  message is copied. Ignored when ctx is NULL. */
    void (*set_error)(aglm_ctx *ctx, const char *message);

    /* --- registration (only during init) --- */
    /** Registers a component. Fails (AGLM_ERR_INVALID_ARGUMENT with a message) on a malformed
     *  descriptor, unsupported kind or a name already taken. */
    aglm_status (*register_component)(aglm_ctx *ctx, const aglm_component_desc *desc);

    /* --- parameter access (during create) --- */
    /* Asking for a name the component's schema does not declare, or for a parameter of another
     * type (param_number on a STRING, say), returns 0 / "" / 0 items. Since ABI 1.2 it is also
     * an error: create then fails with "create asked for parameter 'NAME', which its schema
     * does not declare (declared: ...)" even if it returned AGLM_OK, so a misspelt name in the
     * plugin's own code surfaces at once (and in `autoglm plugins validate`). For a library
     * built against ABI 1.0 or 1.1 the host logs a warning instead. */
    /** Value of a FLOAT, INT or BOOL parameter (validated, defaults applied). */
    double (*param_number)(const aglm_params *params, const char *name);
    /** Value of a STRING or CHOICE parameter; borrowed for the duration of create. */
    const char *(*param_string)(const aglm_params *params, const char *name);
    /** Copies up to `capacity` items of a FLOAT_LIST parameter into `out`; returns its length. */
    size_t (*param_list)(const aglm_params *params, const char *name, double *out,
                         size_t capacity);

    /* --- state checkpointing --- */
    /** Appends bytes to the state being saved (only inside save_state). */
    aglm_status (*write_state)(aglm_ctx *ctx, const void *data, size_t size);
    /** Reports a metric (only inside an evaluator's compute). */
    void (*emit_metric)(aglm_ctx *ctx, const char *name, double value);

    /* --- tensor handles (during attention forward) --- */
    /** New constant tensor (no gradient) copied from `data` (row-major, may be NULL for zeros). */
    aglm_tensor *(*tensor_new)(aglm_ctx *ctx, int32_t ndim, const int64_t *shape,
                               const float *data);
    /** Fills `view` (caller-provided, struct_size set) with a read-only dense view of the handle's
     *  current values, valid during the call. Returns AGLM_OK or an error. */
    aglm_status (*tensor_view)(aglm_ctx *ctx, aglm_tensor *t, aglm_view *view);
    /** Number of dimensions of a handle (0 for NULL). */
    int32_t (*tensor_ndim)(aglm_tensor *t);
    /** Extent of dimension `dim` (negative counts from the end); -1 if out of range. */
    int64_t (*tensor_dim)(aglm_tensor *t, int32_t dim);

    /* --- differentiable ops (each returns a new host-owned handle) --- */
    /** Batched matrix product over the last two dims: out = op(a) x op(b), op transposing the
     *  last two dims of an operand whose flag (trans_a, trans_b) is nonzero. a is [..., m, k]
     *  ([..., k, m] with trans_a), b is [..., k, n] ([..., n, k] with trans_b); the result is
     *  [batch..., m, n], a new handle. Both operands need at least 2 dims: a 1-D vector is
     *  refused, not promoted as in NumPy (reshape it to [1, k] or [k, 1]).
     *
     *  The batch dims (all but the last two) broadcast as in NumPy and torch.matmul: aligned from
     *  the right, a missing dim counts as 1, a dim of 1 is repeated, other extents must be equal;
     *  `batch...` is the broadcast shape. A matrix repeated over several batch entries receives
     *  the sum of their gradients. For a 4-D a [B, H, m, k] (batch, heads):
     *    b [k, n], [1, k, n] or [1, 1, k, n]  one matrix for every (batch, head): a projection
     *    b [H, k, n]                          matrix h with head h of every batch
     *    b [B, 1, k, n]                       matrix i with every head of batch i
     *    b [B, H, k, n]                       pair by pair
     *    b [X, k, n]                          aligned as [1, X, k, n]: pairs with the heads,
     *                                         never with the batch. X == H: as [H, k, n];
     *                                         X == 1: shared; H == 1: the result is [B, X, m, n]
     *                                         (every matrix with every batch); otherwise refused.
     *                                         For one matrix per batch, reshape b to [B, 1, k, n].
     *  The same holds with the roles of a and b swapped (a [m, k] against b [B, H, k, n]: one a
     *  for every matrix of b). k == 0 gives zeros.
     *
     *  Cost: without trans_a, an a with any batch shape times a single b matrix (2-D, or batch
     *  dims all 1) is one GEMM over all B*H*m rows (split over the host's threads when large),
     *  and b's gradient one GEMM too; every other combination runs one GEMM per result matrix,
     *  one after another (each split over the threads only when it is large itself).
     *
     *  Errors (NULL, message on ctx): an operand with fewer than 2 dims, inner dims that differ,
     *  batch dims that cannot be broadcast, a result of more than 2^34 elements. */
    aglm_tensor *(*matmul)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b, int32_t trans_a,
                           int32_t trans_b);
    /** a + b (broadcasting). */
    aglm_tensor *(*add)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b);
    /** a - b (broadcasting). */
    aglm_tensor *(*sub)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b);
    /** a * b elementwise (broadcasting). */
    aglm_tensor *(*mul)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b);
    /** a / b elementwise (broadcasting). */
    aglm_tensor *(*div)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b);
    /** a * s + c for scalars s, c. */
    aglm_tensor *(*affine)(aglm_ctx *ctx, aglm_tensor *a, double s, double c);
    /** exp(a). */
    aglm_tensor *(*exp)(aglm_ctx *ctx, aglm_tensor *a);
    /** elu(a) with alpha 1: a if a > 0 else exp(a) - 1. */
    aglm_tensor *(*elu)(aglm_ctx *ctx, aglm_tensor *a);
    /** gelu(a), exact (erf) form. */
    aglm_tensor *(*gelu)(aglm_ctx *ctx, aglm_tensor *a);
    /** Softmax over the last dim; with AGLM_MASK_CAUSAL, entries above the diagonal of the last
     *  two dims get probability 0. Rows with no allowed entry give zeros. */
    aglm_tensor *(*softmax)(aglm_ctx *ctx, aglm_tensor *a, aglm_mask_kind mask);
    /** Where mask (broadcast, 0/1 constant) is 0, the result is `value` (e.g. -INFINITY);
     *  elsewhere a. The gradient flows only through kept entries. */
    aglm_tensor *(*masked_fill)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *mask, double value);
    /** Constant 0/1 mask of a's shape keeping the k largest entries of each row of the last dim
     *  (ties broken toward lower index; -inf entries are never kept). Not differentiable. */
    aglm_tensor *(*topk_mask)(aglm_ctx *ctx, aglm_tensor *a, int64_t k);
    /** Constant [rows, cols] 0/1 mask: 1 where col <= row + (cols - rows) and, if window > 0,
     *  col > row + (cols - rows) - window. */
    aglm_tensor *(*causal_mask)(aglm_ctx *ctx, int64_t rows, int64_t cols, int64_t window);
    /** Layer norm over the last dim: (a - mean) / sqrt(var + eps) * weight + bias; weight and
     *  bias may be NULL. */
    aglm_tensor *(*layer_norm)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *weight,
                               aglm_tensor *bias, double eps);
    /** Sum over `dim` (negative counts from the end), keeping it with extent 1 if keepdim. */
    aglm_tensor *(*sum)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim, int32_t keepdim);
    /** Inclusive prefix sum along `dim`. */
    aglm_tensor *(*cumsum)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim);
    /** Same data in a new shape (one extent may be -1). */
    aglm_tensor *(*reshape)(aglm_ctx *ctx, aglm_tensor *a, int32_t ndim, const int64_t *shape);
    /** Swaps two dimensions. */
    aglm_tensor *(*transpose)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim0, int32_t dim1);
    /** Repeats each slice of dimension `dim` `times` times consecutively (for GQA key/value
     *  heads: [B, kv, T, D] -> [B, kv*times, T, D]). */
    aglm_tensor *(*repeat_interleave)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim, int64_t times);

    /* --- raw kernels (any time, any thread) --- */
    /** C = alpha * op(A) * op(B) + beta * C, row-major, like cblas_sgemm with CblasRowMajor. */
    void (*sgemm)(int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc);
    /** Runs fn over [0, n) split into chunks on the host's worker threads; returns when all are
     *  done. fn must be thread-safe; it may not call functions taking an aglm_ctx. */
    void (*parallel_for)(int64_t n, int64_t min_chunk, aglm_parallel_fn fn, void *user);

    /* --- functions by prototype (ABI 1.2; only during init) --- */
    /** Registers the plain C function `fn` under the name in its `prototype`, e.g.
     *    "double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)"
     *  cast to the generic function pointer type: `(void (*)(void))warmup_cosine`. The host
     *  parses the prototype now and calls `fn` through libffi with exactly the declared types,
     *  binding arguments by parameter name (configs, `autoglm call`). Types: void (return only;
     *  `(void)` = no parameters), bool/_Bool, int8_t..int64_t, uint8_t..uint64_t, int, long,
     *  size_t, float, double, `const char *` (a borrowed NUL-terminated string, valid during the
     *  call), and buffers: `const float *` (read only) or `float *` (the function may write it),
     *  each immediately followed by a size_t or int64_t length parameter. Every parameter has
     *  a name: the function's and the parameters' names are [a-z][a-z0-9_]*, at most 64
     *  characters (a buffer's length parameter is exempt: it is never bound by name). A
     *  `const char *` return must point to storage that outlives the call (e.g. a string
     *  literal): the host copies it at once and never frees it; NULL is an error.
     *  `prototype` and `info` (optional, NULL for none) are borrowed: the host copies them.
     *  `fn` must stay valid for the life of the process (the library is never unloaded).
     *  Threading: the host may call `fn` from any thread, and from several threads at once; it
     *  gets no ctx and may not call host functions that take one. A function has no error
     *  channel: return NaN (or a documented sentinel) for arguments it cannot handle.
     *  Fails with AGLM_ERR_INVALID_ARGUMENT and a message (naming the 1-based column of a bad
     *  prototype) on a NULL or malformed prototype, a NULL fn, an info whose struct_size is too
     *  small, or a name already registered by this or another library; with AGLM_ERR_STATE
     *  outside init. Check AGLM_HAS_FIELD(host, aglm_host_api, register_function) first, or
     *  require host ABI 1.2 (min_host_minor 2, as AGLM_DEFINE_PLUGIN does). */
    aglm_status (*register_function)(aglm_ctx *ctx, const char *prototype, void (*fn)(void),
                                     const aglm_function_info *info);

    /* --- more differentiable ops (ABI 1.2; same rules as the ops above: a new host-owned
     *     handle, recorded on the tape inside an attention forward, NULL with the error set on
     *     bad arguments; NULL inputs propagate). Check AGLM_HAS_FIELD(host, aglm_host_api, rotary)
     *     or require host minor 2. `dim` arguments count from the end when negative. --- */
    /** The `length` entries of dimension `dim` starting at `start` (negative: from the end), as
     *  a new tensor (PyTorch's narrow); the gradient flows back into that range. Errors: dim
     *  out of range, start/length outside the dimension. */
    aglm_tensor *(*slice)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim, int64_t start,
                          int64_t length);
    /** Joins the `count` (1..64) tensors of `parts` (borrowed array) along `dim`; they need the
     *  same rank and the same extents elsewhere. A part may appear more than once. */
    aglm_tensor *(*concat)(aglm_ctx *ctx, int32_t count, aglm_tensor *const *parts, int32_t dim);
    /** sin(a), elementwise (within 1 ulp of sinf); gradient g * cos(a). */
    aglm_tensor *(*sin)(aglm_ctx *ctx, aglm_tensor *a);
    /** cos(a), elementwise (within 1 ulp of cosf); gradient -g * sin(a). */
    aglm_tensor *(*cos)(aglm_ctx *ctx, aglm_tensor *a);
    /** sqrt(a), correctly rounded; NaN for a < 0 (no error); gradient g / (2 sqrt(a)) (inf at 0). */
    aglm_tensor *(*sqrt)(aglm_ctx *ctx, aglm_tensor *a);
    /** 1 / sqrt(a) (within 2 ulps); +inf at +0, NaN for a < 0; gradient -g rsqrt(a)^3 / 2. */
    aglm_tensor *(*rsqrt)(aglm_ctx *ctx, aglm_tensor *a);
    /** Maximum over `dim`, keeping it with extent 1 if keepdim (torch.max(a, dim, keepdim)
     *  values). The gradient goes to the first maximal element of each slice (ties toward the
     *  lower index); NaN propagates. Errors: dim out of range or of extent 0. */
    aglm_tensor *(*max)(aglm_ctx *ctx, aglm_tensor *a, int32_t dim, int32_t keepdim);
    /** The larger of a and b elementwise (broadcasting; NaN if either is); the gradient goes to
     *  a where a >= b, else to b (a tie gives a all of it, where torch splits it). */
    aglm_tensor *(*maximum)(aglm_ctx *ctx, aglm_tensor *a, aglm_tensor *b);
    /** Rotary position embedding, rotate-half convention (GPT-NeoX, Hugging Face LLaMA): a is
     *  [..., T, D] with D even, h = D / 2; row t is at position p = t + position_offset, and for
     *  i < h, with angle = p * base^(-2i / D):
     *    out[..., t, i]     = a[..., t, i] cos(angle) - a[..., t, i + h] sin(angle)
     *    out[..., t, i + h] = a[..., t, i + h] cos(angle) + a[..., t, i] sin(angle)
     *  (the cos/sin table is computed in double and rounded once; no [D, D] matrix). The
     *  gradient is the inverse rotation. Errors: fewer than 2 dims, odd D, position_offset < 0,
     *  base not a finite number > 0. Usual base: 10000. */
    aglm_tensor *(*rotary)(aglm_ctx *ctx, aglm_tensor *a, int64_t position_offset, double base);

    /* --- persistent instance constants (ABI 1.2) --- */
    /** A constant tensor (no gradient) copied from `data` (row-major; NULL for zeros) that
     *  belongs to the instance being created: tables, masks, rotation bases built once instead
     *  of a tensor_new in every forward of every layer. Only during an attention component's
     *  `create` (the ctx create received; AGLM_ERR_STATE-style NULL with an error otherwise).
     *  The handle is host-owned and valid in every later call on that instance (forward,
     *  decode: as an op input, with tensor_view, tensor_ndim, tensor_dim) until `destroy`,
     *  after which the host frees the tensor and refuses the handle. Keep it in the instance;
     *  never write through a view of it. Errors (NULL): ndim outside 0..8, a non-positive
     *  extent, more than 2^34 elements. */
    aglm_tensor *(*constant_new)(aglm_ctx *ctx, int32_t ndim, const int64_t *shape,
                                 const float *data);

    /* --- model parameters, for callbacks (ABI 1.2; only inside a callback's on_event, on the
     *     ctx that call received; elsewhere they fail with an error set) --- */
    /** Number of trainable parameters of the model (-1 outside a callback's on_event). */
    int64_t (*model_param_count)(aglm_ctx *ctx);
    /** Describes parameter `index` (0 .. count - 1, the model's order, the same as optimizers'
     *  aglm_param_info.index) and gives a writable view of its values: `info` and `value` are
     *  caller-provided with struct_size set (either may be NULL when not wanted); the host
     *  fills the fields their struct_size covers. The view points at the parameter itself, not
     *  a copy: writing it changes the model (the optimizer and the next forward see the new
     *  values). Both are borrowed for the call (names, shapes and data pointers included).
     *  Errors: AGLM_ERR_INVALID_ARGUMENT for an index out of range or a struct_size too small,
     *  AGLM_ERR_STATE outside on_event. */
    aglm_status (*model_param)(aglm_ctx *ctx, int64_t index, aglm_param_info *info,
                               aglm_view *value);
    /** Index of the parameter named `name` (e.g. "blocks.0.attn.qkv.weight"), or -1 with an
     *  error set when there is none (or outside on_event). */
    int64_t (*model_param_find)(aglm_ctx *ctx, const char *name);

    /* --- workers (ABI 1.2; any time, any thread) --- */
    /** Number of threads host->parallel_for and parallel_for_worker may use at most (>= 1):
     *  the size of a per-worker scratch array. Constant for the life of a session. */
    int32_t (*worker_count)(void);
    /** Like parallel_for, but fn also receives the index of the worker running the chunk (see
     *  aglm_parallel_worker_fn). fn must be thread-safe and may not call functions taking an
     *  aglm_ctx. Called from inside a chunk (nested), its chunks run one after another on that
     *  thread with indices that other chunks of the outer call may be using: nested levels
     *  must not share per-worker scratch. */
    void (*parallel_for_worker)(int64_t n, int64_t min_chunk, aglm_parallel_worker_fn fn,
                                void *user);
} aglm_host_api;

/* ------------------------------------------------------------------------------------------- */
/* The entry point                                                                               */
/* ------------------------------------------------------------------------------------------- */

/** What a plugin library returns from its entry symbol (static storage). */
typedef struct aglm_plugin_entry {
    size_t struct_size;      /**< sizeof(aglm_plugin_entry) */
    uint32_t abi_major;      /**< must be AGLM_ABI_MAJOR (1) */
    uint32_t abi_minor;      /**< AGLM_ABI_MINOR the plugin was compiled against */
    uint32_t min_host_minor; /**< oldest host minor it works with (<= abi_minor) */
    const char *name;        /**< plugin (library) name, e.g. "autoglm-builtin-attention" */
    const char *version;     /**< plugin version */
    /** Required. Registers components through host->register_component. `host` is host-owned
     *  and stays valid for the life of the process; keep the pointer if needed. `ctx` is
     *  borrowed. A failure makes the host skip the whole library (components it already
     *  registered are withdrawn) and report the message. */
    aglm_status (*init)(const aglm_host_api *host, aglm_ctx *ctx);
} aglm_plugin_entry;

/** Type of the entry symbol. */
typedef const aglm_plugin_entry *(*aglm_plugin_entry_fn)(void);

/** Name of the entry symbol of this major version. */
#define AGLM_ENTRY_SYMBOL "aglm_plugin_entry_v1"

/** Declares the entry point; define it in exactly one translation unit of the plugin:
 *    AGLM_PLUGIN_ENTRY { static const aglm_plugin_entry e = {...}; return &e; } */
#define AGLM_PLUGIN_ENTRY AGLM_EXPORT const aglm_plugin_entry *aglm_plugin_entry_v1(void)

/** The entry point every plugin defines (declared here so its signature is checked). */
AGLM_PLUGIN_ENTRY;

#ifdef __cplusplus
}
#endif

#endif /* AUTOGLM_PLUGIN_H */

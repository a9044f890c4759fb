/* Brings libffi (ffi_prep_cif, ffi_call) into Swift, with the addresses of its predefined scalar
 * types: Swift cannot take a stable address of a C global variable, and ffi_prep_cif keeps the
 * ffi_type pointers it is given, so they must be the library's own objects. */
#include <ffi.h>

static inline ffi_type *aglm_ffi_void(void) { return &ffi_type_void; }
static inline ffi_type *aglm_ffi_uint8(void) { return &ffi_type_uint8; }
static inline ffi_type *aglm_ffi_sint8(void) { return &ffi_type_sint8; }
static inline ffi_type *aglm_ffi_uint16(void) { return &ffi_type_uint16; }
static inline ffi_type *aglm_ffi_sint16(void) { return &ffi_type_sint16; }
static inline ffi_type *aglm_ffi_uint32(void) { return &ffi_type_uint32; }
static inline ffi_type *aglm_ffi_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *aglm_ffi_uint64(void) { return &ffi_type_uint64; }
static inline ffi_type *aglm_ffi_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *aglm_ffi_float(void) { return &ffi_type_float; }
static inline ffi_type *aglm_ffi_double(void) { return &ffi_type_double; }
static inline ffi_type *aglm_ffi_pointer(void) { return &ffi_type_pointer; }

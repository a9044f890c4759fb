#!/usr/bin/env python3
"""train.py — examples/c/train.c through Python's ctypes, with no compiled glue.

Trains a small GPT through libautoglm with an optimizer written here in Python — Signum, sign-SGD
with momentum (Bernstein et al. 2018): m = beta * m + (1 - beta) * g; p -= lr * sign(m) — passed
to the library as ctypes callbacks in the same descriptor and vtable a plugin .so would use.

    python3 train.py [--lib PATH] CORPUS RUN_DIR [key=value ...]   train, print the val loss,
                                                                    sample, save RUN_DIR/final
    python3 train.py [--lib PATH] --load RUN_DIR/final             load it back and sample again

The library is --lib, else $AUTOGLM_LIBRARY, else what the dynamic loader finds as libautoglm.
The structs below mirror include/autoglm/autoglm.h and plugin.h field for field.
"""
import ctypes
import ctypes.util
import os
import sys

API_MAJOR, API_MINOR = 1, 0
API_VERSION = API_MAJOR << 16 | API_MINOR
OK, CONTINUE, TRAIN_REMAINING = 0, 0, -1
KIND_OPTIMIZER, PARAM_FLOAT, PROGRESS_STEP, PROGRESS_EVALUATION, DATA_NONE = 2, 1, 1, 2, 2
c_size, c_char_pp, c_void_p = ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p), ctypes.c_void_p


class Struct(ctypes.Structure):
    """A C struct whose fields are listed in order as (name, type) pairs."""


def struct(name, fields):
    return type(name, (Struct,), {"_fields_": fields})


# plugin.h
Dtype = struct("aglm_dtype", [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)])
View = struct("aglm_view", [("struct_size", c_size), ("data", c_void_p), ("ndim", ctypes.c_int32), ("dtype", Dtype),
                            ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64))])
ParamSpec = struct("aglm_param_spec", [
    ("struct_size", c_size), ("name", ctypes.c_char_p), ("type", ctypes.c_int), ("doc", ctypes.c_char_p),
    ("default_number", ctypes.c_double), ("default_string", ctypes.c_char_p), ("default_list", c_void_p),
    ("default_list_length", c_size), ("min", ctypes.c_double), ("max", ctypes.c_double), ("choices", c_void_p),
    ("list_length", c_size)])
ParamInfo = struct("aglm_param_info", [
    ("struct_size", c_size), ("name", ctypes.c_char_p), ("ndim", ctypes.c_int32),
    ("shape", ctypes.POINTER(ctypes.c_int64)), ("numel", ctypes.c_int64), ("decay", ctypes.c_int32),
    ("index", ctypes.c_int32)])
StateDecl = struct("aglm_state_decl", [("struct_size", c_size), ("name", ctypes.c_char * 32), ("ndim", ctypes.c_int32),
                                       ("shape", ctypes.c_int64 * 8)])
OptimStep = struct("aglm_optim_step", [
    ("struct_size", c_size), ("param", ctypes.POINTER(ParamInfo)), ("value", ctypes.POINTER(View)),
    ("grad", ctypes.POINTER(View)), ("states", ctypes.POINTER(ctypes.POINTER(View))), ("state_count", c_size),
    ("lr", ctypes.c_double), ("step", ctypes.c_int64)])
Metric = struct("aglm_metric", [("struct_size", c_size), ("name", ctypes.c_char_p), ("value", ctypes.c_double)])
CREATE = ctypes.CFUNCTYPE(ctypes.c_int32, c_void_p, c_void_p, c_void_p, c_void_p, ctypes.POINTER(c_void_p))
DESTROY = ctypes.CFUNCTYPE(None, c_void_p)
DECLARE = ctypes.CFUNCTYPE(ctypes.c_int32, c_void_p, c_void_p, ctypes.POINTER(ParamInfo), ctypes.POINTER(StateDecl),
                           c_size, ctypes.POINTER(c_size))
STEP = ctypes.CFUNCTYPE(ctypes.c_int32, c_void_p, c_void_p, ctypes.POINTER(OptimStep))
OptimizerVtable = struct("aglm_optimizer_vtable", [("struct_size", c_size), ("declare_state", DECLARE),
                                                   ("step_begin", c_void_p), ("step", STEP)])
ComponentDesc = struct("aglm_component_desc", [
    ("struct_size", c_size), ("kind", ctypes.c_int), ("name", ctypes.c_char_p), ("summary", ctypes.c_char_p),
    ("version", ctypes.c_char_p), ("params", ctypes.POINTER(ParamSpec)), ("param_count", c_size), ("create", CREATE),
    ("destroy", DESTROY), ("save_state", c_void_p), ("load_state", c_void_p), ("vtable", c_void_p)])
HostAPIHead = struct("aglm_host_api", [  # the table's first fields, up to param_number
    ("struct_size", c_size), ("abi_major", ctypes.c_uint32), ("abi_minor", ctypes.c_uint32),
    ("host_version", ctypes.c_char_p), ("log", c_void_p), ("set_error", c_void_p), ("register_component", c_void_p),
    ("param_number", ctypes.CFUNCTYPE(ctypes.c_double, c_void_p, ctypes.c_char_p))])

# autoglm.h
Progress = struct("aglm_progress", [
    ("struct_size", c_size), ("kind", ctypes.c_int32), ("logged", ctypes.c_int32), ("step", ctypes.c_int64),
    ("max_steps", ctypes.c_int64), ("loss", ctypes.c_double), ("lr", ctypes.c_double), ("grad_norm", ctypes.c_double),
    ("step_seconds", ctypes.c_double), ("tokens_per_second", ctypes.c_double), ("elapsed_seconds", ctypes.c_double),
    ("metrics", ctypes.POINTER(Metric)), ("metric_count", c_size)])
PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int32, c_void_p, ctypes.POINTER(Progress))
SessionOptions = struct("aglm_session_options", [
    ("struct_size", c_size), ("config_file", ctypes.c_char_p), ("config_text", ctypes.c_char_p),
    ("config_label", ctypes.c_char_p), ("overrides", c_char_pp), ("override_count", c_size),
    ("use_environment", ctypes.c_int32), ("plugin_dirs", c_char_pp), ("plugin_dir_count", c_size),
    ("bundled_plugins", ctypes.c_int32), ("components", ctypes.POINTER(ctypes.POINTER(ComponentDesc))),
    ("component_count", c_size), ("functions", c_void_p), ("function_count", c_size), ("owner", ctypes.c_char_p),
    ("data", ctypes.c_int32), ("data_text", ctypes.c_char_p), ("resume", ctypes.c_char_p),
    ("checkpoint", ctypes.c_char_p), ("allow_config_change", ctypes.c_int32), ("overwrite", ctypes.c_int32),
    ("progress", PROGRESS), ("progress_user_data", c_void_p), ("log", c_void_p), ("log_user_data", c_void_p)])
SampleOptions = struct("aglm_sample_options", [
    ("struct_size", c_size), ("prompt", ctypes.c_char_p), ("tokens", ctypes.c_int64), ("temperature", ctypes.c_double),
    ("top_k", ctypes.c_int64), ("seed", ctypes.c_uint64), ("on_text", c_void_p), ("user_data", c_void_p)])

CONFIG = b"""model: {n_layer: 2, n_head: 2, n_embd: 32, block_size: 32}
optimizer: {name: signum, lr: 0.002, beta: 0.9}
train: {steps: 200, batch_size: 8, warmup_steps: 10, eval_interval: 100, eval_batches: 8}
"""


def load_library(path):
    """libautoglm with the signatures of the functions used here, refusing another API major."""
    lib = ctypes.CDLL(path or os.environ.get("AUTOGLM_LIBRARY") or ctypes.util.find_library("autoglm") or "libautoglm.so.1")
    session_p = ctypes.POINTER(c_void_p)
    for name, args in [("aglm_session_options_init", [ctypes.POINTER(SessionOptions), ctypes.c_uint32]),
                       ("aglm_sample_options_init", [ctypes.POINTER(SampleOptions), ctypes.c_uint32]),
                       ("aglm_session_create", [ctypes.POINTER(SessionOptions), session_p]),
                       ("aglm_session_train", [c_void_p, ctypes.c_int64, c_void_p]),
                       ("aglm_session_metric", [c_void_p, c_size, c_char_pp, ctypes.POINTER(ctypes.c_double)]),
                       ("aglm_session_save", [c_void_p, ctypes.c_char_p]),
                       ("aglm_session_step", [c_void_p, ctypes.POINTER(ctypes.c_int64)]),
                       ("aglm_session_sample", [c_void_p, ctypes.POINTER(SampleOptions), c_char_pp]),
                       ("aglm_session_free", [c_void_p])]:
        getattr(lib, name).argtypes, getattr(lib, name).restype = args, ctypes.c_int32
    lib.aglm_api_version.restype = ctypes.c_uint32
    lib.aglm_last_error.restype = ctypes.c_char_p
    lib.aglm_host_api_table.restype = ctypes.POINTER(HostAPIHead)
    if lib.aglm_api_version() >> 16 != API_MAJOR:
        sys.exit(f"train.py: libautoglm speaks API {lib.aglm_api_version() >> 16}.x, this script {API_MAJOR}.{API_MINOR}")
    return lib


class Signum:
    """The optimizer: a descriptor whose callbacks are kept alive as long as this object."""

    def __init__(self, lib):
        host = lib.aglm_host_api_table().contents
        self.beta = 0.9

        def create(ctx, params, info, layout, instance):
            self.beta = host.param_number(params, b"beta")
            instance[0] = None
            return OK

        def declare_state(instance, ctx, param, decls, capacity, count):
            p = param.contents
            decls[0].name = b"momentum"
            decls[0].ndim = p.ndim
            for d in range(p.ndim):
                decls[0].shape[d] = p.shape[d]
            count[0] = 1
            return OK

        def step(instance, ctx, args):
            a = args.contents
            n, beta, lr = a.param.contents.numel, self.beta, a.lr
            p = (ctypes.c_float * n).from_address(a.value.contents.data)
            g = (ctypes.c_float * n).from_address(a.grad.contents.data)
            m = (ctypes.c_float * n).from_address(a.states[0].contents.data)
            for i in range(n):
                mi = beta * m[i] + (1 - beta) * g[i]
                m[i] = mi
                p[i] -= lr * ((mi > 0) - (mi < 0))
            return OK

        self.callbacks = (CREATE(create), DESTROY(lambda instance: None), DECLARE(declare_state), STEP(step))
        self.params = (ParamSpec * 1)(ParamSpec(ctypes.sizeof(ParamSpec), b"beta", PARAM_FLOAT,
                                                b"momentum of the gradient's running mean", 0.9, None, None, 0, 0.0, 1.0))
        self.vtable = OptimizerVtable(ctypes.sizeof(OptimizerVtable), self.callbacks[2], None, self.callbacks[3])
        self.desc = ComponentDesc(ctypes.sizeof(ComponentDesc), KIND_OPTIMIZER, b"signum",
                                  b"sign of the gradient's momentum (Bernstein et al. 2018)", b"1.0.0", self.params, 1,
                                  self.callbacks[0], self.callbacks[1], None, None,
                                  ctypes.cast(ctypes.pointer(self.vtable), c_void_p))
        self.list = (ctypes.POINTER(ComponentDesc) * 1)(ctypes.pointer(self.desc))


@PROGRESS
def progress(user, record):
    p = record.contents
    if p.kind == PROGRESS_STEP and p.logged:
        print(f"step {p.step} loss {p.loss:.4f} lr {p.lr:.2e}", flush=True)
    for i in range(p.metric_count if p.kind == PROGRESS_EVALUATION else 0):
        print(f"eval {p.step} {p.metrics[i].name.decode()} {p.metrics[i].value:.4f}", flush=True)
    return CONTINUE


def check(lib, status, what):
    if status != OK:
        sys.exit(f"train.py: {what}: {lib.aglm_last_error().decode()}")


def main(argv):
    lib_path = None
    if len(argv) > 2 and argv[0] == "--lib":
        lib_path, argv = argv[1], argv[2:]
    loading = len(argv) == 2 and argv[0] == "--load"
    if not loading and len(argv) < 2:
        sys.exit("usage: train.py [--lib PATH] CORPUS RUN_DIR [key=value ...] | train.py [--lib PATH] --load CHECKPOINT")
    lib = load_library(lib_path)
    signum = Signum(lib)
    o = SessionOptions()
    check(lib, lib.aglm_session_options_init(ctypes.byref(o), API_VERSION), "options")
    o.components, o.component_count = signum.list, 1
    if loading:  # the checkpoint's own config; no data: sampling only
        o.resume, o.data = argv[1].encode(), DATA_NONE
    else:
        overrides = [f"data.path={argv[0]}", f"run.dir={argv[1]}"] + argv[2:]
        keep = (ctypes.c_char_p * len(overrides))(*[s.encode() for s in overrides])
        o.config_text, o.overrides, o.override_count, o.overwrite = CONFIG, keep, len(overrides), 1
        o.progress = progress
    session = c_void_p()
    check(lib, lib.aglm_session_create(ctypes.byref(o), ctypes.byref(session)), "create")
    if not loading:
        check(lib, lib.aglm_session_train(session, TRAIN_REMAINING, None), "train")
        name, value, i = ctypes.c_char_p(), ctypes.c_double(), 0
        while lib.aglm_session_metric(session, i, ctypes.byref(name), ctypes.byref(value)) == OK:
            if name.value == b"val/loss":
                print(f"val loss {value.value:.4f}")
            i += 1
        path = os.path.join(argv[1], "final")
        check(lib, lib.aglm_session_save(session, path.encode()), "save")
        print(f"saved {path}")
    step = ctypes.c_int64()
    check(lib, lib.aglm_session_step(session, ctypes.byref(step)), "step")
    print(f"trained steps {step.value}")
    s = SampleOptions()
    check(lib, lib.aglm_sample_options_init(ctypes.byref(s), API_VERSION), "sample options")
    s.prompt, s.tokens, s.seed = b" ", 80, 7
    text = ctypes.c_char_p()
    check(lib, lib.aglm_session_sample(session, ctypes.byref(s), ctypes.byref(text)), "sample")
    print(f"sample: {text.value.decode()}")
    check(lib, lib.aglm_session_free(session), "free")


if __name__ == "__main__":
    main(sys.argv[1:])

/*
 * autoglm/autoglm.h — the AutoGLM embedding API, version 1.0: drive a whole training from C, or
 * from any language with a C FFI (Python's ctypes, Rust, Go's cgo, Julia), by linking
 * libautoglm.so. No Swift knowledge needed; no initialisation call either.
 *
 *     aglm_session_options o;
 *     aglm_session *s;
 *     aglm_session_options_init(&o, AGLM_API_VERSION);
 *     o.config_text = "train: {steps: 100}\nrun: {dir: runs/c}\n";
 *     if (aglm_session_create(&o, &s) != AGLM_OK) { fprintf(stderr, "%s\n", aglm_last_error()); ... }
 *     aglm_session_train(s, AGLM_TRAIN_REMAINING, NULL);
 *     aglm_session_free(s);
 *
 * examples/c/train.c is a complete program (with an optimizer of its own); examples/python/
 * train.py the same through ctypes. Build a program with
 *     cc $(pkg-config --cflags --libs autoglm) prog.c
 *
 * Conventions that hold for the whole header:
 *  - Versioning: AGLM_API_MAJOR changes only on an incompatible change (and the library's
 *    soname, libautoglm.so.<major>, with it). Minor versions only append: fields at the end of
 *    structs, new functions, new status codes and enum values. This version is independent of
 *    the plugin ABI's (plugin.h's AGLM_ABI_MAJOR/MINOR, which this header includes because
 *    in-process components use its descriptors and vtables). A program passes the version it
 *    was compiled against, AGLM_API_VERSION, to every `_init` function: the library refuses
 *    another major, or a newer minor than its own, with AGLM_ERR_VERSION and a message saying
 *    both versions. aglm_api_version() returns the library's version.
 *  - Structs the program fills start with `struct_size` and are prepared by their
 *    `_init(&s, AGLM_API_VERSION)` function, which sets struct_size (to the size of the struct
 *    in that header version) and every default; then set only the fields you need. The library
 *    never reads a field beyond struct_size, so a program built against 1.0 keeps working with
 *    any 1.x library. A struct_size smaller than the 1.0 struct is refused with
 *    AGLM_ERR_INVALID_ARGUMENT. Structs the library fills and lends to the program
 *    (aglm_progress) have no `_init`: the library sets their struct_size to its own size, so
 *    read a field newer than your header's minor only after AGLM_HAS_FIELD (plugin.h).
 *    plugin.h's structs that the library fills (aglm_view, aglm_param_spec) follow plugin.h:
 *    the program sets struct_size = sizeof, the library fills what fits.
 *  - Handles: aglm_session is opaque; aglm_session_create makes one and aglm_session_free ends
 *    it. The library keeps the set of live handles and looks every handle it receives up in it
 *    before touching it, so NULL, a freed handle or any other value is refused with
 *    AGLM_ERR_HANDLE, never dereferenced. Handle values are never reused.
 *  - Errors: every function that can fail returns aglm_status: AGLM_OK (0) or a code (plugin.h's
 *    codes plus the AGLM_ERR_* below). On failure, aglm_last_error() on the same thread gives the
 *    message, which names the key, file or argument at fault and the fix. Every pointer, handle
 *    and size argument is checked (a NULL where one is required, an index out of range, a
 *    wrong struct_size are errors). No error, exception or trap of the library's crosses this
 *    boundary. Out-pointers are written only on success. An array argument holds at most 65536
 *    items: a larger count is taken for an uninitialised one and refused.
 *  - Ownership: "borrowed until X" means the library owns it and it stays valid until X: do not
 *    free it, copy what you keep. "Caller-owned" means the library keeps no pointer to it after
 *    the call returns (it copies what it needs), unless the function says otherwise.
 *    Strings are UTF-8 and NUL-terminated.
 *  - Threading: a session is used by one thread at a time; a call while another thread is inside
 *    the same session fails with AGLM_ERR_BUSY (aglm_session_request_stop is the exception:
 *    callable from any thread at any time). Several sessions may be used on several threads at
 *    once, and each gives bit-identical results to the same session run alone. Functions without
 *    a session argument may be called from any thread. A callback (progress, log, streamed
 *    text) runs on the thread inside the session's call and may not call functions of the same
 *    session except aglm_session_request_stop (the others fail with AGLM_ERR_BUSY).
 *
 * Design choices, and whose they are:
 *  - libgit2 (git2/errors.h, git2/clone.h): a thread-local last error message, valid until the
 *    next failing call on the same thread; options structs filled by
 *    `_init(&opts, VERSION)`; objects used from one thread at a time.
 *  - ONNX Runtime (onnxruntime_c_api.h): the library refuses a program compiled against a newer
 *    header than itself (OrtGetApiBase()->GetApi(ORT_API_VERSION) returns NULL then; here the
 *    `_init` functions return AGLM_ERR_VERSION); append-only growth of every struct. Not taken:
 *    one exported function table (plain exported functions are what C programs and ctypes call
 *    by name), and OrtStatus objects that the caller must release (a thread-local message
 *    leaves nothing to free, which suits every FFI).
 *  - llama.cpp (llama.h): a progress callback that can stop the work (llama_progress_callback
 *    returns false to abort; here AGLM_STOP), a log callback with user data — but per session,
 *    where llama_log_set is process-wide and "not thread safe"; program-provided vtables
 *    (llama_sampler_i) — here exactly the plugin ABI's descriptors and vtables, so code moves
 *    between a program and a .so unchanged; ownership stated on every function.
 *  - mlx-c (mlx/c/array.h): every function returns a status and writes its results through
 *    out-pointers, never an in-band sentinel; opaque handles with `_create`/`_free` (mlx-c's
 *    `_new`/`_free`), here plain pointers rather than mlx-c's by-value {void *ctx} structs.
 *  - The plugin ABI (plugin.h, after CLAP and PJRT): struct_size first in every struct,
 *    AGLM_HAS_FIELD, status codes with a message, "borrowed" and "host-owned" words.
 */
#ifndef AUTOGLM_AUTOGLM_H
#define AUTOGLM_AUTOGLM_H

#include "plugin.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version of this API: changes only on an incompatible change (with the soname). */
#define AGLM_API_MAJOR 1
/** Minor version of this header: additions only. */
#define AGLM_API_MINOR 1
/** The version this header describes, as passed to the `_init` functions: major << 16 | minor. */
#define AGLM_API_VERSION (((uint32_t)AGLM_API_MAJOR << 16) | (uint32_t)AGLM_API_MINOR)

/** Marks the functions of this header as exported by libautoglm.so. */
#if defined(_WIN32)
#define AGLM_API __declspec(dllimport)
#else
#define AGLM_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------------- */
/* Status codes beyond plugin.h's AGLM_OK ... AGLM_ERR_INTERNAL (which keep their meaning)       */
/* ------------------------------------------------------------------------------------------- */

/** The program's header version does not match the library's (another major, or a newer
 *  minor): rebuild against the installed header or install a matching libautoglm. */
#define AGLM_ERR_VERSION 100
/** A session handle that is NULL, freed, or was never returned by aglm_session_create. */
#define AGLM_ERR_HANDLE 101
/** The session is in use by another thread (or by the callback running inside it). */
#define AGLM_ERR_BUSY 102
/** The configuration, its data or a config override is invalid (the message names the key). */
#define AGLM_ERR_CONFIG 103
/** A plugin or in-process component failed, or one could not be registered. */
#define AGLM_ERR_PLUGIN 104
/** A checkpoint could not be written, read, or does not fit this session. */
#define AGLM_ERR_CHECKPOINT 105

/** What a callback returns: go on. */
#define AGLM_CONTINUE 0
/** What a callback returns: stop (training ends after the current step; sampling ends). */
#define AGLM_STOP 1

/** `steps` of aglm_session_train: train up to the configured train.steps. */
#define AGLM_TRAIN_REMAINING (-1)

/* ------------------------------------------------------------------------------------------- */
/* Library-wide functions (any thread, any time)                                                 */
/* ------------------------------------------------------------------------------------------- */

/** The library's API version, major << 16 | minor (compare with AGLM_API_VERSION). Never
 *  fails.
 *  Threads: any thread, at any time. */
AGLM_API uint32_t aglm_api_version(void);

/** The library's release, e.g. "0.1.0". Borrowed for the life of the process. Never fails.
 *  Threads: any thread, at any time. */
AGLM_API const char *aglm_version_string(void);

/** The message of the last call that failed on the calling thread ("" if none has). Borrowed
 *  until the next failing call on this thread; thread-local, so copy it before handing it to
 *  another thread. Successful calls leave it unchanged. Never fails, never NULL.
 *  Threads: any thread; each thread reads its own message. */
AGLM_API const char *aglm_last_error(void);

/** The name of a status code, e.g. "AGLM_ERR_BUSY" ("AGLM_ERR_UNKNOWN" for a value no version
 *  of this header defines). Borrowed for the life of the process. Never fails.
 *  Threads: any thread, at any time. */
AGLM_API const char *aglm_status_name(aglm_status status);

/** The host API table that plugins receive in `init`, for in-process components: call its
 *  functions (set_error, log, param_*, tensor ops, ...) from your components' vtable functions
 *  exactly as a plugin does, under the same rules (plugin.h). Borrowed for the life of the
 *  process (never NULL). Never fails.
 *  Threads: any thread, at any time. */
AGLM_API const aglm_host_api *aglm_host_api_table(void);

/* ------------------------------------------------------------------------------------------- */
/* Callbacks                                                                                     */
/* ------------------------------------------------------------------------------------------- */

/** Kinds of progress record. */
typedef enum aglm_progress_kind {
    AGLM_PROGRESS_STEP = 1,      /**< an optimizer step finished */
    AGLM_PROGRESS_EVALUATION = 2 /**< an evaluation finished; metrics holds its results */
} aglm_progress_kind;

/** One progress record: filled by the library (struct_size = the library's sizeof), borrowed
 *  for the duration of the callback that receives it. */
typedef struct aglm_progress {
    size_t struct_size;        /**< sizeof(aglm_progress) as known to the library */
    int32_t kind;              /**< an aglm_progress_kind */
    int32_t logged;            /**< 1 when this step was written to the run's log.jsonl */
    int64_t step;              /**< optimizer steps completed */
    int64_t max_steps;         /**< the configured train.steps */
    double loss;               /**< mean training loss of the step */
    double lr;                 /**< learning rate of the step */
    double grad_norm;          /**< global gradient norm of the step, before clipping */
    double step_seconds;       /**< wall time of this step alone (0 for an evaluation) */
    double tokens_per_second;  /**< training tokens per second so far */
    double elapsed_seconds;    /**< wall time of training and evaluation so far */
    const aglm_metric *metrics; /**< kind EVALUATION: its metrics ("val/loss", ...); else NULL */
    size_t metric_count;       /**< number of metrics */
} aglm_progress;

/** Receives every step's and every evaluation's record; returns AGLM_CONTINUE, or AGLM_STOP
 *  (any other value) to end training after this step (which then evaluates, checkpoints and
 *  returns). Runs on the thread inside aglm_session_train or aglm_session_evaluate.
 *  `user_data` is the program's. */
typedef int32_t (*aglm_progress_fn)(void *user_data, const aglm_progress *progress);

/** Receives one log line of the host or of a plugin (`message` borrowed for the call). Runs on
 *  the thread inside a call of the session (a line a plugin logs from one of the host's worker
 *  threads, inside parallel_for, goes to standard error instead). */
typedef void (*aglm_log_fn)(void *user_data, aglm_log_level level, const char *message);

/** Receives each piece of sampled text as it is made (`piece` borrowed for the call, one
 *  character); returns AGLM_CONTINUE, or AGLM_STOP (any other value) to end sampling there. */
typedef int32_t (*aglm_text_fn)(void *user_data, const char *piece);

/* ------------------------------------------------------------------------------------------- */
/* In-process functions by prototype                                                             */
/* ------------------------------------------------------------------------------------------- */

/** A plain C function of the program, registered by its prototype as a plugin's
 *  host->register_function would (plugin.h states the prototype rules). Caller-owned: the
 *  library copies the strings; `fn` must stay valid while any session that registered it
 *  lives, and may be called from several threads at once. */
typedef struct aglm_function_decl {
    size_t struct_size;    /**< set by aglm_function_decl_init */
    const char *prototype; /**< e.g. "double my_lr(int64_t step, double base_lr)"; required */
    void (*fn)(void);      /**< the function, cast to void (*)(void); required */
    const char *doc;       /**< one line for listings, or NULL */
    const char *example_args; /**< e.g. "step=10 base_lr=0.001", or NULL */
} aglm_function_decl;

/** Prepares `decl`: struct_size for `api_version`, every pointer NULL.
 *  Fails: AGLM_ERR_INVALID_ARGUMENT (NULL decl), AGLM_ERR_VERSION.
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_function_decl_init(aglm_function_decl *decl, uint32_t api_version);

/* ------------------------------------------------------------------------------------------- */
/* Session options                                                                               */
/* ------------------------------------------------------------------------------------------- */

/** Where a session's training text comes from. */
typedef enum aglm_data_source {
    AGLM_DATA_CONFIG = 0, /**< the file or directory of the config's data.path (default) */
    AGLM_DATA_TEXT = 1,   /**< the text in `data_text` */
    AGLM_DATA_NONE = 2    /**< none: a session that resumes a checkpoint to sample it (no training) */
} aglm_data_source;

/** How to build a session. Prepare it with aglm_session_options_init, then set what you need.
 *  Caller-owned: aglm_session_create copies every string and array it needs during the call,
 *  except the component descriptors' vtables (static storage, as for plugins) and the callbacks
 *  and their user data, which must stay valid while the session lives. */
typedef struct aglm_session_options {
    size_t struct_size;      /**< set by aglm_session_options_init */
    /** A YAML config file, or NULL (defaults plus config_text and overrides). */
    const char *config_file;
    /** A YAML config as text (instead of config_file), or NULL. */
    const char *config_text;
    /** The name config_text goes by in error messages (default "config text"). */
    const char *config_label;
    /** `key=value` overrides, applied over the file like `--set` (the last of a key wins). */
    const char *const *overrides;
    size_t override_count;   /**< number of overrides */
    /** 1: the process environment is a config layer (AUTOGLM_<KEY> variables) and
     *  AUTOGLM_PLUGIN_PATH adds plugin folders, as for the `autoglm` tool. Default 0: a program's
     *  config depends only on what it passes here. Either way the session reads an MPI launch
     *  from the process environment (see aglm_session_create): that is the process's, not the
     *  config's. */
    int32_t use_environment;
    /** Plugin folders (or .so files) searched first, in order. */
    const char *const *plugin_dirs;
    size_t plugin_dir_count; /**< number of plugin_dirs */
    /** 1 (default): also search the bundled plugins (next to libautoglm.so in a build, or
     *  PREFIX/lib/autoglm/plugins when installed); 0: only plugin_dirs and the config's. */
    int32_t bundled_plugins;
    /** The program's own components: descriptors exactly as a plugin passes them to
     *  host->register_component (copied; the vtables must be static). Their functions receive
     *  the same host API (aglm_host_api_table()). A name that a loaded plugin already has is
     *  refused, naming both. */
    const aglm_component_desc *const *components;
    size_t component_count;  /**< number of components */
    /** The program's own functions by prototype. */
    const aglm_function_decl *const *functions;
    size_t function_count;   /**< number of functions */
    /** Names the program's components and functions in listings and messages, like a plugin's
     *  file (default "in-process"). */
    const char *owner;
    /** An aglm_data_source (default AGLM_DATA_CONFIG). */
    int32_t data;
    /** With AGLM_DATA_TEXT: the training text, tokenized like a file's. */
    const char *data_text;
    /** Continue from a checkpoint: a run directory (its `checkpoint` choice) or a checkpoint
     *  directory, or NULL. Without config_file/config_text the config is the checkpoint's; any
     *  difference from it is refused unless allow_config_change. Training continues bit for bit
     *  in the run's directory. */
    const char *resume;
    /** Which checkpoint of the run `resume` names: "latest" (default), "best", or a step "500". */
    const char *checkpoint;
    /** 1: accept (and log) differences between the config or components and the checkpoint's. */
    int32_t allow_config_change;
    /** 1: replace a previous run in run.dir (otherwise a new run refuses a folder holding one). */
    int32_t overwrite;
    /** Receives every step and evaluation, or NULL. */
    aglm_progress_fn progress;
    void *progress_user_data; /**< passed to progress */
    /** Receives the host's and the plugins' log lines, or NULL for standard error. */
    aglm_log_fn log;
    void *log_user_data;     /**< passed to log */
} aglm_session_options;

/** Prepares `options` with the defaults above. Fails: AGLM_ERR_INVALID_ARGUMENT (NULL),
 *  AGLM_ERR_VERSION (another major, or a newer minor than the library's).
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_session_options_init(aglm_session_options *options, uint32_t api_version);

/* ------------------------------------------------------------------------------------------- */
/* Sessions                                                                                      */
/* ------------------------------------------------------------------------------------------- */

/** One training run: resolved config, plugins and the program's components, tokenizer, data,
 *  model, optimizer, trainer state, run directory. Opaque. */
typedef struct aglm_session aglm_session;

/** Builds a session as `options` describe: loads the config layers and the plugins, registers
 *  the program's components and functions, validates the whole config against them, reads the
 *  data, creates the model and the run directory (or resumes a checkpoint). On success *session
 *  is a new handle, caller-owned: free it with aglm_session_free. `options` is caller-owned
 *  (see aglm_session_options for what must outlive the session).
 *  (API 1.1) Under mpirun (the process environment holds OMPI_COMM_WORLD_SIZE or PMIX_RANK, whatever
 *  use_environment says), a session with data trains data-parallel like `autoglm train`: every
 *  rank creates it and makes the same calls in the same order; rank 0 alone writes the run
 *  directory and checkpoints (aglm_session_save returns AGLM_OK on the others without writing)
 *  and calls `progress`. MPI is initialised by the first such session and finalised at process
 *  exit, unless the program initialised it already (MPI_Initialized): the library then uses it,
 *  on its own duplicate of MPI_COMM_WORLD, and never finalises it (initialise it before the
 *  first session, MPI_THREAD_SERIALIZED if sessions are used off the main thread). One
 *  data-parallel session per process at a time; the next one, after aglm_session_free, uses the
 *  same MPI.
 *  Fails: AGLM_ERR_INVALID_ARGUMENT (NULL options or session, struct_size, both config_file and
 *  config_text, a bad data source), AGLM_ERR_CONFIG, AGLM_ERR_PLUGIN (a component that failed
 *  to create or register, a name clash), AGLM_ERR_CHECKPOINT (resume), AGLM_ERR_STATE (under
 *  mpirun: MPI is not usable or was finalised, or another data-parallel session is alive).
 *  Threads: any thread; the new session is then used by one thread at a time. */
AGLM_API aglm_status aglm_session_create(const aglm_session_options *options, aglm_session **session);

/** Ends a session: destroys its components and frees everything it lent. The handle is then
 *  refused by every function. Not while another thread is inside the session (AGLM_ERR_BUSY).
 *  plugin.h promises a component's `destroy` runs on the thread that created it: free a session
 *  on the thread that created it to keep that promise to its plugins.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_free(aglm_session *session);

/** Asks a running aglm_session_train to stop after its current step (it then evaluates,
 *  checkpoints and returns normally); asked between calls, the next train stops after its first
 *  step. Fails: AGLM_ERR_HANDLE.
 *  Threads: any thread at any time, also while another thread trains the session, and from the
 *  session's own callbacks. */
AGLM_API aglm_status aglm_session_request_stop(aglm_session *session);

/* ----- training ----------------------------------------------------------------------------- */

/** What a call that trained reports. */
typedef struct aglm_train_result {
    size_t struct_size;    /**< set by aglm_train_result_init */
    int64_t steps;         /**< optimizer steps completed in the run so far */
    double final_loss;     /**< mean training loss of the last step */
    double seconds;        /**< wall time of training and evaluation so far */
    double train_seconds;  /**< wall time of the training steps alone so far */
    int32_t stopped_early; /**< 1 when a callback, the progress callback or a stop request ended it */
} aglm_train_result;

/** Prepares `result` (struct_size for `api_version`, zeros). Fails: AGLM_ERR_INVALID_ARGUMENT,
 *  AGLM_ERR_VERSION.
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_train_result_init(aglm_train_result *result, uint32_t api_version);

/** Trains `steps` more optimizer steps (AGLM_TRAIN_REMAINING: up to train.steps), or until a
 *  callback, the progress callback or aglm_session_request_stop ends it; callable again to
 *  continue exactly where it stopped. Evaluates every train.eval_interval steps and at the end,
 *  checkpoints as configured and at the end. `result` is optional (NULL) and caller-owned.
 *  Invalidates what earlier calls lent (parameter views, metric names).
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (steps < -1, struct_size),
 *  AGLM_ERR_CONFIG (a session created with AGLM_DATA_NONE), AGLM_ERR_NUMERIC (a non-finite step
 *  with train.on_nonfinite stop), AGLM_ERR_PLUGIN (a component failed), AGLM_ERR_CHECKPOINT (the
 *  run's files), AGLM_ERR_STATE (under mpirun: the ranks drifted apart, found at a checkpoint,
 *  which is then not written; or another rank ended); after a failure the last good state has
 *  been checkpointed (after a drift: the previous checkpoint).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_train(aglm_session *session, int64_t steps, aglm_train_result *result);

/** Evaluates now: mean validation loss over train.eval_batches batches and every evaluator's
 *  metrics, which then are the session's metrics (aglm_session_metric). If `count` is not
 *  NULL, *count is the number of metrics. Invalidates earlier metric names.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_PLUGIN, AGLM_ERR_CONFIG (AGLM_DATA_NONE).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_evaluate(aglm_session *session, size_t *count);

/** The number of metrics of the latest evaluation (by train or evaluate; 0 before any).
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL count).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_metric_count(aglm_session *session, size_t *count);

/** Metric `index` of the latest evaluation: its name ("val/loss", "val/perplexity", ...;
 *  borrowed until the next call that trains, evaluates, loads or frees the session) and value.
 *  Either out-pointer may be NULL. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT (index out of range).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_metric(aglm_session *session, size_t index, const char **name, double *value);

/* ----- the run's state ------------------------------------------------------------------------ */

/** Optimizer steps completed. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_step(aglm_session *session, int64_t *step);

/** Mean training loss of the last step (NaN before the first). Fails as aglm_session_step.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_loss(aglm_session *session, double *loss);

/** Learning rate of the last step (0 before the first). Fails as aglm_session_step.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_lr(aglm_session *session, double *lr);

/** The number of trainable scalars of the model. Fails as aglm_session_step.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_parameter_count(aglm_session *session, int64_t *count);

/** The run directory's path. Borrowed until the session is freed. Fails as aglm_session_step.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_run_dir(aglm_session *session, const char **path);

/* ----- parameters ----------------------------------------------------------------------------- */

/** The number of parameter tensors. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_tensor_count(aglm_session *session, size_t *count);

/** The name of parameter tensor `index` (e.g. "blocks.0.attn.qkv.weight"), in the model's
 *  order. Borrowed until the session is freed. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT (index out of range, NULL name).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_tensor_name(aglm_session *session, size_t index, const char **name);

/** A read-only view of the parameter `name`: `view` is caller-provided with struct_size set to
 *  sizeof(aglm_view); the library fills a dense row-major float32 view whose data, shape and
 *  strides are borrowed until the next call that trains, loads or frees the session. Never
 *  write through view->data. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT (NULL, struct_size, no parameter of that name).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_parameter(aglm_session *session, const char *name, aglm_view *view);

/* ----- sampling ------------------------------------------------------------------------------- */

/** How to sample. */
typedef struct aglm_sample_options {
    size_t struct_size;   /**< set by aglm_sample_options_init */
    const char *prompt;   /**< required: non-empty, characters of the model's vocabulary */
    int64_t tokens;       /**< characters to generate (default 200, >= 0) */
    double temperature;   /**< softmax temperature (default 0.8, > 0) */
    int64_t top_k;        /**< sample among the k most likely (default 0: all) */
    uint64_t seed;        /**< the sampler's random seed (default 1337): same seed, same text */
    /** Receives each new character as it is made, or NULL. */
    aglm_text_fn on_text;
    void *user_data;      /**< passed to on_text */
} aglm_sample_options;

/** Prepares `options` with the defaults above (prompt NULL). Fails: AGLM_ERR_INVALID_ARGUMENT,
 *  AGLM_ERR_VERSION.
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_sample_options_init(aglm_sample_options *options, uint32_t api_version);

/** Continues options->prompt by options->tokens characters (fewer if on_text stops it). *text is
 *  the generated text without the prompt, borrowed until the next aglm_session_sample on this
 *  session or its free. Deterministic for a given model, prompt and seed.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL, struct_size, an empty
 *  prompt or one with a character outside the model's vocabulary, tokens < 0, temperature not
 *  finite and > 0, top_k < 0).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_sample(aglm_session *session, const aglm_sample_options *options,
                                         const char **text);

/* ----- checkpoints ---------------------------------------------------------------------------- */

/** Writes the whole training state (weights, optimizer state, trainer state with both random
 *  streams, components' state, config, tokenizer) as a checkpoint directory at `path`,
 *  replacing one there; atomically: a crash leaves the old directory or the new one.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL), AGLM_ERR_CHECKPOINT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_save(aglm_session *session, const char *path);

/** Puts the training state of the checkpoint directory `path` into this session, so that
 *  training continues exactly from it. The checkpoint must be of this session's config and
 *  components: every difference is listed and refused unless allow_config_change is 1 (then
 *  they are logged). Invalidates parameter views and metric names.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL),
 *  AGLM_ERR_CHECKPOINT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_load(aglm_session *session, const char *path, int32_t allow_config_change);

/* ----- what the session found ----------------------------------------------------------------- */

/** One registered component (from a plugin or the program). */
typedef struct aglm_component_info {
    size_t struct_size;         /**< set by aglm_component_info_init */
    int32_t kind;               /**< an aglm_kind */
    const char *name;           /**< the name configs select it by */
    const char *version;        /**< the component's own version */
    const char *summary;        /**< one line */
    const char *file;           /**< the plugin file, or the options' owner for the program's */
    const char *abi;            /**< the plugin ABI it was built against, e.g. "1.2" */
    const char *attention_path; /**< attention: "composed" or "fused"; NULL for other kinds */
    size_t param_count;         /**< parameters in its schema (aglm_session_component_param) */
} aglm_component_info;

/** Prepares `info` (struct_size for `api_version`). Fails: AGLM_ERR_INVALID_ARGUMENT,
 *  AGLM_ERR_VERSION.
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_component_info_init(aglm_component_info *info, uint32_t api_version);

/** The number of components the session can use, sorted by kind then name. Fails:
 *  AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_component_count(aglm_session *session, size_t *count);

/** Fills `info` (prepared by aglm_component_info_init) for component `index`; its strings are
 *  borrowed until the session is freed. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT (NULL, struct_size, index out of range).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_component(aglm_session *session, size_t index, aglm_component_info *info);

/** Fills `spec` (plugin.h's aglm_param_spec; set spec->struct_size = sizeof(aglm_param_spec))
 *  with parameter `param` of component `component`'s schema: name, type, doc, default, bounds,
 *  choices (NULL-terminated), list length. Pointers are borrowed until the session is freed.
 *  Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL, struct_size, an
 *  index out of range).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_component_param(aglm_session *session, size_t component, size_t param,
                                                  aglm_param_spec *spec);

/** One registered function by prototype (from a plugin or the program). */
typedef struct aglm_function_entry {
    size_t struct_size;       /**< set by aglm_function_entry_init */
    const char *name;         /**< the function's name */
    const char *prototype;    /**< its prototype, canonically spelled */
    const char *doc;          /**< one line ("" if none) */
    const char *example_args; /**< documented example arguments ("" if none) */
    const char *origin;       /**< the plugin file, or the options' owner for the program's */
} aglm_function_entry;

/** Prepares `entry` (struct_size for `api_version`). Fails: AGLM_ERR_INVALID_ARGUMENT,
 *  AGLM_ERR_VERSION.
 *  Threads: any thread (the struct is the caller's). */
AGLM_API aglm_status aglm_function_entry_init(aglm_function_entry *entry, uint32_t api_version);

/** The number of registered functions, sorted by name. Fails: AGLM_ERR_HANDLE, AGLM_ERR_BUSY,
 *  AGLM_ERR_INVALID_ARGUMENT.
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_function_count(aglm_session *session, size_t *count);

/** Fills `entry` for function `index`; strings borrowed until the session is freed. Fails:
 *  AGLM_ERR_HANDLE, AGLM_ERR_BUSY, AGLM_ERR_INVALID_ARGUMENT (NULL, struct_size, index).
 *  Threads: one thread at a time in this session (else AGLM_ERR_BUSY). */
AGLM_API aglm_status aglm_session_function(aglm_session *session, size_t index, aglm_function_entry *entry);

#ifdef __cplusplus
}
#endif

#endif /* AUTOGLM_AUTOGLM_H */

/*
 * step_decay.c — a complete AutoGLM plugin registering one learning-rate schedule by its C
 * prototype: base_lr * gamma^floor(step / every), like torch.optim.lr_scheduler.StepLR.
 *
 * Build:  cc -shared -fPIC -O2 -I include -o step_decay.so step_decay.c -lm
 * Try:    autoglm call --plugins step_decay.so step_decay step=250 base_lr=0.001 every=100 gamma=0.5
 */
#include <autoglm/helpers.h>

#include <math.h>

/* Pure, so the host may call it from any thread. A function has no error channel: it returns
 * NaN for arguments it cannot use. */
static double step_decay(int64_t step, double base_lr, int64_t every, double gamma) {
    if (every <= 0 || step < 0) return NAN;
    return base_lr * pow(gamma, (double)(step / every));
}

/* init registers the function: the host parses the prototype (and refuses a bad one with the
 * column), binds arguments by these parameter names and calls step_decay through libffi. */
static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_function_info info = aglm_function("base_lr * gamma^floor(step/every) (torch StepLR)",
                                            "step=250 base_lr=0.001 every=100 gamma=0.5");
    return host->register_function(
        ctx, "double step_decay(int64_t step, double base_lr, int64_t every, double gamma)",
        AGLM_FN(step_decay), &info);
}

AGLM_DEFINE_PLUGIN("step-decay", "1.0.0", init);

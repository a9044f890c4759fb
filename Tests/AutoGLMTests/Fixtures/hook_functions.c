/*
 * Test fixture: functions for the trainer's hooks (TrainerHookTests), registered by prototype.
 *   accumulation_cycle  micro-batches 1, 2, 3, 1, 2, 3, ... by step (an int64_t result)
 *   clip_ramp           the clipping threshold grows with the step: base_grad_clip * (1 + step / 4)
 *   wd_ramp             a weight decay multiplier rising from 0: step / total_steps
 *   nan_after           a learning rate that becomes NaN from step `bad` on (a run-time refusal)
 *   text_result         returns a string: not usable as a hook
 *   with_buffer         takes a buffer: not usable as a hook
 */
#include <autoglm/helpers.h>

#include <math.h>

static int64_t accumulation_cycle(int64_t step) { return 1 + step % 3; }

static double clip_ramp(int64_t step, double base_grad_clip) { return base_grad_clip * (1.0 + (double)step / 4.0); }

static double wd_ramp(int64_t step, int64_t total_steps) { return (double)step / (double)total_steps; }

static double nan_after(int64_t step, double base_lr, int64_t bad) { return step >= bad ? NAN : base_lr; }

static const char *text_result(int64_t step) { return step > 0 ? "positive" : "zero"; }

static double with_buffer(const float *x, size_t n) { return n > 0 ? (double)x[0] : 0.0; }

static aglm_status init(const aglm_host_api *host, aglm_ctx *ctx) {
    aglm_status st;
    if ((st = host->register_function(ctx, "int64_t accumulation_cycle(int64_t step)", AGLM_FN(accumulation_cycle),
                                      NULL)) != AGLM_OK ||
        (st = host->register_function(ctx, "double clip_ramp(int64_t step, double base_grad_clip)", AGLM_FN(clip_ramp),
                                      NULL)) != AGLM_OK ||
        (st = host->register_function(ctx, "double wd_ramp(int64_t step, int64_t total_steps)", AGLM_FN(wd_ramp),
                                      NULL)) != AGLM_OK ||
        (st = host->register_function(ctx, "double nan_after(int64_t step, double base_lr, int64_t bad)",
                                      AGLM_FN(nan_after), NULL)) != AGLM_OK ||
        (st = host->register_function(ctx, "const char *text_result(int64_t step)", AGLM_FN(text_result), NULL)) != AGLM_OK)
        return st;
    return host->register_function(ctx, "double with_buffer(const float *x, size_t n)", AGLM_FN(with_buffer), NULL);
}

AGLM_DEFINE_PLUGIN("hook-functions", "1.0.0", init);

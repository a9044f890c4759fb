/*
 * lr_schedules — learning-rate schedules as plain C functions registered by prototype
 * (host->register_function, ABI 1.2). Every function maps a 0-based optimizer step to a
 * learning rate and is pure (no state, any thread). Every warmup is nanoGPT's linear one,
 * base_lr·(step+1)/(warmup+1), which is never 0 at the first step.
 *
 *   constant(step, base_lr)
 *       base_lr.
 *   linear_warmup(step, base_lr, warmup)
 *       warmup, then base_lr.
 *   warmup_cosine(step, base_lr, warmup, total, min_lr)
 *       nanoGPT's schedule: warmup, then min_lr + ½(1 + cos(π·r))·(base_lr − min_lr) with
 *       r = min(1, (step − warmup)/(total − warmup)); min_lr after total (and after warmup when
 *       total ≤ warmup).
 *   warmup_linear(step, base_lr, warmup, total, min_lr)
 *       warmup, then base_lr + (min_lr − base_lr)·r with the same r; min_lr after total.
 *   warmup_stable_decay(step, base_lr, warmup, decay, total, min_lr)
 *       WSD (Hu et al. 2024, MiniCPM; the linear cooldown of Hägele et al. 2024): warmup,
 *       base_lr until total − decay, then linear to min_lr at total, min_lr after. decay ≤ 0:
 *       no cooldown (min_lr from total on). Meant for decay ≤ total − warmup.
 *   inverse_sqrt(step, base_lr, warmup)
 *       warmup, then base_lr·sqrt((warmup + 1)/(step + 1)): the inverse-square-root decay of
 *       Vaswani et al. 2017, peaking at base_lr at step = warmup.
 *   one_cycle(step, max_lr, total, pct_start, div_factor, final_div_factor)
 *       Smith & Topin 2018, exactly as torch.optim.lr_scheduler.OneCycleLR(anneal_strategy=
 *       'cos', three_phase=False): cosine from max_lr/div_factor up to max_lr over the first
 *       pct_start·total − 1 steps, then cosine down to max_lr/div_factor/final_div_factor at
 *       step total − 1, which it stays at. Needs pct_start·total > 1 (else NaN at step 0,
 *       where torch divides by zero).
 *
 * warmup_cosine and warmup_linear are bit-for-bit the host's LearningRateSchedule (cosine and
 * linear shapes), linear_warmup its constant shape. Arguments are not checked (a function has
 * no error channel): steps are ≥ 0 and counts non-negative.
 */
#include <autoglm/helpers.h>

#include <math.h>

/** π as a double (the same value as Swift's Double.pi; M_PI is not C99). */
static const double lrs_pi = 3.14159265358979323846;

/** Returns x rounded to a double on its own. The bundled plugins are built with
 *  -ffp-contract=fast, which may fuse `a + b * c` into one fma (one rounding instead of two);
 *  the host's Swift schedule never fuses, and warmup_cosine and warmup_linear must match it bit
 *  for bit, so their final products pass through a volatile before the addition. */
static double lrs_rounded(double x) {
    volatile double v = x;
    return v;
}

/** nanoGPT's linear warmup at a step < warmup. */
static double lrs_warmup(int64_t step, double base_lr, int64_t warmup) {
    return base_lr * (double)(step + 1) / (double)(warmup + 1);
}

/** Progress of a decay from `begin` over `length` steps, clamped to 1. */
static double lrs_progress(int64_t step, int64_t begin, int64_t length) {
    double r = (double)(step - begin) / (double)length;
    return r > 1.0 ? 1.0 : r;
}

/** torch's _annealing_cos: cosine from `start` (pct 0) to `end` (pct 1). */
static double lrs_cos_anneal(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (cos(lrs_pi * pct) + 1.0);
}

static double lrs_constant(int64_t step, double base_lr) {
    (void)step;
    return base_lr;
}

static double lrs_linear_warmup(int64_t step, double base_lr, int64_t warmup) {
    return step < warmup ? lrs_warmup(step, base_lr, warmup) : base_lr;
}

static double lrs_warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total,
                                double min_lr) {
    if (step < warmup) return lrs_warmup(step, base_lr, warmup);
    if (total <= warmup) return min_lr;
    return min_lr + lrs_rounded(0.5 * (1.0 + cos(lrs_pi * lrs_progress(step, warmup, total - warmup))) *
                                (base_lr - min_lr));
}

static double lrs_warmup_linear(int64_t step, double base_lr, int64_t warmup, int64_t total,
                                double min_lr) {
    if (step < warmup) return lrs_warmup(step, base_lr, warmup);
    if (total <= warmup) return min_lr;
    return base_lr + lrs_rounded((min_lr - base_lr) * lrs_progress(step, warmup, total - warmup));
}

static double lrs_warmup_stable_decay(int64_t step, double base_lr, int64_t warmup, int64_t decay,
                                      int64_t total, double min_lr) {
    const int64_t begin = total - (decay > 0 ? decay : 0);
    if (step < warmup) return lrs_warmup(step, base_lr, warmup);
    if (step < begin) return base_lr;
    if (step >= total) return min_lr;
    return base_lr + (min_lr - base_lr) * (double)(step - begin) / (double)decay;
}

static double lrs_inverse_sqrt(int64_t step, double base_lr, int64_t warmup) {
    if (step < warmup) return lrs_warmup(step, base_lr, warmup);
    return base_lr * sqrt((double)(warmup + 1) / (double)(step + 1));
}

static double lrs_one_cycle(int64_t step, double max_lr, int64_t total, double pct_start,
                            double div_factor, double final_div_factor) {
    const double initial = max_lr / div_factor, min_lr = initial / final_div_factor;
    const double up_end = pct_start * (double)total - 1.0, down_end = (double)total - 1.0;
    const double s = (double)step;
    if (s <= up_end) return lrs_cos_anneal(initial, max_lr, s / up_end);
    if (s >= down_end) return min_lr;
    return lrs_cos_anneal(max_lr, min_lr, (s - up_end) / (down_end - up_end));
}

/** One registered schedule: prototype, function, doc line, example arguments. */
typedef struct lrs_schedule {
    const char *prototype;
    void (*fn)(void);
    const char *doc;
    const char *example_args;
} lrs_schedule;

static const lrs_schedule lrs_schedules[] = {
    {"double constant(int64_t step, double base_lr)", AGLM_FN(lrs_constant),
     "base_lr at every step", "step=0 base_lr=0.001"},
    {"double linear_warmup(int64_t step, double base_lr, int64_t warmup)", AGLM_FN(lrs_linear_warmup),
     "linear warmup to base_lr over warmup steps, then constant", "step=10 base_lr=0.001 warmup=100"},
    {"double warmup_cosine(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)",
     AGLM_FN(lrs_warmup_cosine),
     "nanoGPT's schedule: linear warmup, cosine decay to min_lr at total, then min_lr",
     "step=500 base_lr=0.001 warmup=100 total=2000 min_lr=0.0001"},
    {"double warmup_linear(int64_t step, double base_lr, int64_t warmup, int64_t total, double min_lr)",
     AGLM_FN(lrs_warmup_linear), "linear warmup, linear decay to min_lr at total, then min_lr",
     "step=500 base_lr=0.001 warmup=100 total=2000 min_lr=0.0001"},
    {"double warmup_stable_decay(int64_t step, double base_lr, int64_t warmup, int64_t decay, "
     "int64_t total, double min_lr)",
     AGLM_FN(lrs_warmup_stable_decay),
     "WSD: linear warmup, base_lr until total-decay, linear decay to min_lr at total",
     "step=1900 base_lr=0.001 warmup=100 decay=200 total=2000 min_lr=0.0001"},
    {"double inverse_sqrt(int64_t step, double base_lr, int64_t warmup)", AGLM_FN(lrs_inverse_sqrt),
     "linear warmup, then base_lr*sqrt((warmup+1)/(step+1)) (Vaswani et al. 2017)",
     "step=400 base_lr=0.001 warmup=100"},
    {"double one_cycle(int64_t step, double max_lr, int64_t total, double pct_start, "
     "double div_factor, double final_div_factor)",
     AGLM_FN(lrs_one_cycle),
     "one-cycle cosine up to max_lr then down (torch OneCycleLR, anneal_strategy='cos')",
     "step=300 max_lr=0.001 total=2000 pct_start=0.3 div_factor=25 final_div_factor=10000"},
};

static aglm_status lrs_init(const aglm_host_api *host, aglm_ctx *ctx) {
    size_t i;
    for (i = 0; i < AGLM_COUNTOF(lrs_schedules); ++i) {
        const lrs_schedule *s = &lrs_schedules[i];
        aglm_function_info info = aglm_function(s->doc, s->example_args);
        aglm_status st = host->register_function(ctx, s->prototype, s->fn, &info);
        if (st != AGLM_OK) return st;
    }
    return AGLM_OK;
}

AGLM_DEFINE_PLUGIN("autoglm-lr-schedules", "1.0.0", lrs_init);

/*
 * Test program: the bundled optimizers' weight decay coefficient (aglm_optim_weight_decay of
 * plugins/common/aglm_optim_util.h) against the ABI 1.4 negotiation of
 * aglm_optim_step.weight_decay_scale:
 *  - a host that passes the field (struct_size covers it): weight_decay * weight_decay_scale;
 *  - an older host (struct_size ends before it, the memory after holds garbage): the multiplier
 *    is not read, the coefficient is weight_decay;
 *  - a parameter whose decay flag is 0: 0 either way.
 * Prints "ok N checks" and exits 0, or prints each failed check and exits 1.
 */
#include "common/aglm_optim_util.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;
static void check(int ok, const char *what, double got, double want) {
    ++checks;
    if (!ok) {
        ++failures;
        fprintf(stderr, "FAIL: %s: got %.17g, want %.17g\n", what, got, want);
    }
}

int main(void) {
    aglm_param_info decayed, not_decayed;
    aglm_optim_step args;
    double got;
    memset(&decayed, 0, sizeof decayed);
    memset(&not_decayed, 0, sizeof not_decayed);
    memset(&args, 0, sizeof args);
    decayed.struct_size = not_decayed.struct_size = sizeof(aglm_param_info);
    decayed.decay = 1;
    not_decayed.decay = 0;
    args.struct_size = sizeof args;
    args.param = &decayed;
    args.weight_decay_scale = 0.5;
    got = aglm_optim_weight_decay(&args, 0.1);
    check(got == 0.1 * 0.5, "a 1.4 host's multiplier", got, 0.1 * 0.5);

    args.struct_size = offsetof(aglm_optim_step, weight_decay_scale);  /* a 1.3 host's struct */
    args.weight_decay_scale = 1e300;                                    /* past its end: unread */
    got = aglm_optim_weight_decay(&args, 0.1);
    check(got == 0.1, "an older host: the coefficient unchanged", got, 0.1);

    args.struct_size = sizeof args;
    args.param = &not_decayed;
    args.weight_decay_scale = 2.0;
    got = aglm_optim_weight_decay(&args, 0.1);
    check(got == 0.0, "a parameter without decay", got, 0.0);

    if (failures > 0) {
        fprintf(stderr, "%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}

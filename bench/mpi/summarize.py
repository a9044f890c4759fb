"""Figures of bench/mpi/run.sh. `run LABEL LOG`: one JSON line for a run's log.jsonl (median step
seconds over the steps after the first two, tokens/s from it, median share of a step spent
waiting for the gradient allreduce after the backward). `summary RUNS`: medians per kind and the
ratio of two ranks to one process."""
import json
import statistics
import sys


def run(label, path):
    steps = [r for r in map(json.loads, open(path)) if r.get("kind") == "step"]
    times = [b["elapsed_s"] - a["elapsed_s"] for a, b in zip(steps, steps[1:])][2:]
    step_s = statistics.median(times)
    tokens = 8 * 256
    waits = [r["allreduce_wait_s"] for r in steps[3:] if "allreduce_wait_s" in r]
    out = {"run": label, "steps_timed": len(times), "step_s": round(step_s, 4), "tokens_per_s": round(tokens / step_s, 1),
           "step_s_spread": [round(min(times), 4), round(max(times), 4)]}
    if waits:
        out["unhidden_comm_share"] = round(statistics.median(waits) / step_s, 4)
    print(json.dumps(out))


def summary(path):
    runs = [json.loads(line) for line in open(path)]
    kinds = {}
    for r in runs:
        kinds.setdefault(r["run"].rsplit("-r", 1)[0] if "-r" in r["run"] else r["run"], []).append(r)
    table = {k: {"tokens_per_s": statistics.median(x["tokens_per_s"] for x in v),
                 **({"unhidden_comm_share": statistics.median(x["unhidden_comm_share"] for x in v)}
                    if "unhidden_comm_share" in v[0] else {}), "runs": len(v)} for k, v in kinds.items()}
    solo, pair = table["solo-2threads"]["tokens_per_s"], table["mpi2-1thread-25MB"]["tokens_per_s"]
    print(json.dumps({"summary": table, "ratio_mpi2x1_over_solo1x2": round(pair / solo, 3)}))


if __name__ == "__main__":
    {"run": lambda: run(sys.argv[2], sys.argv[3]), "summary": lambda: summary(sys.argv[2])}[sys.argv[1]]()

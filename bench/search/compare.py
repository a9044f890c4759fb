#!/usr/bin/env python3
"""Search benchmark (BENCHMARKS.md, "Search"): on Tiny Shakespeare with bench/search/base.yaml
and space.yaml, the best val/loss found by AutoGLM's TPE, by its random search and by Optuna's
TPESampler driving `autoglm train` (optuna_peer.py), each over the same seeds; and the wall time
per trial beyond training and evaluation (process start, plugins, data, proposing, bookkeeping).
The methods alternate within each seed (the order rotates), so machine load falls on all three.
Prints one JSON line per search and a summary line.

    python3 bench/search/compare.py --autoglm .build/release/autoglm --data tinyshakespeare.txt \
        --optuna-python /tmp/v/bin/python --trials 30 --seeds 1,2,3 --out /tmp/search-bench
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def autoglm_search(args, sampler, seed):
    """Runs `autoglm search`; returns the best val/loss and (seconds, train_seconds) per trial."""
    study = os.path.join(args.out, "%s-%d.db" % (sampler, seed))
    command = [args.autoglm, "search", "--config", os.path.join(HERE, "base.yaml"), "--space",
               os.path.join(HERE, "space.yaml"), "--set", "data.path=" + args.data, "--trials", str(args.trials),
               "--seed", str(seed), "--sampler", sampler, "--study", study]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(study)
    rows = db.execute("""SELECT v.value, t.finished_at - t.started_at, t.train_seconds FROM trial t
                         JOIN trial_value v ON v.trial = t.number AND v.objective = 0
                         WHERE t.state = 'complete' ORDER BY t.number""").fetchall()
    return min(r[0] for r in rows), [(r[1], r[2]) for r in rows], len(rows)


def optuna_search(args, seed):
    """Runs optuna_peer.py; returns the same."""
    out = os.path.join(args.out, "optuna-%d" % seed)
    command = [args.optuna_python, os.path.join(HERE, "optuna_peer.py"), "--autoglm", args.autoglm, "--data", args.data,
               "--trials", str(args.trials), "--seed", str(seed), "--out", out]
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    trials = [t for t in result["trials"] if t["value"] is not None]
    return result["best"], [(t["seconds"], t["train_seconds"]) for t in trials], len(trials)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--autoglm", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--optuna-python", required=True)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    args.autoglm = os.path.abspath(args.autoglm)
    os.makedirs(args.out, exist_ok=True)
    methods = ["autoglm-tpe", "autoglm-random", "optuna-tpe"]
    results = {m: [] for m in methods}
    seeds = [int(s) for s in args.seeds.split(",")]
    for i, seed in enumerate(seeds):
        order = methods[i % 3:] + methods[:i % 3]
        for method in order:
            start = time.time()
            if method == "optuna-tpe":
                best, timings, complete = optuna_search(args, seed)
            else:
                best, timings, complete = autoglm_search(args, method.split("-")[1], seed)
            overheads = [s - t for s, t in timings]
            record = {"method": method, "seed": seed, "best_val_loss": best, "complete_trials": complete,
                      "wall_s": round(time.time() - start, 1),
                      "median_trial_s": round(statistics.median(s for s, _ in timings), 2),
                      "median_overhead_s": round(statistics.median(overheads), 3),
                      "max_overhead_s": round(max(overheads), 3)}
            results[method].append(record)
            print(json.dumps(record), flush=True)
    summary = {m: {"median_best_val_loss": statistics.median(r["best_val_loss"] for r in rs),
                   "best_val_losses": [round(r["best_val_loss"], 4) for r in rs],
                   "median_overhead_s": statistics.median(r["median_overhead_s"] for r in rs)}
               for m, rs in results.items() if rs}
    print(json.dumps({"summary": summary, "trials": args.trials, "seeds": seeds}))


if __name__ == "__main__":
    main()

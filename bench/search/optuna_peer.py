#!/usr/bin/env python3
"""The peer of AutoGLM's search benchmark: Optuna's TPESampler (its defaults, seeded) driving
`autoglm train` as the objective, over the space of bench/search/space.yaml. Prints one JSON
object: the best val/loss, and per trial the val/loss, the wall time from Optuna's trial start
to its completion, and the training + evaluation seconds the run's log reports.

Needs optuna (in a venv outside the repo: python3 -m venv /tmp/v && /tmp/v/bin/pip install optuna).
    python optuna_peer.py --autoglm .build/release/autoglm --data tinyshakespeare.txt --trials 30 --seed 1 --out /tmp/o
"""
import argparse
import json
import os
import subprocess

import optuna


def last_eval(log_path):
    """The last val/loss and the largest elapsed_s of a run's log.jsonl."""
    loss, elapsed = None, 0.0
    with open(log_path) as f:
        lines = f.read().splitlines()
    for line in lines[1:]:
        record = json.loads(line)
        elapsed = max(elapsed, record.get("elapsed_s") or 0.0)
        if record.get("kind") == "eval" and record.get("val/loss") is not None:
            loss = record["val/loss"]
    return loss, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--autoglm", required=True)
    parser.add_argument("--config", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "base.yaml"))
    parser.add_argument("--data", required=True)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        # The space of space.yaml, in its order.
        lr = trial.suggest_float("optimizer.lr", 1e-4, 3e-2, log=True)
        weight_decay = trial.suggest_float("optimizer.weight_decay", 0.0, 0.3)
        warmup = trial.suggest_int("train.warmup_steps", 0, 100, step=10)
        attention = trial.suggest_categorical("attention.name", ["flash", "alibi", "sliding_window"])
        run_dir = os.path.join(args.out, "%04d" % trial.number)
        settings = {"data.path": args.data, "optimizer.lr": repr(lr), "optimizer.weight_decay": repr(weight_decay),
                    "train.warmup_steps": str(warmup), "attention.name": attention, "run.dir": run_dir,
                    "train.threads": str(args.threads)}
        command = [args.autoglm, "train", "--quiet", "--config", args.config]
        for key, value in settings.items():
            command += ["--set", "%s=%s" % (key, value)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        loss, elapsed = last_eval(os.path.join(run_dir, "log.jsonl"))
        trial.set_user_attr("train_seconds", elapsed)
        return loss

    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials)
    trials = []
    for t in study.trials:
        wall = (t.datetime_complete - t.datetime_start).total_seconds()
        trials.append({"value": t.value, "seconds": wall, "train_seconds": t.user_attrs["train_seconds"]})
    print(json.dumps({"best": study.best_value, "params": study.best_params, "trials": trials}))


if __name__ == "__main__":
    main()

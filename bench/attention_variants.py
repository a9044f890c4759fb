"""Trains the same model with every bundled attention variant on the same budget and prints a
Markdown table of final val loss and training tokens/s (for BENCHMARKS.md).

usage: python3 bench/attention_variants.py DATA.txt [--steps 500] [--variants a,b,...]
ALiBi runs without position embeddings (model.position_embedding=false), as it is meant to.
"""
import argparse, json, os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUTOGLM = os.path.join(ROOT, ".build", "release", "autoglm")
VARIANTS = ["causal_dense", "flash", "sparse_topk", "sliding_window", "linear", "alibi", "gqa"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args()
    rows = []
    for name in a.variants.split(","):
        run_dir = f"/tmp/autoglm-variant-{name}"
        cmd = [AUTOGLM, "train", "--config", os.path.join(ROOT, "examples", "shakespeare.yaml"), "--quiet",
               "--set", f"data.path={a.data}", "--set", f"run.dir={run_dir}", "--set", f"attention.name={name}",
               "--set", f"train.steps={a.steps}", "--set", "train.eval_interval=0", "--set", "train.warmup_steps=50"]
        if name == "alibi":
            cmd += ["--set", "model.position_embedding=false"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        done = [l for l in out.splitlines() if l.startswith("done:")][0]
        train_s = float(done.split("(training ")[1].split(" s")[0])
        val = float(done.split("val/loss ")[1].split(",")[0])
        tokens = a.steps * 12 * 64
        rows.append((name, val, tokens / train_s))
        print(json.dumps(dict(attention=name, steps=a.steps, val_loss=val, tokens_per_s=round(tokens / train_s, 1))), flush=True)
    print("\n| attention | val loss | training tokens/s |\n| --- | --- | --- |")
    for name, val, tps in rows:
        print(f"| `{name}` | {val:.4f} | {tps:,.0f} |")

if __name__ == "__main__":
    main()

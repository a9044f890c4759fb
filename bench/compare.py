"""Side-by-side benchmark of AutoGLM and the PyTorch peer on this machine, in one run.

Alternates `autoglm bench` and ../shared/bench/torch_peer.py per preset (rounds times each),
then the plugin-boundary cost, then the attention micro-benchmark (flash and causal_dense vs torch
SDPA), then optionally the
nanoGPT CPU recipe (torch_quality.py vs `autoglm train --config examples/shakespeare.yaml`).
Prints one JSON line per measurement and a summary of median ratios (ours / peer for
throughput, peer / ours for time).

With --bf16 (issue #18) every preset and recipe run is done four ways, alternating: ours in fp32
and in bf16 (`train.precision=bf16`), the peer eager in fp32 and under bf16 autocast (`--bf16`);
the summary gives ours bf16 / peer bf16, ours best / peer best (the faster of its fp32 and bf16),
both peak RSS, and for the recipe both wall times and val losses. Every line names the CPU.

usage: python3 bench/compare.py --torch-python PATH/torchenv/bin/python [--rounds 3]
                                [--presets small,medium] [--quality DATA.txt [--quality-rounds 3]]
                                [--bf16] [--skip-attention] [--steps N]
"""
import argparse, json, os, statistics, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "bench")
AUTOGLM = os.path.join(ROOT, ".build", "release", "autoglm")

def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    print(line, flush=True)
    return json.loads(line)

def steps_args(a):
    """`--steps N` for both sides' training benchmarks when --steps is given (else their default)."""
    return ["--steps", str(a.steps)] if a.steps else []

def cpu_info():
    """Model name, family/model/stepping and the AVX-512 flags of this machine's CPU."""
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key in ("model name", "cpu family", "model", "stepping") and key not in info:
                info[key] = value
            if key == "flags" and "flags" not in info:
                info["flags"] = " ".join(sorted(x for x in value.split() if x.startswith(("avx512", "amx", "avx2", "fma"))))
    return info

def bf16_presets(a, summary):
    """Per preset: ours fp32 / ours bf16 / peer fp32 / peer bf16, alternating, medians."""
    peer_cmd = [a.torch_python, os.path.join(SHARED, "torch_peer.py")]
    steps = steps_args(a)
    for preset in [p for p in a.presets.split(",") if p]:
        runs = {"ours_fp32": [], "ours_bf16": [], "peer_fp32": [], "peer_bf16": []}
        rss = {k: [] for k in runs}
        for _ in range(a.rounds):
            for name, cmd in (("ours_fp32", [AUTOGLM, "bench", "--preset", preset]),
                              ("ours_bf16", [AUTOGLM, "bench", "--preset", preset, "--set", "train.precision=bf16"]),
                              ("peer_fp32", peer_cmd + ["--preset", preset]),
                              ("peer_bf16", peer_cmd + ["--preset", preset, "--bf16"])):
                r = run_json(cmd + steps)
                runs[name].append(r["tokens_per_s"]); rss[name].append(r["peak_rss_mb"])
        med = {k: statistics.median(v) for k, v in runs.items()}
        peer_best = max(med["peer_fp32"], med["peer_bf16"])
        summary[preset] = dict(tokens_per_s=med, ours_bf16_over_peer_bf16=round(med["ours_bf16"] / med["peer_bf16"], 3),
                               ours_best_over_peer_best=round(max(med["ours_fp32"], med["ours_bf16"]) / peer_best, 3),
                               peak_rss_mb={k: max(v) for k, v in rss.items()},
                               spread={k: [min(v), max(v)] for k, v in runs.items()})

def recipe_ours(a, precision):
    """Wall time of training and val loss of our nanoGPT recipe run."""
    out = subprocess.run([AUTOGLM, "train", "--config", os.path.join(ROOT, "examples", "shakespeare.yaml"),
                          "--set", "data.path=" + a.quality, "--set", "run.dir=/tmp/autoglm-compare-run",
                          "--set", "train.precision=" + precision, "--overwrite", "--quiet"],
                         capture_output=True, text=True, check=True).stdout
    print(out.strip(), flush=True)
    done = [l for l in out.splitlines() if l.startswith("done:")][0]
    return float(done.split("(training ")[1].split(" s")[0]), float(done.split("val/loss ")[1].split(",")[0])

def bf16_quality(a, summary):
    """The recipe four ways (ours fp32/bf16, peer fp32/bf16), alternating, medians."""
    times = {"ours_fp32": [], "ours_bf16": [], "peer_fp32": [], "peer_bf16": []}
    losses = {k: [] for k in times}
    for _ in range(a.quality_rounds):
        for name in times:
            if name.startswith("ours"):
                t, loss = recipe_ours(a, name.split("_")[1])
            else:
                q = run_json([a.torch_python, os.path.join(SHARED, "torch_quality.py"), a.quality]
                             + (["--bf16"] if name.endswith("bf16") else []))
                t, loss = q["train_wall_s"], q["val_loss"]
            times[name].append(t); losses[name].append(loss)
    med = {k: statistics.median(v) for k, v in times.items()}
    peer_best = min(med["peer_fp32"], med["peer_bf16"])
    summary["quality"] = dict(train_wall_s=med, val_loss={k: statistics.median(v) for k, v in losses.items()},
                              ours_bf16_over_peer_best=round(med["ours_bf16"] / peer_best, 3),
                              ours_fp32_over_peer_best=round(med["ours_fp32"] / peer_best, 3),
                              spread={k: [min(v), max(v)] for k, v in times.items()}, runs=a.quality_rounds)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--torch-python", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--presets", default="small,medium", help="comma-separated presets (empty: none, e.g. only --quality)")
    ap.add_argument("--attention-shape", default="8,6,256,64")
    ap.add_argument("--quality", help="corpus for the nanoGPT CPU recipe comparison (e.g. tinyshakespeare.txt)")
    ap.add_argument("--quality-rounds", type=int, default=1,
                    help="recipe runs per side, alternating (medians; about 3 minutes per pair)")
    ap.add_argument("--bf16", action="store_true", help="compare fp32 and bf16 on both sides (issue #18)")
    ap.add_argument("--steps", type=int, help="timed steps per training benchmark, both sides (default: theirs, 20; after 5 warm-up steps)")
    ap.add_argument("--skip-attention", action="store_true", help="leave out the boundary and attention micro-benchmarks")
    a = ap.parse_args()
    summary = {"cpu": cpu_info()}
    print(json.dumps(summary["cpu"]), flush=True)
    if a.bf16:
        bf16_presets(a, summary)
        if a.quality:
            bf16_quality(a, summary)
        print(json.dumps(dict(summary=summary)), flush=True)
        return
    for preset in [p for p in a.presets.split(",") if p]:
        ours, peer, rss_ours, rss_peer, mfu = [], [], [], [], []
        for _ in range(a.rounds):
            steps = steps_args(a)
            o = run_json([AUTOGLM, "bench", "--preset", preset] + steps)
            p = run_json([a.torch_python, os.path.join(SHARED, "torch_peer.py"), "--preset", preset] + steps)
            ours.append(o["tokens_per_s"]); peer.append(p["tokens_per_s"])
            rss_ours.append(o["peak_rss_mb"]); rss_peer.append(p["peak_rss_mb"]); mfu.append(o["mfu"])
        summary[preset] = dict(ours_tokens_per_s=statistics.median(ours), peer_tokens_per_s=statistics.median(peer),
                               ratio=round(statistics.median(ours) / statistics.median(peer), 3),
                               mfu=statistics.median(mfu), peak_rss_mb_ours=max(rss_ours), peak_rss_mb_peer=max(rss_peer))
    if not a.skip_attention:
        # The plugin boundary: per-call costs, and what they add up to in one small-preset step
        # (6 parameter tensors per layer + 3, one optimizer dispatch each; two callback events).
        b = run_json([AUTOGLM, "bench", "--boundary"])
        boundary = dict(b)
        if "small" in summary:
            step_ms = 16 * 128 / summary["small"]["ours_tokens_per_s"] * 1e3
            per_step_us = ((6 * 4 + 3) * b["optimizer_param_update_ns"] + 2 * b["callback_event_ns"]) / 1e3
            boundary.update(per_small_step_us=round(per_step_us, 2),
                            percent_of_small_step=round(per_step_us / (step_ms * 1e3) * 100, 4))
        summary["boundary"] = boundary
        shape = a.attention_shape
        times = {"flash": [], "causal_dense": [], "sdpa": []}
        for _ in range(a.rounds):
            for name in ("flash", "causal_dense"):
                times[name].append(run_json([AUTOGLM, "bench", "--attention-shape", shape, "--attention", name])["fwd_bwd_ms_median"])
            times["sdpa"].append(run_json([a.torch_python, os.path.join(ROOT, "bench", "torch_sdpa.py"), "--shape", shape])["fwd_bwd_ms_median"])
        med = {k: statistics.median(v) for k, v in times.items()}
        summary["attention " + shape] = dict(fwd_bwd_ms=med, sdpa_over_flash=round(med["sdpa"] / med["flash"], 3),
                                            causal_dense_over_flash=round(med["causal_dense"] / med["flash"], 3))
    if a.quality:
        peer_s, peer_loss, ours_s, ours_loss = [], [], [], []
        for _ in range(a.quality_rounds):
            q_peer = run_json([a.torch_python, os.path.join(SHARED, "torch_quality.py"), a.quality])
            peer_s.append(q_peer["train_wall_s"]); peer_loss.append(q_peer["val_loss"])
            out = subprocess.run([AUTOGLM, "train", "--config", os.path.join(ROOT, "examples", "shakespeare.yaml"),
                                  "--set", "data.path=" + a.quality, "--set", "run.dir=/tmp/autoglm-compare-run", "--overwrite", "--quiet"],
                                 capture_output=True, text=True, check=True).stdout
            print(out.strip(), flush=True)
            done = [l for l in out.splitlines() if l.startswith("done:")][0]
            ours_s.append(float(done.split("(training ")[1].split(" s")[0]))
            ours_loss.append(float(done.split("val/loss ")[1].split(",")[0]))
        summary["quality"] = dict(peer_train_wall_s=statistics.median(peer_s), peer_val_loss=statistics.median(peer_loss),
                                  ours_train_wall_s=statistics.median(ours_s), ours_val_loss=statistics.median(ours_loss),
                                  time_ratio=round(statistics.median(ours_s) / statistics.median(peer_s), 3),
                                  runs=a.quality_rounds)
    print(json.dumps(dict(summary=summary)), flush=True)

if __name__ == "__main__":
    main()

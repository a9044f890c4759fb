"""PyTorch side of the attention micro-benchmark: forward+backward of
torch.nn.functional.scaled_dot_product_attention (causal) on [B, H, T, D], fp32, CPU.

usage: python torch_sdpa.py --shape 8,6,256,64 [--threads 2] [--steps 20]
prints one JSON line with fwd_bwd_ms_median (same format as `autoglm bench --attention-shape`).
"""
import argparse, json, statistics, time
import torch, torch.nn.functional as F

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="8,6,256,64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    shape = [int(x) for x in a.shape.split(",")]
    q, k, v = (torch.randn(*shape, requires_grad=True) for _ in range(3))
    seed = torch.randn(*shape)
    times = []
    for i in range(a.warmup + a.steps):
        q.grad = k.grad = v.grad = None
        t0 = time.perf_counter()
        F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(seed)
        if i >= a.warmup: times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps(dict(system="pytorch-" + torch.__version__, attention="sdpa", shape=shape, threads=a.threads,
                          fwd_bwd_ms_median=round(statistics.median(times), 3))))

if __name__ == "__main__":
    main()

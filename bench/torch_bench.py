#!/usr/bin/env python3
"""PyTorch side of `npm run bench` (bench/bench.ts runs it; it installs nothing).

Three cases, the same computations as the TypeScript side:
  vqvae-train-step  the VQ-VAE of DL-Demos (its MNIST config: dim 32, K 32, batch 256,
                    28x28x1, Adam 2e-4, beta 0.25): one optimizer step, images/s
  vq-layer          VectorQuantizer forward+backward with the entropy term (ginka-generator's form):
                    N=65,536, d=64, K=1,024: vectors/s
  fsq-layer         FSQ forward+backward, levels [8,5,5,5], dim 64 (projections in/out),
                    same N: vectors/s

Usage: torch_bench.py --threads N [--steps S] [--cases a,b,c] [--vq-n N] [--batches 64,256,1024]
                      [--quick] [--device cpu|cuda]
(--batches: the VQ-VAE step at each batch size, ascending; default 256. --device cuda: the same
cases on the GPU; each step ends in .item(), which waits for the GPU.)
Prints progress on stderr and one JSON object as the last line of stdout. Each case carries
peak_rss_kib, the process's peak resident memory right after it (getrusage ru_maxrss, KiB; it
never goes down, so a case's value also covers the cases before it); the object carries the
process's peak over all its cases and start_rss_kib, its peak once torch was imported, before
the first case (host memory only: not the GPU's).
"""
import argparse
import json
import platform
import statistics
import sys
import time

try:
    import resource
except ImportError:  # Windows
    resource = None

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- the DL-Demos VQ-VAE
class ResidualBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(dim, dim, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim, dim, 1)

    def forward(self, x):
        tmp = self.relu(x)
        tmp = self.conv1(tmp)
        tmp = self.relu(tmp)
        tmp = self.conv2(tmp)
        return x + tmp


class VQVAE(nn.Module):
    def __init__(self, input_dim, dim, n_embedding):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(input_dim, dim, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(dim, dim, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(dim, dim, 3, 1, 1),
            ResidualBlock(dim), ResidualBlock(dim))
        self.vq_embedding = nn.Embedding(n_embedding, dim)
        self.vq_embedding.weight.data.uniform_(-1.0 / n_embedding, 1.0 / n_embedding)
        self.decoder = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1),
            ResidualBlock(dim), ResidualBlock(dim),
            nn.ConvTranspose2d(dim, dim, 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(dim, input_dim, 4, 2, 1))

    def forward(self, x):
        ze = self.encoder(x)
        embedding = self.vq_embedding.weight.data
        N, C, H, W = ze.shape
        # Nearest code by |z|^2 - 2 z.e + |e|^2 (the TypeScript side computes it the same way;
        # the seed's [N,K,C,H,W] broadcast gives the same indices).
        z = ze.detach().permute(0, 2, 3, 1).reshape(-1, C)
        dist = (z ** 2).sum(1, keepdim=True) - 2 * z @ embedding.t() + (embedding ** 2).sum(1)
        nearest_neighbor = torch.argmin(dist, 1).reshape(N, H, W)
        zq = self.vq_embedding(nearest_neighbor).permute(0, 3, 1, 2)
        decoder_input = ze + (zq - ze).detach()
        x_hat = self.decoder(decoder_input)
        return x_hat, ze, zq


DEVICE = "cpu"


def vqvae_case(steps, warmup, batch=256):
    torch.manual_seed(0)
    model = VQVAE(1, 32, 32).to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), 2e-4)
    x = torch.rand(batch, 1, 28, 28).to(DEVICE)
    mse = nn.MSELoss()

    def step():
        x_hat, ze, zq = model(x)
        loss = mse(x, x_hat) + mse(ze.detach(), zq) + 0.25 * mse(ze, zq.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    ms = timed(step, steps, warmup)
    return {"name": "vqvae-train-step", "unit": "images/s", "batch": batch,
            "ms": statistics.median(ms), "value": batch * 1000.0 / statistics.median(ms), "samples_ms": ms}


# ---------------------------------------------------------------- the VQ layer with ginka-generator's entropy term
class VectorQuantizer(nn.Module):
    def __init__(self, K, d_z, temp=1.0, beta=0.25, entropy_weight=0.1):
        super().__init__()
        self.K, self.d_z, self.temp = K, d_z, temp
        self.beta, self.entropy_weight = beta, entropy_weight
        self.codebook = nn.Embedding(K, d_z)
        nn.init.uniform_(self.codebook.weight, -1.0 / K, 1.0 / K)

    def forward(self, z_flat):
        w = self.codebook.weight
        distances = (z_flat ** 2).sum(dim=1, keepdim=True) + (w ** 2).sum(dim=1) - 2.0 * z_flat @ w.t()
        indices = distances.argmin(dim=1)
        z_q = self.codebook(indices)
        z_q_st = z_flat + (z_q - z_flat).detach()
        commit_loss = F.mse_loss(z_flat, z_q.detach())
        codebook_loss = F.mse_loss(z_flat.detach(), z_q)
        soft_assign = F.softmax(-distances / self.temp, dim=1)
        avg_assign = soft_assign.mean(dim=0)
        entropy_loss = (avg_assign * torch.log(avg_assign + 1e-10)).sum()
        loss = codebook_loss + self.beta * commit_loss + self.entropy_weight * entropy_loss
        return z_q_st, indices, loss


def vq_case(steps, warmup, n=65536, d=64, k=1024):
    torch.manual_seed(0)
    vq = VectorQuantizer(k, d).to(DEVICE)
    z = torch.randn(n, d).to(DEVICE).requires_grad_(True)

    def step():
        zq, _, loss = vq(z)
        total = (zq ** 2).mean() + loss
        vq.zero_grad()
        z.grad = None
        total.backward()
        return total.item()

    ms = timed(step, steps, warmup)
    return {"name": "vq-layer", "unit": "vectors/s", "n": n, "d": d, "k": k,
            "ms": statistics.median(ms), "value": n * 1000.0 / statistics.median(ms), "samples_ms": ms}


# ---------------------------------------------------------------- FSQ (Mentzer et al. 2023, lucidrains-style)
def round_ste(z):
    zhat = z.round()
    return z + (zhat - z).detach()


class FSQ(nn.Module):
    def __init__(self, levels, dim):
        super().__init__()
        self.register_buffer("_levels", torch.tensor(levels, dtype=torch.int32), persistent=False)
        basis = torch.cumprod(torch.tensor([1] + levels[:-1]), dim=0, dtype=torch.int32)
        self.register_buffer("_basis", basis, persistent=False)
        self.project_in = nn.Linear(dim, len(levels))
        self.project_out = nn.Linear(len(levels), dim)

    def bound(self, z, eps=1e-3):
        half_l = (self._levels - 1) * (1 + eps) / 2
        offset = torch.where(self._levels % 2 == 0, 0.5, 0.0)
        shift = (offset / half_l).atanh()
        return (z + shift).tanh() * half_l - offset

    def forward(self, z):
        z = self.project_in(z)
        half_width = self._levels // 2
        codes = round_ste(self.bound(z)) / half_width
        indices = ((codes * half_width + half_width) * self._basis).sum(dim=-1).to(torch.int32)
        return self.project_out(codes), indices


def fsq_case(steps, warmup, n=65536, d=64, levels=(8, 5, 5, 5)):
    torch.manual_seed(0)
    fsq = FSQ(list(levels), d).to(DEVICE)
    z = torch.randn(n, d).to(DEVICE).requires_grad_(True)

    def step():
        out, _ = fsq(z)
        total = (out ** 2).mean()
        fsq.zero_grad()
        z.grad = None
        total.backward()
        return total.item()

    ms = timed(step, steps, warmup)
    return {"name": "fsq-layer", "unit": "vectors/s", "n": n, "d": d, "levels": list(levels),
            "ms": statistics.median(ms), "value": n * 1000.0 / statistics.median(ms), "samples_ms": ms}


# ---------------------------------------------------------------- harness
def peak_rss_kib():
    """This process's peak resident set size so far, KiB (children not included); None without getrusage."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS reports bytes, Linux KiB


def batch_list(text):
    """--batches: comma-separated positive integers, deduplicated and ascending."""
    batches = sorted({int(b) for b in text.split(",")})
    if any(b < 1 for b in batches):
        raise argparse.ArgumentTypeError("--batches expects positive integers")
    return batches


def timed(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000.0)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=0, help="timed steps per case (0: per-case default)")
    p.add_argument("--cases", default="vqvae-train-step,vq-layer,fsq-layer")
    p.add_argument("--quick", action="store_true", help="few steps (smoke test)")
    p.add_argument("--vq-n", type=int, default=65536, help="vectors N of the VQ and FSQ cases")
    p.add_argument("--batches", type=batch_list, default=[256], help="VQ-VAE batch sizes, e.g. 64,256,1024")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    a = p.parse_args()
    global DEVICE
    DEVICE = a.device
    if DEVICE != "cpu" and not torch.cuda.is_available():
        sys.exit(f"torch_bench: --device {DEVICE} but torch.cuda.is_available() is False")
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    cases = []
    start_rss = peak_rss_kib()
    plan = {
        "vqvae-train-step": (vqvae_case, 12, 3),
        "vq-layer": (vq_case, 5, 1),
        "fsq-layer": (fsq_case, 12, 3),
    }
    for name in a.cases.split(","):
        fn, steps, warmup = plan[name]
        if a.steps:
            steps = a.steps
        if a.quick:
            steps, warmup = 2, 1
        for batch in a.batches if name == "vqvae-train-step" else [None]:
            what = name if batch is None else f"{name} (batch {batch})"
            print(f"[torch {a.threads} thread(s)] {what} ...", file=sys.stderr, flush=True)
            case = fn(steps, warmup, batch=batch) if batch is not None else fn(steps, warmup, n=a.vq_n)
            case["peak_rss_kib"] = peak_rss_kib()
            cases.append(case)
    print(json.dumps({
        "torch": torch.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "cases": cases, "device": DEVICE,
        "device_name": torch.cuda.get_device_name() if DEVICE != "cpu" else platform.processor(),
        "peak_rss_kib": peak_rss_kib(), "start_rss_kib": start_rss,
    }))


if __name__ == "__main__":
    main()

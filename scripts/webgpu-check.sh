#!/usr/bin/env bash
# The WebGPU check, run ON a GPU machine from the folder scripts/webgpu-pack.mjs writes
# (.gpu-pack/, where this script is copied): needs no registry, no Node, no npm.
#
#   bash .gpu-pack/webgpu-check.sh                 (device tool: carry [".gpu-pack"])
#
# 1. machine: GPU, driver, Vulkan loader and ICD
# 2. unpacks node, dawn.node and the runner into $WORK (default /tmp/webgpu-check)
# 3. Vulkan: when `ldconfig -p` has no libvulkan.so.1, unpacks gl/*.deb (the loader) into $WORK/gl
#    and puts it on LD_LIBRARY_PATH (the device README unpacks its .gl debs into /; the loader alone
#    needs no more); points VK_DRIVER_FILES at NVIDIA's ICD when only /usr/local/nvidia has one
# 4. the runner on webgpu (bench/gpu-runner.ts): backend line, kernel coverage, agreement with
#    the cpu backend after a few steps, the bench's VQ-VAE step, notebook 06's 20 epochs
# 5. when python3 has torch with CUDA: bench/torch_bench.py's VQ-VAE step on cuda (and on the CPU)
#    and notebook 06's 20 epochs in PyTorch on cuda, on the same digits
# Everything goes to stdout and to $OUT (the device tool's; else $WORK/out).
#
# Environment: WEBGPU_CHECK_EPOCHS (20), WEBGPU_CHECK_TIMEOUT (s, per runner call, 420),
# WEBGPU_CHECK_ARGS (more runner options), WEBGPU_CHECK_BACKEND (webgpu; cpu/wasm for a dry run),
# WEBGPU_CHECK_SKIP_TORCH=1, VQ_DAWN_FLAGS (e.g. backend=vulkan).
set -u
PACK=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/tmp/webgpu-check}
OUT=${OUT:-$WORK/out}
mkdir -p "$WORK" "$OUT"
EPOCHS=${WEBGPU_CHECK_EPOCHS:-20}
LIMIT=${WEBGPU_CHECK_TIMEOUT:-420}
BACKEND=${WEBGPU_CHECK_BACKEND:-webgpu}
say() { printf '\n== %s\n' "$*"; }
T0=$(date +%s)

say "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"
echo "$(uname -srm), $(nproc) cores, $(grep -m1 PRETTY_NAME /etc/os-release 2>/dev/null | cut -d= -f2)"
command -v node >/dev/null && echo "machine's node: $(node --version)" || echo "machine's node: none (the pack's is used)"

unxz_to() { # unxz_to SRC DST: xz if there, else Python's lzma
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
say "unpack"
for f in node dawn.node gpu-runner.js; do
  unxz_to "$PACK/$f.xz" "$WORK/$f" || { echo "FAILED: cannot unpack $f.xz"; exit 2; }
done
chmod +x "$WORK/node"
echo "node $("$WORK/node" --version), dawn.node $(du -h "$WORK/dawn.node" | cut -f1), runner $(du -h "$WORK/gpu-runner.js" | cut -f1)"

say "vulkan"
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  echo "loader: the machine's ($(ldconfig -p | grep -m1 'libvulkan.so.1' | sed 's/.*=> //'))"
elif ls "$PACK"/gl/*.deb >/dev/null 2>&1; then
  # Into $WORK/gl, not /: dlopen("libvulkan.so.1") follows LD_LIBRARY_PATH, and / stays as it was.
  for f in "$PACK"/gl/*.deb; do dpkg -x "$f" "$WORK/gl"; done
  export LD_LIBRARY_PATH="$WORK/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "loader: $(cd "$PACK/gl" && ls *.deb | tr '\n' ' ')unpacked into $WORK/gl (LD_LIBRARY_PATH)"
else
  echo "loader: none on the machine and none in the pack; Dawn will say so"
fi
icds=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "$icds" ] && [ -f "$NV_ICD" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
  export VK_DRIVER_FILES=$NV_ICD __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
echo "ICDs: ${icds:-none in the standard folders}; VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"

export VQ_DAWN_NODE="$WORK/dawn.node" XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
run_node() { timeout "$LIMIT" "$WORK/node" "$WORK/gpu-runner.js" "$@"; }

say "tfjs on $BACKEND: coverage, agreement with cpu, the VQ-VAE step, notebook 06 ($EPOCHS epochs)"
set -o pipefail
# shellcheck disable=SC2086
run_node --backend "$BACKEND" --epochs "$EPOCHS" --export-mnist "$WORK/mnist" --out "$OUT/webgpu.json" ${WEBGPU_CHECK_ARGS:-} 2>&1 | tee "$OUT/webgpu.txt"
RC=$?
set +o pipefail
if [ "$RC" = 3 ]; then
  say "no adapter: the Vulkan loader's own account (VK_LOADER_DEBUG=error,warn)"
  VK_LOADER_DEBUG=error,warn timeout 60 "$WORK/node" -e "
const d = require(process.env.VQ_DAWN_NODE); Object.assign(globalThis, d.globals);
d.create(['backend=vulkan']).requestAdapter().then((a) => { console.log('vulkan adapter:', a ? JSON.stringify(a.info) : null); process.exit(0); });" 2>&1 | tail -40
fi

if [ "${WEBGPU_CHECK_SKIP_TORCH:-0}" != 1 ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  say "PyTorch on CUDA: the VQ-VAE step (and on $(nproc) CPU threads)"
  PYTHONUNBUFFERED=1 timeout 300 python3 "$PACK/torch_bench.py" --device cuda --threads 1 --cases vqvae-train-step 2>&1 | tee "$OUT/torch-step-cuda.txt"
  PYTHONUNBUFFERED=1 timeout 300 python3 "$PACK/torch_bench.py" --device cpu --threads "$(nproc)" --cases vqvae-train-step 2>&1 | tee "$OUT/torch-step-cpu.txt"
  if [ -f "$WORK/mnist.train.f32" ]; then
    say "PyTorch on CUDA: notebook 06's $EPOCHS epochs on the same digits"
    PYTHONUNBUFFERED=1 timeout 300 python3 "$PACK/torch_vqvae_mnist.py" --data "$WORK/mnist" --device cuda --epochs "$EPOCHS" 2>&1 | tee "$OUT/torch-nb06-cuda.txt"
  fi
else
  say "PyTorch: no torch with CUDA here (or skipped)"
fi

say "webgpu-check: runner exit $RC, $(( $(date +%s) - T0 )) s in all"
exit "$RC"

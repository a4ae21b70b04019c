"""A kernel that survives its user (scripts/tslab-kernel.cjs, lib/backend.ts, lib/interrupt.ts).

Each test drives a real tslab kernel with the wasm backend loaded (whose Emscripten glue used to
install process-wide `unhandledRejection -> throw` and rethrowing `uncaughtException` handlers):

1. an un-awaited rejected promise (a real one: vq.loadCheckpoint of a missing file) and a throw
   in a timer are reported, short, and the next cell still answers;
2. an error that arrives while a cell runs is reported in that cell's stderr;
3. interrupting `await trainer.fit(x, { epochs: 1000 })` stops training at the next step (no
   steps in the background), leaves the model usable, and the kernel still shuts down.
"""
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from test_kernel_protocol import run_cell, shell_reply

ROOT = Path(__file__).resolve().parents[2]
LIB = (ROOT / "dist" / "lib" / "index.js").as_posix()

SETUP = f"""
import * as vq from '{LIB}';
const {{ tf }} = vq;
await vq.initBackend('wasm', {{ quiet: true }});
console.log('backend', tf.getBackend());
"""


@pytest.fixture()
def kernel():
    km, kc = start_new_kernel(kernel_name="tslab", startup_timeout=60)
    try:
        content, iopub = run_cell(kc, SETUP, timeout=120)
        assert content["status"] == "ok", content
        assert "backend wasm" in stream_text(iopub)
        yield km, kc
    finally:
        kc.stop_channels()
        if km.has_kernel:  # (the interrupt test shuts its kernel down itself)
            km.shutdown_kernel(now=False)


def stream_text(iopub, name=None):
    return "".join(m["content"]["text"] for m in iopub
                   if m["msg_type"] == "stream" and (name is None or m["content"]["name"] == name))


def assert_alive(km, kc):
    content, iopub = run_cell(kc, "console.log('alive', 6 * 7);")
    assert content["status"] == "ok", content
    assert "alive 42" in stream_text(iopub)
    assert km.is_alive()


@pytest.mark.parametrize("code", [
    # a real un-awaited library call: the file does not exist, the promise rejects after the cell ends
    "const prior = new vq.GatedPixelCNN({ codebookSize: 4, channels: 2, blocks: 1 });\n"
    "vq.loadCheckpoint(prior, 'no-such-file');",
    "Promise.reject(new Error('nobody awaited me'));",
    "setTimeout(() => { throw new Error('thrown in a timer'); }, 10);",
    "setTimeout(() => { throw 'a string thrown in a timer'; }, 10);",
    # the class behind it: any library that installs rethrowing process handlers (as Emscripten did)
    "process.on('unhandledRejection', (r) => { throw r; });\n"
    "process.on('uncaughtException', (e) => { throw e; });\n"
    "Promise.reject(new Error('rejected under a rethrowing handler'));\n"
    "setTimeout(() => { throw new Error('thrown under a rethrowing handler'); }, 10);",
])
def test_stray_error_after_the_cell_leaves_the_kernel_alive(kernel, code):
    km, kc = kernel
    content, _ = run_cell(kc, code)
    assert content["status"] == "ok", content  # the cell itself did nothing wrong synchronously
    time.sleep(1.0)  # the rejection / timer fires after the reply
    assert_alive(km, kc)
    assert_alive(km, kc)


def test_stray_error_while_a_cell_runs_is_reported_in_that_cell(kernel):
    km, kc = kernel
    code = ("Promise.reject(new RangeError('late rejection'));\n"
            "setTimeout(() => { throw new TypeError('late throw'); }, 10);\n"
            "await new Promise((r) => setTimeout(r, 500));\nconsole.log('cell done');")
    content, iopub = run_cell(kc, code)
    assert content["status"] == "ok", content
    err = stream_text(iopub, "stderr")
    assert "Unhandled promise rejection" in err and "RangeError: late rejection" in err, err
    assert "Uncaught exception" in err and "TypeError: late throw" in err, err
    assert len(err) < 4000, f"{len(err)} bytes of stderr"
    assert "GROWABLE_HEAP" not in err
    assert "cell done" in stream_text(iopub, "stdout")
    assert_alive(km, kc)


TRAIN = """
const q = new vq.VectorQuantizer({ codebookSize: 8, dim: 4, seed: 1 });
const model = new vq.VQVAE({ bottleneck: q, dim: 4, seed: 1 });
const x = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 3) as vq.tf.Tensor4D;
const trainer = new vq.VQVAETrainer(model, { batchSize: 8, seed: 1 });
(globalThis as any).steps = 0;
"""
FIT_FOREVER = """
console.log('training');
await trainer.fit(x, { epochs: 1000, onStep: (m) => { (globalThis as any).steps = m.step; } });
"""


def test_interrupt_stops_training_and_the_kernel_lives_on(kernel):
    km, kc = kernel
    content, _ = run_cell(kc, TRAIN)  # (a failing cell's declarations are dropped: set up first)
    assert content["status"] == "ok", content
    msg_id = kc.execute(FIT_FOREVER)
    # wait until training runs a few steps, then interrupt as Jupyter does (SIGINT)
    iopub = []
    deadline = time.time() + 120
    while time.time() < deadline:
        msg = kc.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") == msg_id:
            iopub.append(msg)
            if "training" in stream_text(iopub):
                break
    time.sleep(3)
    km.interrupt_kernel()
    reply = shell_reply(kc, msg_id, timeout=60)
    assert reply["content"]["status"] == "error"
    assert "Interrupted" in reply["content"]["evalue"], reply["content"]
    time.sleep(1.0)  # let the loop reach its next check
    content, iopub = run_cell(kc, "console.log('steps', (globalThis as any).steps);")
    n1 = int(stream_text(iopub).split()[-1])
    assert n1 >= 1
    time.sleep(2.0)
    content, iopub = run_cell(kc, "console.log('steps', (globalThis as any).steps);")
    n2 = int(stream_text(iopub).split()[-1])
    assert n2 == n1, f"training went on in the background: {n1} -> {n2} steps"
    # the model is usable: another short fit and a forward pass
    content, iopub = run_cell(kc, "const more = await trainer.fit(x, { epochs: 1 });\n"
                                  "console.log('more', more.length, Number.isFinite(more[3].loss));")
    assert content["status"] == "ok", content
    assert "more 4 true" in stream_text(iopub)
    # and it still shuts down promptly
    pid = km.provisioner.process.pid
    t0 = time.time()
    km.shutdown_kernel(now=False)
    assert time.time() - t0 < 10
    assert not km.is_alive(), f"kernel {pid} still running"


@pytest.mark.parametrize("backend", ["wasm", "node"])
def test_out_of_memory_is_a_clear_error_and_the_next_cell_works(backend):
    """Issue 20 (2, 3, 7): a quantizer forward far beyond the backend's memory (LFQ and SimVQ with
    2^16 codes, 65,536 vectors: ~100 GiB) is refused at once with "out of memory … pass at most N
    vectors" — on wasm it used to hang or abort the module, after which every op failed; on the
    native backend a raw TF_Status OOM — and the next cell computes normally."""
    km, kc = start_new_kernel(kernel_name="tslab", startup_timeout=60)
    try:
        content, iopub = run_cell(kc, SETUP.replace("'wasm'", repr(backend)), timeout=120)
        assert content["status"] == "ok", content
        want = "wasm" if backend == "wasm" else "tensorflow"
        assert f"backend {want}" in stream_text(iopub)
        for make, dim in [("new vq.LFQ({ codebookSize: 2 ** 16, dim: 16 })", 16), ("new vq.SimVQ({ codebookSize: 2 ** 16, dim: 8 })", 8)]:
            t0 = time.time()
            content, iopub = run_cell(kc, f"{{ const q = {make}; const z = tf.zeros([65536, {dim}]);\n"
                                          "try { q.forward(z); } finally { z.dispose(); q.dispose(); } }", timeout=120)
            assert content["status"] == "error", content
            assert "out of memory" in content.get("evalue", "") + stream_text(iopub, "stderr"), (content, stream_text(iopub))
            assert "Pass at most" in content.get("evalue", "") + stream_text(iopub, "stderr")
            assert time.time() - t0 < 20, f"{time.time() - t0:.1f} s to refuse"
            time.sleep(0.5)  # tslab aborts requests that arrive right after an error (tslab #19)
            content, iopub = run_cell(kc, "console.log('sum', tf.sum(tf.add(tf.ones([4]), 1)).dataSync()[0]);")
            assert content["status"] == "ok", content
            assert "sum 8" in stream_text(iopub)
        assert_alive(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)

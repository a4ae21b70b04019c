"""The tslab kernel as Jupyter frontends see it, after scripts/tslab-kernel.cjs's fixes.

1. kernel_info_reply carries status "ok" (nbval/jupyter_client need it).
2. A failing cell publishes an iopub `error` message and an execute_reply with
   ename/evalue/traceback, so nbval/nbclient/JupyterLab see the failure.
3. nbval: a notebook with a throwing cell (type error, runtime exception, rejected awaited
   promise) fails; a clean notebook passes; no kernel process is left behind.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "notebooks"
KERNEL_LAUNCHER = str(ROOT / "scripts" / "tslab-kernel.cjs")


def kernel_pids():
    """PIDs of running kernels started from this checkout's launcher."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return {int(line.split(None, 1)[0]) for line in out.splitlines() if KERNEL_LAUNCHER in line}


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="tslab", startup_timeout=60)
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)


def shell_reply(kc, msg_id, timeout=60):
    """The shell reply to msg_id (skipping replies to earlier requests, e.g. start-up kernel_info)."""
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def run_cell(kc, code, timeout=60):
    msg_id = kc.execute(code)
    iopub = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        iopub.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = shell_reply(kc, msg_id, timeout)
    time.sleep(0.3)  # tslab aborts requests arriving within 200 ms of a failure (tslab #19)
    return reply["content"], iopub


def test_kernel_info_reply_has_status_ok(kernel):
    msg_id = kernel.kernel_info()
    reply = shell_reply(kernel, msg_id, 30)
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["language_info"]["name"] == "typescript"
    assert reply["content"]["implementation"] == "tslab"


def test_successful_cell_has_no_error(kernel):
    content, iopub = run_cell(kernel, "const x: number = 40 + 2;\nconsole.log(`x=${x}`);")
    assert content["status"] == "ok"
    assert not [m for m in iopub if m["msg_type"] == "error"]
    assert "x=42" in "".join(m["content"].get("text", "") for m in iopub if m["msg_type"] == "stream")


@pytest.mark.parametrize(
    "code, ename, evalue_part",
    [
        ("throw new RangeError('boom');", "RangeError", "boom"),
        ("await Promise.reject(new TypeError('nope'));", "TypeError", "nope"),
        ("const s: number = 'text';", "TypeScriptError", "not assignable to type 'number'"),
        ("throw 'a plain string';", "Error", "a plain string"),
    ],
)
def test_failing_cell_publishes_error(kernel, code, ename, evalue_part):
    content, iopub = run_cell(kernel, code)
    errors = [m["content"] for m in iopub if m["msg_type"] == "error"]
    assert content["status"] == "error"
    assert len(errors) == 1, [m["msg_type"] for m in iopub]
    assert errors[0]["ename"] == ename
    assert evalue_part in errors[0]["evalue"]
    assert isinstance(errors[0]["traceback"], list) and errors[0]["traceback"]
    assert content["ename"] == ename and evalue_part in content["evalue"]


def run_nbval(notebook):
    before = kernel_pids()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-kernel-name", "tslab", str(notebook)],
        capture_output=True, text=True, cwd=notebook.parent, timeout=300, env=os.environ.copy(),
    )
    deadline = time.time() + 10
    while kernel_pids() - before and time.time() < deadline:
        time.sleep(0.2)
    return proc, kernel_pids() - before


@pytest.mark.parametrize("name, cells", [("clean", 2), ("output-match", 1)])
def test_nbval_passes_clean_notebook(name, cells):
    """Clean cells pass; a cell tagged nbval-check-output passes when its output matches."""
    proc, leftover = run_nbval(FIXTURES / f"{name}.ipynb")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{cells} passed" in proc.stdout
    assert not leftover, f"kernel processes left running: {leftover}"


@pytest.mark.parametrize(
    "name, needle",
    [
        ("type-error", "Type 'string' is not assignable to type 'number'"),
        ("runtime-error", "RangeError: boom from a cell"),
        ("rejected-promise", "rejected on purpose"),
        ("error-then-more", "Cannot find name 'undefinedFunctionCall'"),
        ("output-mismatch", "Cell outputs differ"),
    ],
)
def test_nbval_fails_notebook_with_throwing_cell(name, needle):
    proc, leftover = run_nbval(FIXTURES / f"{name}.ipynb")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "failed" in proc.stdout and needle in proc.stdout, proc.stdout
    assert not leftover, f"kernel processes left running: {leftover}"

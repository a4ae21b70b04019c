"""Execute one notebook in place with the tslab kernel (used by `npm start`).

Prints one line per cell as it runs; on the first failing cell prints that cell's source and
error and exits 1 without touching the notebook file. On success the notebook is written
atomically (temporary file, then rename), so a crash never leaves a half-written notebook.
"""
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main(path, kernel_name="tslab"):
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    started = {}

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.time()

    def on_cell_executed(cell, cell_index, execute_reply):
        n = code_cells.index(cell) + 1 if cell in code_cells else cell_index
        took = time.time() - started.get(cell_index, time.time())
        first = next((l for l in cell.source.splitlines() if l.strip()), "")[:60]
        print(f"    cell {n:>2}/{len(code_cells)}  {took:6.1f} s  {first}", flush=True)

    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=None,
        record_timing=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"\nFAILED: {os.path.basename(path)}\n{e}", file=sys.stderr, flush=True)
        return 1
    nb.metadata.setdefault("kernelspec", {"name": kernel_name, "display_name": "TypeScript (tslab)", "language": "typescript"})
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ipynb", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(nb, f)  # Python raises on a short write (ENOSPC, EFBIG)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

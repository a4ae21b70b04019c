"""scripts/files.mjs writeFileAtomic (the scripts' one atomic write) under a real file-size limit:
the write fails naming the file, the old file stays intact, no temp file is left, and a stale
temp file of a killed writer is removed on the next write."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_write_file_atomic_under_a_file_size_limit(tmp_path):
    target = tmp_path / "a.txt"
    stale = tmp_path / ".a.txt.tmp-999999999-5"
    stale.write_text("half written by a killed process")
    script = f"""
import {{ writeFileAtomic }} from {str(ROOT / 'scripts' / 'files.mjs')!r};
writeFileAtomic({str(target)!r}, 'old content');
try {{ writeFileAtomic({str(target)!r}, 'x'.repeat(20000)); console.log('wrote'); }}
catch (e) {{ console.log('FAILED ' + e.message); }}
"""
    r = subprocess.run(["bash", "-c", 'ulimit -f 8 && exec node --input-type=module -e "$0"', script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert f"FAILED could not write {target}: EFBIG" in r.stdout, r.stdout
    assert "8192 of 20000 bytes written" in r.stdout
    assert target.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]

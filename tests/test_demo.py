"""The README's offline demo runs end to end on a fresh checkout."""
import subprocess
import sys

from conftest import ROOT


def test_demo_runs_the_whole_flow():
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "demo.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-2].startswith("OUTGOING_PAYMENT_ACCESS_TOKEN = ")
    assert lines[-1].startswith("OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL = http://127.0.0.1:")
    assert any(line.startswith('"@signature-params": ("@method" "@target-uri" "authorization"')
               for line in lines)
    assert any(line.startswith("hash ") and line.endswith("interact_ref") for line in lines)
    assert proc.stderr == ""

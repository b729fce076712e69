"""Static checks run as tests, so the README's one test command covers them: vermin (Python
3.7 floor), ruff, and mypy --strict on the module."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(tool, *args):
    exe = pathlib.Path(sys.executable).parent / tool  # the tool installed by the test extra
    proc = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_vermin_python_3_7():
    _run("vermin", "--target=3.7-", "--no-tips", "--violations", "--eval-annotations",
         "op_continue.py")


def test_ruff():
    _run("ruff", "check", "op_continue.py", "tests")


def test_mypy_strict():
    _run("mypy", "--strict", "op_continue.py")

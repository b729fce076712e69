"""The release a vendoring user records: `python -m build` makes an sdist and a wheel that hold
exactly the module, its metadata and the licence, and `twine check --strict` passes on both."""
import subprocess
import sys
import tarfile
import zipfile

from conftest import ROOT

import op_continue


def test_sdist_and_wheel_hold_exactly_the_module(tmp_path):
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    version = op_continue.__version__
    [sdist] = tmp_path.glob("*.tar.gz")
    [wheel] = tmp_path.glob("*.whl")
    assert (sdist.name, wheel.name) == (f"op_continue-{version}.tar.gz",
                                        f"op_continue-{version}-py3-none-any.whl")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {n for n in names if not n.startswith("op_continue.egg-info")} == {
        "op_continue.py", "LICENSE", "README.md", "PKG-INFO", "pyproject.toml", "setup.cfg",
        "MANIFEST.in"}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    info = f"op_continue-{version}.dist-info/"
    assert names == {"op_continue.py", info + "licenses/LICENSE", info + "METADATA",
                     info + "WHEEL", info + "entry_points.txt", info + "top_level.txt",
                     info + "RECORD"}
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(sdist),
                            str(wheel)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

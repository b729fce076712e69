"""The README's spec-to-code map matches the citations in op_continue.py, both ways, and
vectors/README.md lists every vector file."""
import json
import re

from conftest import ROOT, VECTOR_DIR

CITATION = re.compile(r"RFC (\d{4}) §([0-9A-Z][0-9A-Za-z.]*[0-9A-Za-z]|[0-9])")
ROW = re.compile(r"^\| RFC (\d{4}) \| §([0-9A-Z][0-9A-Za-z.]*[0-9A-Za-z]|[0-9]) ", re.M)


def test_every_citation_is_in_the_spec_map_and_back():
    cited = {f"RFC {n} §{s}" for n, s in CITATION.findall((ROOT / "op_continue.py").read_text())}
    mapped = {f"RFC {n} §{s}" for n, s in ROW.findall((ROOT / "README.md").read_text())}
    assert cited - mapped == set(), "cited in op_continue.py, missing from the README map"
    assert mapped - cited == set(), "in the README map, never cited in op_continue.py"


def test_spec_map_names_real_functions_and_vector_files():
    module = (ROOT / "op_continue.py").read_text()
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if not ROW.match(line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_][\w.]*)`", cells[2]):
            assert re.search(rf"\b{re.escape(name.split('.')[-1])}\b", module), name
        for path in re.findall(r"`([\w.*-]+\.json)`", cells[3]):
            assert list(VECTOR_DIR.glob(path)), path


def test_vectors_readme_lists_every_file():
    listed = (VECTOR_DIR / "README.md").read_text()
    for path in sorted(VECTOR_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        assert f"`{path.name}`" in listed, path.name
        assert str(doc["numberOfTests"]) in listed

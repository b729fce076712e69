"""Break the code on purpose, row by row, and show that the requirements matrix's tests notice.

    python tests/break_rows.py              # every mutation of tests/requirements.md
    python tests/break_rows.py M05 M101     # some of them

For each mutation of the table "The mutations" in `requirements.md`, this copies the working
tree to a temporary directory, replaces the mutation's text in that copy of `op_continue.py`
(the text occurs exactly once: `test_docs.py` checks it), and runs exactly the tests that the
mutation's rows name, with pytest. A row is *proven* by a mutation when at least one of its
named tests fails (or the run hangs past the time limit, which CI also counts as a failure).

It prints one line per mutation (`M05 1 of the 1 tests its rows name fail: RFC9421-2.1-4
proven`) and exits with status 1 if any row is not proven (2 for an id the table lacks). It is a
command, not a test: it runs the suite's tests a hundred and more times (about ten minutes on
two cores).
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MATRIX = ROOT / "tests" / "requirements.md"
ROW = re.compile(r"^\| (RFC\d{4}-[0-9A-Z][0-9A-Za-z.]*-s?[0-9][0-9a-z.-]*) \|(.*)\|$", re.M)
MUTATION = re.compile(r"^\| (M\d+) \| ([^|]*) \| `(.*?)` \| `(.*?)` \|", re.M)
NODE = re.compile(r"`(tests/\w+\.py::test_\w+(?:\[[^`]*\])?)`")
LIMIT = 300  # seconds per mutation: M68 (no sleep between polls) makes two tests spin


def _unescape(text: str) -> str:
    return text.replace("\u23ce", "\n").replace("\\|", "|")


def matrix():
    """({row id: [named node ids]}, [(mutation, [row ids], replaced, by)])."""
    text = MATRIX.read_text(encoding="utf-8")
    rows = {}
    for row_id, rest in ROW.findall(text):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", rest)]
        rows[row_id] = NODE.findall(cells[3])
    mutations = [(m, [r.strip() for r in rs.split(",")], _unescape(old), _unescape(new))
                 for m, rs, old, new in MUTATION.findall(text.split("## The mutations", 1)[1])]
    return rows, mutations


def run(mutation, row_ids, replaced, by, rows, tree):
    """Apply one mutation in `tree`, run its rows' tests: (failed node ids, tests run, hung)."""
    module = tree / "op_continue.py"
    source = (ROOT / "op_continue.py").read_text(encoding="utf-8")
    assert source.count(replaced) == 1, f"{mutation}: its text is not in op_continue.py once"
    nodes = sorted({node for row_id in row_ids for node in rows[row_id]})
    module.write_text(source.replace(replaced, by), encoding="utf-8")
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:randomly",
                                 "-p", "no:cacheprovider", "--hypothesis-profile=break-rows",
                                 *nodes], cwd=tree, capture_output=True, text=True,
                                timeout=LIMIT, check=False)
    except subprocess.TimeoutExpired:
        return [], 0, True
    finally:
        module.write_text(source, encoding="utf-8")
    failed = re.findall(r"^(?:FAILED|ERROR) (tests/\S+?(?:\[.*?\])?)(?: - |$)", result.stdout, re.M)
    ran = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed|error|xfailed|xpassed)",
                                         result.stdout.strip().splitlines()[-1]))
    return failed, ran, False


def main(only):
    rows, mutations = matrix()
    unknown = sorted(only - {mutation for mutation, _, _, _ in mutations})
    if unknown:
        print(f"no such mutation in tests/requirements.md: {', '.join(unknown)}", file=sys.stderr)
        return 2
    unproven = 0
    with tempfile.TemporaryDirectory() as tmp:
        tree = pathlib.Path(tmp) / "tree"
        shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(
            ".git", ".venv*", "node_modules", "mutants", "__pycache__", "*.egg-info", "build"))
        for mutation, row_ids, replaced, by in mutations:
            if only and mutation not in only:
                continue
            failed, n, hung = run(mutation, row_ids, replaced, by, rows, tree)
            verdicts = []
            for row_id in row_ids:
                named = set(rows[row_id])
                caught = hung or any(f in named or f.split("[")[0] in named for f in failed)
                unproven += not caught
                verdicts.append(f"{row_id} {'proven' if caught else 'NOT PROVEN'}")
            what = (f"hangs past {LIMIT} s" if hung
                    else f"{len(failed)} of the {n} tests its rows name fail")
            print(f"{mutation} {what}: {', '.join(verdicts)}", flush=True)
    return 1 if unproven else 0


if __name__ == "__main__":
    sys.exit(main({arg.upper() for arg in sys.argv[1:]}))

"""The README's spec-to-code map matches the citations in op_continue.py, both ways,
vectors/README.md lists every vector file, the README's shell sessions run as written, the
help files pinned in tests/help/ are the program's own --help, and every public name exists,
has a docstring and is in the README's API table.

Regenerate tests/help/ after changing the command line, and the line ranges of the README's
reading order after changing op_continue.py (then review the diff):

    python tests/test_docs.py --write-help
    python tests/test_docs.py --write-reading-order
"""
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, VECTOR_DIR

import op_continue as oc

CITATION = re.compile(r"RFC (\d{4}) §([0-9A-Z][0-9A-Za-z.]*[0-9A-Za-z]|[0-9])")
ROW = re.compile(r"^\| RFC (\d{4}) \| §([0-9A-Z][0-9A-Za-z.]*[0-9A-Za-z]|[0-9]) ", re.M)


def test_every_citation_is_in_the_spec_map_and_back():
    cited = {f"RFC {n} §{s}" for n, s in CITATION.findall((ROOT / "op_continue.py").read_text())}
    mapped = {f"RFC {n} §{s}" for n, s in ROW.findall((ROOT / "README.md").read_text())}
    assert cited - mapped == set(), "cited in op_continue.py, missing from the README map"
    assert mapped - cited == set(), "in the README map, never cited in op_continue.py"


QUOTE = re.compile(r'RFC (\d{4}) §([0-9][\w.]*[0-9]|[0-9]): "(.*)"')
QUOTE_AFTER = re.compile(r'"([^"]+)" -- RFC (\d{4}) §([0-9][\w.]*[0-9]|[0-9])')


def _quotes():
    """(line number, RFC, section, quoted words) for each ``RFC NNNN §x: "..."`` (the quote
    runs to the line's last '"') and each ``"..." -- RFC NNNN §x`` in op_continue.py."""
    found = []
    for number, line in enumerate((ROOT / "op_continue.py").read_text().splitlines(), 1):
        quotes = [(m[1], m[2], m[3].rstrip('"')) for m in QUOTE.finditer(line)]
        quotes += [(m[2], m[3], m[1]) for m in QUOTE_AFTER.finditer(line)]
        if not quotes:
            assert not re.search(r'RFC \d{4} §[\w.]+: "', line), (number, "quote not closed")
        found += [(number, *quote) for quote in quotes]
    return found


def test_rfc_quotes_are_closed_on_their_line():
    assert len(_quotes()) >= 30


def check_quotes_against(spec):
    """Each quote is in the RFC's text (whitespace normalised; "..." stands for a gap), read
    from the folder ``spec``: rfc9421.txt, rfc9530.txt, rfc8941.txt as published, and
    rfc9635-excerpts.md, the RFC 9635 sections it has (## RFC 9635 §N headings). The texts are
    not in this repository (vectors/README.md says where they are published), so this is a
    command, not a test: python tests/test_docs.py --check-quotes FOLDER."""
    texts = {n: " ".join(open(os.path.join(spec, f"rfc{n}.txt")).read().split())
             for n in ("9421", "9530", "8941")}
    excerpts = open(os.path.join(spec, "rfc9635-excerpts.md")).read()
    # the excerpts are the RFC's markdown source: read `x`, [x](#anchor) and {{x}} as the RFC
    # prints them (x, x and [x])
    plain = re.sub(r"\[([^]]+)\]\(#[^)]*\)", r"\1", excerpts.replace("`", ""))
    texts["9635"] = " ".join(re.sub(r"\{\{([^}]+)\}\}", r"[\1]", plain).split())
    in_excerpts = set(re.findall(r"^## RFC 9635 §([\d.]+)", excerpts, re.M))
    in_excerpts |= {s for h in re.findall(r"^## RFC 9635 .*$", excerpts, re.M)
                    for s in re.findall(r"§([\d.]+)", h)}
    checked = 0
    for number, rfc, section, quote in _quotes() + _matrix_quotes():
        if rfc not in texts or (rfc == "9635" and section not in in_excerpts):
            continue  # an RFC (or section) the folder does not have
        position = 0
        for piece in (" ".join(p.replace("`", "").split()) for p in quote.split("...")):
            if piece:
                position = texts[rfc].find(piece, position)
                assert position >= 0, (number, f"not in RFC {rfc}", piece)
        checked += 1
    assert checked >= 200
    return checked


def _matrix_quotes():
    """(row id, RFC, section, quoted words) for each "..." in the Statement cells of
    tests/requirements.md (the section is the row id's: RFC9421-2.1-3 is RFC 9421 §2.1)."""
    found = []
    for row_id, rest in REQUIREMENT_ROW.findall((ROOT / "tests" / "requirements.md").read_text()):
        rfc, section = re.match(r"RFC(\d{4})-([\d.]+)-", row_id).groups()
        statement = re.split(r"(?<!\\)\|", rest)[0]
        found += [(row_id, rfc, section, quote.replace("\\|", "|"))
                  for quote in re.findall(r'"([^"]+)"', statement)]
    return found


def test_spec_map_names_real_functions_and_vector_files():
    module = (ROOT / "op_continue.py").read_text()
    readme = (ROOT / "README.md").read_text()
    matrix_ids = [row_id for row_id, _ in
                  REQUIREMENT_ROW.findall((ROOT / "tests" / "requirements.md").read_text())]
    assert len(matrix_ids) >= 150
    for line in readme.splitlines():
        if not ROW.match(line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_][\w.]*)`", cells[2]):
            assert re.search(rf"\b{re.escape(name.split('.')[-1])}\b", module), name
        for path in re.findall(r"`([\w.*-]+\.json)`", cells[3]):
            assert list(VECTOR_DIR.glob(path)), path
        named = re.findall(r"`([^`]*)`", cells[4])
        assert named, f"a row without a test: {line[:60]}"
        for test in named:  # file::test, or file::test[parameter id]
            match = re.fullmatch(r"(test_\w+\.py)::(test_\w+)(\[[^\]]+\])?", test)
            assert match, f"not file::test: {test}"
            source = (ROOT / "tests" / match[1]).read_text()
            assert re.search(rf"^def {match[2]}\(", source, re.M), test
        # the index into tests/requirements.md: `RFC9421-2.1-*` (n rows), every row of the section
        for prefix, count in re.findall(r"`(RFC\d{4}-[\w.]+-)\*` \((\d+) rows?\)", cells[5]):
            assert f"RFC{cells[0][4:]}-{cells[1].split()[0][1:]}-" == prefix, line
            assert sum(row_id.startswith(prefix) for row_id in matrix_ids) == int(count), line


DEVIATION = re.compile(r"DEVIATION (DEV-[a-z0-9-]+)")
DEVIATION_ROW = re.compile(r"^\| `(DEV-[a-z0-9-]+)` \| ([^|]+) \|", re.M)


def _deviation_markers():
    """{id: {names of the functions whose bodies carry a `DEVIATION <id>` marker}}: the nearest
    `def` above each marker (methods by their own name)."""
    markers = {}
    function = None
    for line in (ROOT / "op_continue.py").read_text().splitlines():
        found = re.match(r"\s*def (\w+)\(", line)
        if found:
            function = found.group(1)
        if "DEVIATION" in line:
            marker = DEVIATION.search(line)
            assert marker, f"a DEVIATION marker without an id: {line.strip()}"
            markers.setdefault(marker.group(1), set()).add(function)
    return markers


def test_every_deviation_marker_is_in_the_table_and_back():
    """Each `DEVIATION DEV-x` comment in op_continue.py has a row in the README's deviations
    table, each row has a marker, and the marker sits in a function the row's "Where" names."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Deviations from the RFCs", 1)[1].split("\n## ", 1)[0]
    rows = DEVIATION_ROW.findall(section)
    ids = [row_id for row_id, _ in rows]
    assert len(ids) == len(set(ids)) and len(ids) >= 12, ids
    markers = _deviation_markers()
    assert set(markers) - set(ids) == set(), "marked in op_continue.py, missing from the table"
    assert set(ids) - set(markers) == set(), "in the table, never marked in op_continue.py"
    import op_continue
    for row_id, where in rows:
        named = re.findall(r"`([A-Za-z_][\w.]*)`", where)
        assert named, row_id
        for name in named:
            obj = op_continue
            for part in name.split("."):
                obj = getattr(obj, part)  # AttributeError: the row names no such function
            assert callable(obj), name
        assert markers[row_id] <= {name.split(".")[-1] for name in named}, (row_id, markers[row_id])


REQUIREMENT_ROW = re.compile(r"^\| (RFC\d{4}-[0-9A-Z][0-9A-Za-z.]*-s?[0-9][0-9a-z.-]*) \|(.*)\|$",
                             re.M)


def test_requirements_matrix_names_real_code_tests_and_deviations():
    """tests/requirements.md: unique ids; the Code column's first name is a function (or class,
    constant) of op_continue.py and every other quoted piece is one or a verbatim part of its text;
    every named test is a test function of its file; every DEV-id is a deviations-table row."""
    import op_continue

    module = (ROOT / "op_continue.py").read_text()
    readme = (ROOT / "README.md").read_text()
    deviations = set(DEVIATION_ROW.findall(readme.split("### Deviations from the RFCs", 1)[1]))
    deviation_ids = {row_id for row_id, _ in deviations}
    rows = REQUIREMENT_ROW.findall((ROOT / "tests" / "requirements.md").read_text())
    ids = [row_id for row_id, _ in rows]
    assert len(rows) >= 150 and len(ids) == len(set(ids))
    for row_id, rest in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", rest)]
        _statement, verdict, code, tests = cells[:4]
        for n, quoted in enumerate(re.findall(r"`([^`]+)`", code)):
            piece = quoted.replace("\\|", "|")
            obj = op_continue
            try:
                for part in piece.split("."):
                    obj = getattr(obj, part)
            except AttributeError:
                assert n > 0 and piece in module, (row_id, piece)
        for path, name in re.findall(r"`(tests/\w+\.py)::(test_\w+)", tests):
            assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), (row_id, name)
        for dev in re.findall(r"DEV-[a-z0-9-]+", verdict):
            assert dev in deviation_ids, (row_id, dev)


VERDICTS = ("implemented", "partly implemented", "deviation", "not implemented", "not applicable")


def _matrix_tests():
    """{row id: (verdict, {(file, test function) named in its Tests column})}."""
    rows = {}
    for row_id, rest in REQUIREMENT_ROW.findall((ROOT / "tests" / "requirements.md").read_text()):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", rest)]
        verdict = next(v for v in VERDICTS if cells[1].startswith(v))  # StopIteration: no verdict
        rows[row_id] = verdict, set(re.findall(r"`(tests/\w+\.py)::(test_\w+)", cells[3]))
    return rows


def _req_marks():
    """{(file, test function): [requirement ids]}: the @pytest.mark.req decorators of the test
    functions pytest collects (module-level test_* functions of tests/test_*.py). Read from the
    source, not by importing the modules: the floor leg lacks some of their dependencies."""
    import ast
    marked = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        source = path.read_text()
        found = 0
        for node in ast.parse(source).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
                continue
            ids = [ast.literal_eval(arg) for deco in node.decorator_list
                   if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                   and deco.func.attr == "req" and isinstance(deco.func.value, ast.Attribute)
                   and deco.func.value.attr == "mark" for arg in deco.args]
            found += sum(1 for deco in node.decorator_list if isinstance(deco, ast.Call)
                         and isinstance(deco.func, ast.Attribute) and deco.func.attr == "req")
            if ids:
                marked[(f"tests/{path.name}", node.name)] = ids
        # a req mark anywhere else (a class, a helper, pytest.param) is not one this rule sees
        assert len(re.findall(r"^\s*@pytest\.mark\.req\(|[(,]\s*marks=.*\.req\(", source, re.M)) \
            == found, path.name
    return marked


def test_requirements_matrix_and_the_req_marks_agree():
    """The rule stated in the matrix's header: each row's Tests column names exactly the test
    functions that carry its id in @pytest.mark.req, every marked id is a row, and every
    implemented, partly implemented or deviation row names at least one test."""
    rows = _matrix_tests()
    marked = _req_marks()
    assert len(marked) >= 100
    by_id = {}
    for test, ids in marked.items():
        assert len(ids) == len(set(ids)), test
        for row_id in ids:
            assert row_id in rows, f"{test} is marked {row_id}, which is no row of the matrix"
            by_id.setdefault(row_id, set()).add(test)
    for row_id, (verdict, tests) in rows.items():
        if verdict in ("implemented", "partly implemented", "deviation"):
            assert tests, f"{row_id}: {verdict}, but no test named"
        marked_only = sorted(by_id.get(row_id, set()) - tests)
        named_only = sorted(tests - by_id.get(row_id, set()))
        assert (marked_only, named_only) == ([], []), f"{row_id}: marked only, named only"


MUTATION_ROW = re.compile(r"^\| (M\d+) \| ([^|]*) \| `(.*?)` \| `(.*?)` \|", re.M)


def test_requirements_matrix_mutations_can_be_applied_again():
    """Each mutation listed in tests/requirements.md replaces a text that occurs exactly once in
    op_continue.py (so anyone can apply it again), and names rows of the matrix."""
    text = (ROOT / "tests" / "requirements.md").read_text()
    module = (ROOT / "op_continue.py").read_text()
    row_ids = {row_id for row_id, _ in REQUIREMENT_ROW.findall(text)}
    mutations = MUTATION_ROW.findall(text.split("## The mutations", 1)[1])
    assert len(mutations) >= 80 and len({m[0] for m in mutations}) == len(mutations)
    for mutation, rows, replaced, _by in mutations:
        assert module.count(replaced.replace("\u23ce", "\n").replace("\\|", "|")) == 1, mutation
        assert {r.strip() for r in rows.split(",")} <= row_ids, mutation
    # the Broken marks: a row marked "✓ Mnn" is one of Mnn's rows and the other way round, and
    # every implemented, partly implemented or deviation row has one (break_rows.py runs them)
    rows_of = {m: {r.strip() for r in rows.split(",")} for m, rows, _, _ in mutations}
    marked = set()
    for row_id, verdict in _matrix_tests().items():
        broken = re.split(r"(?<!\\)\|", dict(REQUIREMENT_ROW.findall(text))[row_id])[4]
        marks = re.findall(r"✓ (M\d+) \(\d+ of \d+\)", broken)
        assert marks or verdict[0] not in ("implemented", "partly implemented", "deviation"), row_id
        for mark in marks:
            assert row_id in rows_of[mark], (row_id, mark)
            marked.add((mark, row_id))
    assert marked == {(m, r) for m, rows in rows_of.items() for r in rows}


def test_requirements_matrix_test_ids_are_collected():
    """Each node id the matrix names (with its parameters) is one pytest collects."""
    text = (ROOT / "tests" / "requirements.md").read_text()
    node_ids = sorted({node for _, rest in REQUIREMENT_ROW.findall(text)
                       for node in re.findall(r"`(tests/\w+\.py::test_\w+(?:\[[^`]*\])?)`", rest)})
    if importlib.util.find_spec("hypothesis") is None:  # the floor leg: the main leg checks them
        node_ids = [node for node in node_ids if not node.startswith("tests/test_properties.py")]
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "-p", "no:cacheprovider", *node_ids],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_every_security_claim_names_tests_that_exist():
    """Each bullet of the README's "Security considerations" names at least one test, and each
    named test is a test function of that file (the floor leg runs the same files)."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Security considerations\n", 1)[1].split("\n### ", 1)[0]
    claims = [c for c in re.split(r"\n- ", section)[1:]]
    assert len(claims) >= 12
    for claim in claims:
        named = re.findall(r"`(tests/[\w]+\.py)::(test_\w+)`", claim)
        assert named, f"a claim without a test: {claim[:60]}"
        for path, name in named:
            assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), (path, name)


def test_the_library_example_checks_the_hash_before_continuing():
    """RFC 9635 §4.2.3: the client MUST check the finish hash; the README's example does, and
    continues with the interact_ref of the redirect it checked."""
    readme = (ROOT / "README.md").read_text()
    example = readme.split("## Using it", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    compile(example, "README.md", "exec")
    check = example.index("oc.verify_interaction_hash(finish.hash")
    assert check < example.index("client.continue_grant(") < example.index("finish.interact_ref)")


def test_vectors_readme_lists_every_file():
    listed = (VECTOR_DIR / "README.md").read_text()
    for path in sorted(VECTOR_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        assert f"`{path.name}`" in listed, path.name
        assert str(doc["numberOfTests"]) in listed


def test_tests_readme_maps_every_test_file_and_each_section_it_names():
    """tests/README.md: every tests/test_*.py is in one of its tables, every file or directory
    a table names exists, and every "N. Title" it names is a section of op_continue.py."""
    tables = (ROOT / "tests" / "README.md").read_text().split("\n## Running", 1)[0]
    rows = re.findall(r"^\| (`.+?) \| (.+?) \|", tables, re.M)
    named = {name for first, _ in rows for name in re.findall(r"`([\w./]+)`", first)}
    on_disk = {path.name for path in (ROOT / "tests").glob("test_*.py")}
    assert on_disk - named == set(), "test files missing from tests/README.md"
    assert {n for n in named if not (ROOT / "tests" / n).exists()} == set()
    headers = re.findall(r"^# (\d+\. .*)$", (ROOT / "op_continue.py").read_text(), re.M)
    sections = [s for _, second in rows for s in re.findall(r"\b\d+\. [A-Z][\w ]*?(?=,| \(|$)",
                                                              second)]
    assert len(sections) >= 12
    for section in sections:
        assert any(header.startswith(section) for header in headers), section


def _walkthrough_steps():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    steps = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            steps.append((command, output))
    return steps


def _tree_path(tmp_path):
    """A PATH whose op-continue runs this tree's op_continue.py (whatever the environment has
    installed), then this interpreter's directory (python), then the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "op-continue"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "op_continue.py"}" "$@"\n')
    script.chmod(0o755)
    return os.pathsep.join([str(bin_dir), os.path.dirname(sys.executable), os.environ["PATH"]])


def test_walkthrough_commands_print_what_the_readme_shows(tmp_path):
    """Runs the README walkthrough in one shell, with this tree's op-continue. Each step must
    exit 0 (a step that shows a failure ends in `; echo "exit $?"`) and print nothing on stderr
    that the README does not show (a step shows stderr with 2>&1)."""
    steps = _walkthrough_steps()
    assert len(steps) >= 10
    marker = "@@STEP@@"
    script = "".join(f'echo {marker}\n{cmd}\nstatus=$?; [ "$status" = 0 ] || '
                     f'{{ echo "step {i} exited $status" >&2; exit 1; }}\n'
                     for i, (cmd, _) in enumerate(steps))
    env = {**os.environ, "PATH": _tree_path(tmp_path)}
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, "")
    outputs = proc.stdout.split(marker + "\n")[1:]
    assert len(outputs) == len(steps)
    for (command, expected), got in zip(steps, outputs):
        assert got.rstrip("\n") == expected.rstrip("\n"), command


TAMPERED = {  # the walkthrough's tamper exercises: the file each makes, what verify says of it
    "body.txt": "op-continue: invalid: Content-Digest: sha-512 does not match the body\nexit 1",
    "host.txt": "op-continue: invalid: signature does not verify\nexit 1",
    "order.txt": "valid\nexit 0",
    "twice.txt": "op-continue: invalid: signature does not verify\nexit 1",
}


@pytest.mark.req("RFC9421-4.1-3", "RFC9421-4.2-2")
def test_walkthrough_has_the_tamper_exercises_with_their_outcomes():
    """Issue 17 item 4: a body byte, the Host, header order, a duplicate header and a stale
    created, each verified with its expected exit code and message (the test above runs them);
    --require and the warnings of a signature that covers less; the base's final newline."""
    steps = dict(_walkthrough_steps())
    verify = 'op-continue verify --message {} --key jwks.json 2>&1; echo "exit $?"'
    for name, outcome in TAMPERED.items():
        assert any(f"> {name}" in command for command in steps), name
        assert steps[verify.format(name)].rstrip("\n") == outcome, name
    stale = 'op-continue verify --message request.txt --key jwks.json --max-age 300 2>&1; '
    assert steps[stale + 'echo "exit $?"'] == "op-continue: invalid: signature is too old\nexit 1\n"
    scheme = 'op-continue verify --message request.txt --key jwks.json --scheme http 2>&1; '
    assert steps[scheme + 'echo "exit $?"'].endswith("exit 1\n")
    weak = [out for command, out in steps.items() if "--message weak.txt" in command]
    assert weak[0].startswith("op-continue: invalid: not signed as the Open Payments profile")
    assert "op-continue: warning: the body is not protected" in weak[1]  # --profile none
    assert weak[2] == ('op-continue: invalid: a required component is not covered: '
                       '"content-digest"\nexit 1\n')
    assert any("--show-base" in command for command in steps)
    section = (ROOT / "README.md").read_text().split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    assert "RFC 9421 §2.5 puts no newline after it" in section


def test_the_whole_flow_in_a_shell_runs_as_written(tmp_path):
    """The README's "The whole flow in a shell" block, run by bash from the repository root:
    it starts tests/local_as.py itself (on a free port), then grant, approve, finish,
    continue, rotate and revoke, each eval-ing the previous one's --format env output."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## The whole flow in a shell\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(block) == 1
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PATH": _tree_path(tmp_path), "TMPDIR": str(scratch)}
    for name in ("PRIVATE_KEY_PATH", "KEY_ID", "GRANT_ENDPOINT", "WALLET_ADDRESS"):
        env.pop(name, None)
    proc = subprocess.Popen(["bash", "-e", "-c", block[0]], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        try:  # the local AS the block started in the background, if the block failed
            os.killpg(proc.pid, 15)
        except ProcessLookupError:
            pass
    assert (proc.returncode, err) == (0, ""), (out, err)
    lines = out.splitlines()
    assert len(lines) == 2, out
    manage = re.fullmatch(r"token manage URL: (http://127\.0\.0\.1:\d+/token/[\w-]+)", lines[0])
    revoked = re.fullmatch(r"revoked: the access token at (http://127\.0\.0\.1:\d+/token/[\w-]+)",
                           lines[1])
    assert manage and revoked and manage.group(1) != revoked.group(1)  # rotated, then revoked
    work = [p for p in scratch.iterdir()]  # the block's mktemp -d: the key is there, not in ROOT
    assert len(work) == 1 and (work[0] / "client.key").exists()
    assert not (ROOT / "client.key").exists() and not (ROOT / "as.log").exists()


HELP_DIR = ROOT / "tests" / "help"


def _help_texts():
    """{file name: text} of `op-continue [COMMAND] --help` as it prints 100 columns wide, with
    the heading Python >= 3.10 gives the options (older versions say "optional arguments:")."""
    import contextlib
    import io

    import op_continue

    commands = sorted(op_continue._parser()._subparsers._group_actions[0].choices)
    texts = {}
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal width
    try:
        for command in ["", *commands]:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                op_continue.main([*command.split(), "--help"])
            text = out.getvalue().replace("\noptional arguments:\n", "\noptions:\n")
            texts[f"{command or 'op-continue'}.txt"] = text
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return texts


def test_every_commands_help_is_pinned_in_tests_help():
    """tests/help/<command>.txt (op-continue.txt: the top level) is each command's --help;
    regenerate them with `python tests/test_docs.py --write-help`."""
    texts = _help_texts()
    assert sorted(p.name for p in HELP_DIR.glob("*.txt")) == sorted(texts)
    for name, text in texts.items():
        assert (HELP_DIR / name).read_text() == text, name


def test_every_commands_help_has_purpose_environment_and_exit_codes():
    texts = _help_texts()
    for name, text in texts.items():
        if name == "op-continue.txt":
            continue
        usage, purpose = text.split("\n\n")[:2]
        assert usage.startswith("usage: op-continue ") and purpose[0].isupper(), name
        assert "exit codes:" in text, name
    for name in ("grant", "continue", "poll", "cancel", "rotate", "revoke", "finish", "hash",
                 "jwk", "keygen"):
        assert "(env " in texts[f"{name}.txt"] or "environment" in texts[f"{name}.txt"], name
    assert "(default: 10)" in texts["grant.txt"] and "example" in texts["grant.txt"]
    assert "FINISH_REDIRECT" in texts["finish.txt"]


DEMO = re.compile(r"`((?:op-continue |INTERACT_REF=|ACCESS_TOKEN=|sed )[^`]*)`")


def test_why_each_piece_demonstrations_say_what_the_readme_says(tmp_path):
    """Each command of "Why each piece is there" runs after the walkthrough, in its scratch
    directory, and prints what the README says it says."""
    readme = (ROOT / "README.md").read_text()
    chapter = readme.split("## Why each piece is there\n", 1)[1].split("\n## ", 1)[0]
    claims = chapter.split("\n- ")[1:]
    assert len(claims) == 7
    # The walkthrough runs once; each claim then starts from a copy of the directory it ended
    # in, with the variables it exported.
    env = {**os.environ, "PATH": _tree_path(tmp_path), "TMPDIR": str(tmp_path)}
    state = tmp_path / "walked.sh"
    setup = "".join(f"{command}\n" for command, _ in _walkthrough_steps())
    setup += f'export -p > "{state}"; printf %s "$PWD"\n'
    walked = subprocess.run(["bash", "-c", setup], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env=env, check=True).stdout
    checked = 0
    for number, claim in enumerate(claims):
        commands = [" ".join(c.split()) for c in DEMO.findall(claim)]
        said = [" ".join(s.split()) for s in re.findall(r"says\s+`([^`]*)`", claim)]
        if not said:
            continue
        scratch = shutil.copytree(walked.rsplit("\n", 1)[-1], tmp_path / f"claim{number}")
        script = f'. "{state}"\n' + "".join(f"{command} || true\n" for command in commands)
        proc = subprocess.run(["bash", "-c", script], cwd=scratch, capture_output=True,
                              text=True, timeout=120, env=env)
        for text in said:
            assert text in proc.stdout + proc.stderr, (text, proc.stderr[-500:])
            checked += 1
    assert checked >= 4


def _lint_section():
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Lint a request from another client\n", 1)[1].split("\n## ", 1)[0]


LINT_ROW = re.compile(r"^\| `([a-z-]+)` \| (error|warning|note) \| ([^|]+) \| ([^|]+) \|$", re.M)


def test_lint_rules_table_is_the_code():
    """The README's rules table is LINT_RULES: the same ids, severities, sources and
    descriptions, both ways."""
    import op_continue

    rows = {rule: (severity, source, text) for rule, severity, source, text
            in LINT_ROW.findall(_lint_section())}
    assert rows == op_continue.LINT_RULES


def test_lint_example_runs_as_written(tmp_path):
    """The console block of "Lint a request from another client" runs after the walkthrough,
    in its scratch directory, and prints what the README shows."""
    blocks = re.findall(r"```console\n(.*?)```", _lint_section(), re.S)
    assert len(blocks) == 1
    steps = [chunk.partition("\n")[::2] for chunk in re.split(r"^\$ ", blocks[0], flags=re.M)[1:]]
    assert any(command.startswith("op-continue lint ") for command, _ in steps)
    marker = "@@STEP@@"
    setup = "".join(f"{command}\n" for command, _ in _walkthrough_steps())
    script = f"{{\n{setup}}} > /dev/null 2>&1\n" + "".join(f"echo {marker}\n{command}\n"
                                                          for command, _ in steps)
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PATH": _tree_path(tmp_path)})
    assert (proc.returncode, proc.stderr) == (0, "")
    outputs = proc.stdout.split(marker + "\n")[1:]
    assert outputs == [expected for _, expected in steps]


READING_ROW = re.compile(r"^(\| [^|]+ \| `([\w.]+)` \| )([^|]+)( \|)", re.M)


def _line_range(name):
    """"first-last" lines of a function or Class.method of op_continue.py, decorators included
    (inspect, not ast: ast has no end lines before Python 3.8, which the floor leg runs)."""
    import inspect

    import op_continue

    obj = op_continue
    for part in name.split("."):
        obj = getattr(obj, part)
    lines, first = inspect.getsourcelines(obj)
    return f"{first}-{first + len(lines) - 1}"


def _reading_order(readme):
    section = readme.split("## Reading order for students\n", 1)[1].split("\n## ", 1)[0]
    return READING_ROW.findall(section)


def test_reading_order_names_real_functions_and_their_lines():
    """Regenerate the ranges with `python tests/test_docs.py --write-reading-order`."""
    rows = _reading_order((ROOT / "README.md").read_text())
    assert len(rows) >= 8
    for _, name, lines, _ in rows:
        assert lines.strip() == _line_range(name), (name, _line_range(name))


MODULE_LINES = re.compile(r"`op_continue\.py` is ([0-9,]+) lines")


def _module_lines():
    return f"{len((ROOT / 'op_continue.py').read_text().splitlines()):,}"


def test_the_readme_states_the_module_line_count():
    """The reading order's "`op_continue.py` is N lines" is the module's line count (as
    ``wc -l`` counts), rewritten by --write-reading-order."""
    stated = MODULE_LINES.findall((ROOT / "README.md").read_text())
    assert stated == [_module_lines()]


if __name__ == "__main__" and sys.argv[1:] == ["--write-reading-order"]:
    readme = (ROOT / "README.md").read_text()
    head, tail = readme.split("## Reading order for students\n", 1)
    sys.path.insert(0, str(ROOT))
    tail = READING_ROW.sub(lambda m: f"{m.group(1)}{_line_range(m.group(2))}{m.group(4)}", tail)
    tail = MODULE_LINES.sub(f"`op_continue.py` is {_module_lines()} lines", tail)
    (ROOT / "README.md").write_text(head + "## Reading order for students\n" + tail)
    print("wrote the reading order's line ranges")

if __name__ == "__main__" and sys.argv[1:2] == ["--check-quotes"] and len(sys.argv) == 3:
    print(f"{check_quotes_against(sys.argv[2])} quotes (op_continue.py's and the requirements"
          " matrix's) found in the RFC texts")

if __name__ == "__main__" and sys.argv[1:] == ["--write-help"]:
    sys.path.insert(0, str(ROOT))
    HELP_DIR.mkdir(exist_ok=True)
    for name, text in _help_texts().items():
        (HELP_DIR / name).write_text(text)
        print(f"wrote tests/help/{name}")


def _own_docstring(obj):
    """``obj``'s own docstring: not inherited (inspect.getdoc would inherit one), and not the
    signature a dataclass writes for a class without one."""
    doc = vars(obj).get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if isinstance(obj, type) and doc and doc.startswith(obj.__name__ + "("):
        return None  # dataclasses.dataclass's stand-in
    return (doc or "").strip() or None


def public_api():
    """(qualified name, object): everything in __all__, and the public methods and properties
    each public class defines itself."""
    for name in oc.__all__:
        obj = getattr(oc, name)
        yield name, obj
        if not isinstance(obj, type):
            continue
        for attr, member in vars(obj).items():
            if attr.startswith("_"):
                continue
            function = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                else member.fget if isinstance(member, property) else member
            if inspect.isfunction(function):
                yield f"{name}.{attr}", function


def test_every_public_name_has_a_docstring():
    names = [name for name, _ in public_api()]
    assert {"Client.sign", "SignedRequest.header", "GnapAuth", "Message.is_request",
            "PrivateKey.generate", "verify_message"} <= set(names)
    assert all(callable(getattr(oc, name)) for name in oc.__all__)  # no constant hides in there
    missing = [name for name, obj in public_api() if _own_docstring(obj) is None]
    assert missing == []


def test_the_readme_api_table_lists_every_public_name():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    using = readme.split("## Using it\n", 1)[1].split("\n## ", 1)[0]  # it stays in "Using it"
    table = using.split("| Name | What it is |\n", 1)[1].split("\n\n", 1)[0]
    first_cells = [row.split(" | ", 1)[0] for row in table.splitlines()[1:]]
    listed = set(re.findall(r"`(\w+)", " ".join(first_cells)))
    assert listed == set(oc.__all__)


def test_all_names_exist():
    assert [name for name in oc.__all__ if not hasattr(oc, name)] == []
    assert len(set(oc.__all__)) == len(oc.__all__)  # each name once

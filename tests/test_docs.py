"""The README's spec-to-code map matches the citations in op_continue.py, both ways,
vectors/README.md lists every vector file, and the README's command reference is the program's
own --help."""
import json
import re

import pytest
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


def _walkthrough_steps():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walkthrough", 1)[1].split("\n## ", 1)[0]
    steps = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            steps.append((command, output))
    return steps


def test_walkthrough_commands_print_what_the_readme_shows(tmp_path):
    """Runs the README walkthrough in one shell, with the op-continue of this environment."""
    import os
    import subprocess
    import sys

    steps = _walkthrough_steps()
    assert len(steps) >= 10
    marker = "@@STEP@@"
    script = "set -e\n" + "".join(f"echo {marker}\n{cmd}\n" for cmd, _ in steps)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    outputs = proc.stdout.split(marker + "\n")[1:]
    for (command, expected), got in zip(steps, outputs):
        assert got.rstrip("\n") == expected.rstrip("\n"), command


def _documented_help():
    """(argv, text) for each `op-continue … --help` block of the README's command reference."""
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"^#### `op-continue ((?:[a-z]+ )?)--help`\n\n```text\n(.*?)\n```$",
                      readme, re.M | re.S)


def test_command_reference_is_every_commands_help(monkeypatch, capsys):
    import op_continue

    monkeypatch.setenv("COLUMNS", "100")  # argparse wraps to the terminal width
    monkeypatch.setenv("NO_COLOR", "1")
    documented = _documented_help()
    commands = sorted(op_continue._parser()._subparsers._group_actions[0].choices)
    assert sorted(argv.strip() for argv, _ in documented) == sorted(["", *commands])
    for argv, expected in documented:
        with pytest.raises(SystemExit) as exit_:
            op_continue.main([*argv.split(), "--help"])
        assert exit_.value.code == 0
        printed = capsys.readouterr().out.rstrip("\n")
        # Python < 3.10 heads the options "optional arguments:"; the README shows today's name.
        assert printed.replace("\noptional arguments:\n", "\noptions:\n") == expected, argv

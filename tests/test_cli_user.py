"""The command line as a user meets it: no secret echoed from argv, one shell session from grant
to revoke (--format env), errors that name the setting and the fix, a copy without its
dependencies that says what is missing."""
import json
import os
import stat
import subprocess
import sys

import pytest
from conftest import KID, ROOT, run

import op_continue as oc

SENTINEL = "S3NT1N3L-value"
OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],
             "identifier": "https://wallet.example/alice"}]
FINISH_URI = "https://client.example/finish"
COMMANDS = sorted(oc._parser()._subparsers._group_actions[0].choices)


def run_any(capsys, *argv):
    """Like conftest.run, but an argparse exit (SystemExit) is an exit code too."""
    try:
        code = oc.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def flow_env(keyfile, monkeypatch):
    """Every setting a command reads, valid, so only the argument under test can fail."""
    for name, value in {"CONTINUE_URI": "https://as.example/continue/1",
                        "CONTINUE_ACCESS_TOKEN": "CONT-1", "INTERACT_REF": "REF-1",
                        "MANAGE_URL": "https://as.example/token/1", "ACCESS_TOKEN": "TOK-1",
                        "GRANT_ENDPOINT": "https://as.example/", "CLIENT_NONCE": "C",
                        "INTERACT_FINISH": "S", "WALLET_ADDRESS": "https://wallet.example/a",
                        "ACCESS": json.dumps(OUTGOING),
                        "FINISH_REDIRECT": "https://client.example/finish?hash=h&interact_ref=r"
                        }.items():
        monkeypatch.setenv(name, value)


# --- 1. secrets never echoed -------------------------------------------------------------------

SECRET_SPELLINGS = [
    # the options that would name a secret, and their abbreviations of the --...-file options
    ["--continue-access-token", SENTINEL], [f"--continue-access-token={SENTINEL}"],
    ["--continue-access", SENTINEL], ["--interact-ref", SENTINEL],
    [f"--interact-ref={SENTINEL}"], ["--interact", SENTINEL], ["--access-token", SENTINEL],
    [f"--access-token={SENTINEL}"], ["--access-tok", SENTINEL], ["--redirect", SENTINEL],
    [f"--redirect={SENTINEL}"], ["--redirect-f", SENTINEL],
    # guesses
    ["--token", SENTINEL], [f"--token={SENTINEL}"], [f"--secret={SENTINEL}"],
    [f"-{SENTINEL}"], [f"--{SENTINEL}"],  # (a lower-case --word is named: an option's name)
    # a stray positional, and values argparse would quote back (type, choice, flag)
    [SENTINEL], ["--", SENTINEL], ["--timeout", SENTINEL], ["--created", SENTINEL],
    # a secret pasted where its file's name belongs
    ["--continue-access-token-file", SENTINEL], ["--interact-ref-file", SENTINEL],
    ["--access-token-file", SENTINEL], [f"--redirect-file={SENTINEL}"],
    [f"--format={SENTINEL}"], [f"--dry-run={SENTINEL}"], ["--hash-method", SENTINEL],
    ["--max-age", SENTINEL], ["--algorithm", SENTINEL],
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("spelling", SECRET_SPELLINGS, ids=" ".join)
def test_no_argument_value_is_ever_echoed(command, spelling, flow_env, capsys):
    """The sentinel sweep: every command, every secret-bearing spelling, exit 2, never shown."""
    operand = ["file"] if command == "digest" else []  # (its one positional: a file name)
    code, out, err = run_any(capsys, command, *operand, *spelling)
    assert code == oc.EXIT_USAGE, (out, err)
    assert SENTINEL not in out + err and SENTINEL.lower() not in out + err
    assert err.startswith("usage: op-continue") or err.startswith("op-continue: error: ")


def test_a_secret_as_command_or_before_it_is_not_echoed(capsys):
    for argv in ([SENTINEL], [SENTINEL, "continue"], [f"--{SENTINEL}", "continue"]):
        code, out, err = run_any(capsys, *argv)
        assert code == oc.EXIT_USAGE and SENTINEL not in out + err


@pytest.mark.parametrize("option, env", [("--continue-access-token", "CONTINUE_ACCESS_TOKEN"),
                                         ("--interact-ref", "INTERACT_REF"),
                                         ("--access-token", "ACCESS_TOKEN"),
                                         ("--redirect", "FINISH_REDIRECT")])
def test_a_secret_option_says_where_the_value_goes(option, env, capsys):
    code, out, err = run_any(capsys, "continue", option, SENTINEL)
    assert (code, out) == (oc.EXIT_USAGE, "")
    assert err.splitlines()[-1] == (
        f"op-continue continue: error: {option} would put a secret on the command line (shell "
        f"history, ps, CI logs): set {env} in the environment, or give {option}-file FILE "
        f"('-' for stdin)")


def test_an_unknown_option_is_named_and_its_value_is_not(capsys):
    code, _, err = run_any(capsys, "rotate", f"--token={SENTINEL}", SENTINEL, "x")
    assert code == oc.EXIT_USAGE
    assert err.splitlines()[-1] == (
        "op-continue rotate: error: unrecognized option --token; 2 unexpected arguments (not "
        "shown); secrets are read from the environment or a --...-file option, never from the "
        "command line: see op-continue rotate --help")
    code, _, err = run_any(capsys, "digest", "--fast", "f")
    assert err.splitlines()[-1] == "op-continue digest: error: unrecognized option --fast"
    code, _, err = run_any(capsys, "digest", "f", SENTINEL)
    assert err.splitlines()[-1] == "op-continue digest: error: 1 unexpected argument (not shown)"


def test_options_are_never_abbreviated(flow_env, capsys):
    code, _, err = run_any(capsys, "continue", "--dry", "--continue-u", "https://as.example/c/2")
    assert code == oc.EXIT_USAGE and "unrecognized option --dry" in err


@pytest.mark.parametrize("message, shown", [
    ("the following arguments are required: --message", None),
    ("argument --max-age: expected one argument", None),
    (f"argument --timeout: invalid float value: '{SENTINEL}'",
     "argument --timeout: invalid float value (the value is not shown)"),
    (f"argument --format: invalid choice: '{SENTINEL}' (choose from 'text', 'env', 'json')",
     "argument --format: invalid choice (see --help) (the value is not shown)"),
    (f"argument --dry-run: ignored explicit argument '{SENTINEL}'",
     "argument --dry-run: takes no value (the value is not shown)"),
    (f"ambiguous option: --x={SENTINEL} could match --xa, --xb",
     "invalid command line (arguments are not shown); see --help"),
])
def test_argparse_messages_keep_names_only(message, shown):
    assert oc._argparse_error(message) == (message if shown is None else shown)


def test_the_before_stop_hook_command(tmp_path, key):
    """The exact command the project's hook runs: the sentinel is never printed."""
    path = tmp_path / "key.pem"
    key.write_pem(path)
    env = {**os.environ, "CONTINUE_URI": "https://as.example/continue/x", "INTERACT_REF": "r",
           "PRIVATE_KEY_PATH": str(path), "KEY_ID": "k"}
    proc = subprocess.run([sys.executable, str(ROOT / "op_continue.py"), "continue",
                           "--dry-run", "--continue-access-token", "SENTINEL"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "SENTINEL" not in proc.stdout + proc.stderr


def test_the_finish_redirect_is_read_from_a_file_or_stdin(flow_env, tmp_path, monkeypatch,
                                                          capsys):
    import io

    vec = {"client": "VJLO6A4CATR0KRO", "server": "MBDOFXG4Y5CVJCX821LH",
           "ref": "4IFWWIKYB2PQ6U56NL1", "endpoint": "https://server.example.com/tx"}
    hash_ = oc.interaction_hash(vec["client"], vec["server"], vec["ref"], vec["endpoint"])
    redirect = f"{FINISH_URI}?hash={hash_}&interact_ref={vec['ref']}"
    for name, value in (("CLIENT_NONCE", "client"), ("INTERACT_FINISH", "server"),
                        ("GRANT_ENDPOINT", "endpoint")):
        monkeypatch.setenv(name, vec[value])
    monkeypatch.delenv("FINISH_REDIRECT")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(redirect.encode())))
    assert run(capsys, "finish", "--redirect-file", "-", "--format", "env") == (
        0, f"export INTERACT_REF='{vec['ref']}'\n", "")
    path = tmp_path / "redirect"
    path.write_text(redirect + "\n")
    assert run(capsys, "finish", "--redirect-file", str(path), "--json") == (
        0, json.dumps({"interact_ref": vec["ref"]}) + "\n", "")
    monkeypatch.setenv("FINISH_REDIRECT", redirect)
    assert run(capsys, "finish") == (0, f"INTERACT_REF = {vec['ref']}\n", "")


# --- 2. one shell session: --format env ----------------------------------------------------------

def canned(monkeypatch, *answers):
    """Client.send answers these (status, JSON) in turn; the signed requests are collected."""
    sent, queue = [], list(answers)

    def send(self, signed):
        sent.append(signed)
        status, obj = queue.pop(0)
        return status, "application/json", json.dumps(obj).encode() if obj is not None else b""

    monkeypatch.setattr(oc.Client, "send", send)
    return sent


def shell_env(out, cwd):
    """Evaluate ``out`` in sh -c, as `eval "$out"` would, and return the environment after."""
    dump = f"{sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))'"
    proc = subprocess.run(["sh", "-c", 'eval "$1" && ' + dump, "sh", out], cwd=cwd,
                          env={"PATH": os.environ["PATH"]}, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# printable ASCII a shell would act on outside single quotes, and then what _printable escapes
SHELL_HOSTILE = "a'b$(touch pwned1)`touch pwned2`\\\"; touch pwned3 #'\"'"
HOSTILE = SHELL_HOSTILE + "\n'export EVIL=1\n\x1b[2J\u2028\ud800\u00e9"
CONT = {"access_token": {"value": "CONT'2$(touch${IFS}pwned4)"},
        "uri": "https://as.example/continue/1"}


def test_env_output_survives_eval_with_hostile_values(flow_env, monkeypatch, capsys, tmp_path):
    token = {"value": SHELL_HOSTILE.replace(" ", ""), "manage": "https://as.example/token/1?a='b",
             "access": OUTGOING, "expires_in": 60}
    canned(monkeypatch, (200, {"access_token": token, "continue": CONT,
                               "subject": {"sub_ids": [{"id": HOSTILE, "format": "uri"},
                                                       {"id": "x'y", "format": "uri"}]}}))
    code, out, err = run(capsys, "continue", "--format", "env")
    assert (code, err) == (0, "")
    assert all(line.startswith("export ") for line in out.splitlines())
    (tmp_path / "sh").mkdir()
    env = shell_env(out, tmp_path / "sh")
    assert os.listdir(tmp_path / "sh") == []  # nothing ran: no pwned file
    assert "EVIL" not in env
    assert env["OUTGOING_PAYMENT_ACCESS_TOKEN"] == env["ACCESS_TOKEN"] == token["value"]
    assert env["OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL"] == env["MANAGE_URL"] == token["manage"]
    assert env["SUBJECT_ID_1"] == oc._printable(HOSTILE)  # escaped, as in the text format
    assert env["SUBJECT_ID_2"] == "x'y"
    assert env["CONTINUE_URI"] == CONT["uri"]
    assert env["CONTINUE_ACCESS_TOKEN"] == CONT["access_token"]["value"]
    assert env["CONTINUE_WAIT_SECONDS"] == str(oc.DEFAULT_WAIT)


def test_grant_env_then_finish_continue_rotate_revoke(keyfile, las, monkeypatch, capsys,
                                                      tmp_path):
    """The flow, each command reading what the previous one exported (in-process here; the
    README's shell session runs the same with eval, see tests/test_docs.py)."""
    for name in ("CONTINUE_URI", "CONTINUE_ACCESS_TOKEN", "INTERACT_REF", "ACCESS_TOKEN",
                 "MANAGE_URL", "CLIENT_NONCE", "INTERACT_FINISH", "FINISH_REDIRECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRANT_ENDPOINT", las.grant_endpoint)
    monkeypatch.setenv("WALLET_ADDRESS", las.wallet)

    def step(*argv, code=0):
        got, out, err = run(capsys, *argv, "--format", "env")
        assert (got, err) == (code, "")
        env = shell_env(out, tmp_path)
        exported = {k: v for k, v in env.items() if k != "PATH" and k in out}
        for name, value in exported.items():
            monkeypatch.setenv(name, value)
        return exported

    first = step("grant", "--allow-http", "--access", json.dumps(OUTGOING), "--finish-uri",
                 FINISH_URI)
    assert sorted(first) == ["CLIENT_NONCE", "CONTINUE_ACCESS_TOKEN", "CONTINUE_URI",
                             "CONTINUE_WAIT_SECONDS", "INTERACT_FINISH", "INTERACT_REDIRECT"]
    monkeypatch.setenv("FINISH_REDIRECT", las.approve(first["CONTINUE_URI"]))
    assert list(step("finish")) == ["INTERACT_REF"]
    done = step("continue", "--allow-http")
    assert sorted(done) == ["ACCESS_TOKEN", "CONTINUE_ACCESS_TOKEN", "CONTINUE_URI",
                            "CONTINUE_WAIT_SECONDS", "MANAGE_URL", "OUTGOING_PAYMENT_ACCESS_TOKEN",
                            "OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL"]
    rotated = step("rotate", "--allow-http")
    assert rotated["ACCESS_TOKEN"] != done["ACCESS_TOKEN"]
    assert rotated["OUTGOING_PAYMENT_ACCESS_TOKEN"] == rotated["ACCESS_TOKEN"]
    code, out, err = run(capsys, "revoke", "--allow-http", "--format", "env")
    assert (code, out, err) == (0, f"# revoked: the access token at {rotated['MANAGE_URL']}\n",
                                "")
    assert las.requests_log[-1]["status"] == 204


def test_an_interactive_grant_exits_0_a_pending_poll_3(flow_env, monkeypatch, capsys):
    interact = {"redirect": "https://as.example/interact/1", "finish": "SRV"}
    canned(monkeypatch, (200, {"interact": interact, "continue": CONT}), (200, {"continue": CONT}),
           (200, {"continue": CONT}))
    code, out, _ = run(capsys, "grant")
    assert code == oc.EXIT_OK
    assert [line.split(" = ")[0] for line in out.splitlines()] == [
        "CONTINUE_URI", "CONTINUE_ACCESS_TOKEN", "CONTINUE_WAIT_SECONDS", "INTERACT_REDIRECT",
        "INTERACT_FINISH"]
    assert run(capsys, "poll")[0] == oc.EXIT_PENDING
    assert run(capsys, "grant")[0] == oc.EXIT_PENDING  # not interactive, not granted: pending


def test_a_mixed_grant_exports_each_name_once(flow_env, monkeypatch, capsys):
    access = [*OUTGOING, {"type": "quote", "actions": ["create"]}]
    token = {"value": "T", "manage": "https://as.example/token/1", "access": access}
    canned(monkeypatch, (200, {"access_token": token}), (200, {"access_token": token}))
    _, out, _ = run(capsys, "continue", "--format", "env")
    assert out.splitlines() == ["export ACCESS_TOKEN='T'",
                                "export ACCESS_TOKEN_MANAGE_URL='https://as.example/token/1'",
                                "export MANAGE_URL='https://as.example/token/1'"]
    assert run(capsys, "continue")[1] == ("ACCESS_TOKEN = T\n"
                                          "ACCESS_TOKEN_MANAGE_URL = https://as.example/token/1\n")


@pytest.mark.parametrize("fmt, shown", [
    ("text", "cancelled: the grant request at https://as.example/continue/1\n"),
    ("env", "# cancelled: the grant request at https://as.example/continue/1\n"),
    ("json", '{"cancelled": true, "continue_uri": "https://as.example/continue/1"}\n')])
def test_cancel_and_revoke_say_what_they_did(flow_env, monkeypatch, capsys, fmt, shown):
    canned(monkeypatch, (204, None), (204, None))
    assert run(capsys, "cancel", "--format", fmt) == (0, shown, "")
    revoked = {"text": "revoked: the access token at https://as.example/token/1\n",
               "env": "# revoked: the access token at https://as.example/token/1\n",
               "json": '{"revoked": true, "manage_url": "https://as.example/token/1"}\n'}
    assert run(capsys, "revoke", "--format", fmt) == (0, revoked[fmt], "")


def test_dry_run_has_no_env_format(flow_env, capsys):
    code, out, err = run(capsys, "poll", "--dry-run", "--format", "env")
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: --dry-run prints a request, not values: use --format "
                   "text or json\n")


# --- 5. errors that name the setting and the fix ------------------------------------------------

def test_an_http_url_names_its_setting_and_the_fix(flow_env, monkeypatch, capsys):
    monkeypatch.setenv("CONTINUE_URI", "http://127.0.0.1:9/continue/1")
    assert run(capsys, "continue") == (2, "", "op-continue: error: CONTINUE_URI: must use "
                                       "https; use --allow-http for a loopback test server\n")
    assert run(capsys, "rotate", "--manage-url", "http://127.0.0.1:9/t")[2] == (
        "op-continue: error: --manage-url: must use https; use --allow-http for a loopback "
        "test server\n")
    monkeypatch.setenv("GRANT_ENDPOINT", "https://as.example/a/../b")
    assert run(capsys, "grant")[2] == ("op-continue: error: GRANT_ENDPOINT: must be normalized "
                                       "(no dot segments, valid %-escapes)\n")


def test_a_missing_key_file_names_its_path(flow_env, monkeypatch, tmp_path, capsys):
    missing = str(tmp_path / "nowhere.pem")
    monkeypatch.setenv("PRIVATE_KEY_PATH", missing)
    assert run(capsys, "poll") == (2, "", f"op-continue: error: PRIVATE_KEY_PATH: no key file "
                                   f"at {missing}\n")
    assert run(capsys, "jwk", "--key", missing)[2] == (
        f"op-continue: error: --key: no key file at {missing}\n")


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_a_readable_key_file_warns_in_one_clean_line(flow_env, keyfile, capsys):
    os.chmod(keyfile, 0o644)
    code, out, err = run(capsys, "jwk")
    assert code == 0 and json.loads(out)["keys"][0]["kid"] == KID
    assert err.count("\n") == 1 and err.startswith(f"op-continue: warning: {keyfile}: ")
    assert "chmod 600" in err and "warnings.warn" not in err and ".py:" not in err


@pytest.mark.parametrize("quoted", ['"CONT-1"', "'CONT-1'"])
def test_a_token_in_quotes_is_refused(flow_env, monkeypatch, capsys, quoted):
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", quoted)
    assert run(capsys, "poll", "--dry-run") == (
        2, "", "op-continue: error: CONTINUE_ACCESS_TOKEN: the value is wrapped in quotes "
        "(copied from a .env file?); remove them\n")


# --- 6. a copy without its dependencies (also tests/test_cli.py::test_vendored_copy_runs_alone)

def test_a_missing_requests_is_named(flow_env, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "requests", None)  # import requests: ModuleNotFoundError
    assert run(capsys, "poll") == (2, "", "op-continue: error: this command needs requests, "
                                   "which is not installed: pip install 'requests>=2.20'\n")


def test_another_missing_module_is_not_hidden(flow_env, monkeypatch):
    def broken(args):
        import not_a_module_of_ours  # noqa: F401

    monkeypatch.setattr(oc, "_cmd_continue", broken)
    with pytest.raises(ModuleNotFoundError):
        oc.main(["poll"])


def test_keygen_and_jwk_read_the_key_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("KEY_ID", "k1")
    code, out, _ = run(capsys, "keygen")
    assert code == 0 and stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    assert run(capsys, "jwk") == (0, out, "")

"""The op-continue command line: the offline subcommands against the published vectors."""
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
from conftest import KID, ROOT, run, text, vectors_of, write

import op_continue as oc

BASES = [v for v in vectors_of("signature_base") if v["result"] == "valid"]
KEYS = {v["id"]: v for v in vectors_of("key")}
B26 = next(v for v in BASES if v["id"] == "rfc9421-B.2.6")


def key_file(tmp_path, key_id="rfc9421-B.1.4", kind="private_pem"):
    path = write(tmp_path, kind + ".pem", text(KEYS[key_id]["input"][kind]) + "\n")
    os.chmod(path, 0o600)
    return path


@pytest.mark.parametrize("vec", BASES, ids=[v["id"] for v in BASES])
def test_base_prints_the_printed_base(vec, tmp_path, capsys):
    inp = vec["input"]
    argv = ["base", "--message", write(tmp_path, "m.txt", text(inp["message"])),
            "--signature-input", inp["signature_input"], "--label", inp["label"],
            "--scheme", inp.get("scheme", "https")]
    if "request" in inp:
        argv += ["--request", write(tmp_path, "r.txt", text(inp["request"]))]
    for name, kind in inp.get("field_types", {}).items():
        argv += ["--field-type", f"{name}={kind}"]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out == text(vec["expected"]["signature_base"]) + "\n"


def test_base_reads_stdin(tmp_path, monkeypatch, capsys):
    import io
    inp = B26["input"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text(inp["message"]).encode())))
    code, out, _ = run(capsys, "base", "--message", "-", "--signature-input",
                       inp["signature_input"])
    assert code == 0
    assert out == text(B26["expected"]["signature_base"]) + "\n"


def test_base_failure_is_a_clean_error(tmp_path, capsys):
    msg = write(tmp_path, "m.txt", text(B26["input"]["message"]))
    code, out, err = run(capsys, "base", "--message", msg, "--signature-input",
                         'sig=("x-missing");created=1')
    assert code == 2 and out == ""
    assert err.startswith("op-continue: error: ") and "not in the message" in err


def test_base_needs_a_label_for_several_members(tmp_path, capsys):
    msg = write(tmp_path, "m.txt", text(B26["input"]["message"]))
    code, _, err = run(capsys, "base", "--message", msg, "--signature-input",
                       'a=("@method"), b=("@path")')
    assert code == 2 and "--label" in err


def test_sign_reproduces_rfc9421_b26(tmp_path, capsys):
    inp, exp = B26["input"], B26["expected"]
    code, out, _ = run(capsys, "sign", "--message", write(tmp_path, "m.txt", text(inp["message"])),
                       "--key", key_file(tmp_path), "--signature-input", inp["signature_input"])
    assert code == 0
    assert out == f"Signature-Input: {inp['signature_input']}\nSignature: {exp['signature']}\n"


@pytest.mark.parametrize("form", ["combined_pem", "private_jwk"])
def test_sign_takes_the_rfcs_key_as_printed(form, tmp_path, capsys):
    """B.1.4 prints the public and the private PEM in one block, and a JWK with "d": sign
    --key takes either as printed and reproduces B.2.6's signature."""
    key = KEYS["rfc9421-B.1.4"]["input"]
    data = (text(key["public_pem"]) + "\n\n" + text(key["private_pem"]) + "\n"
            if form == "combined_pem" else json.dumps(key["jwk"]))
    path = write(tmp_path, "key", data)
    os.chmod(path, 0o600)
    inp, exp = B26["input"], B26["expected"]
    code, out, err = run(capsys, "sign", "--message", write(tmp_path, "m.txt",
                                                            text(inp["message"])),
                         "--key", path, "--signature-input", inp["signature_input"])
    assert (code, err) == (0, "")
    assert out == f"Signature-Input: {inp['signature_input']}\nSignature: {exp['signature']}\n"


def _b26_argv(tmp_path, message):
    path = write(tmp_path, "m.txt", message)
    return path, ["base", "--message", path, "--signature-input", B26["input"]["signature_input"]]


def test_rfc8792_wrapping_left_in_is_warned(tmp_path, capsys):
    """The RFC prints B.2's Content-Digest wrapped (RFC 8792 §7: a line ending in "\\",
    continued after leading spaces). Left in, it parses as an obs-fold: warn, once per field."""
    lines = list(B26["input"]["message"])
    at = next(i for i, line in enumerate(lines) if line.startswith("Content-Digest:"))
    lines[at:at + 1] = [lines[at][:60] + "\\", "      " + lines[at][60:]]
    path, argv = _b26_argv(tmp_path, "\n".join(lines))
    code, out, err = run(capsys, *argv)
    assert (code, out) == (0, text(B26["expected"]["signature_base"]) + "\n")
    assert err.splitlines() == [
        f"op-continue: warning: {path}: message: a content-digest field line ends in '\\', as "
        "RFC 8792 wraps long lines: unwrap it (join the next line, without its leading "
        "spaces), else the backslash is part of the value and the next line a continuation "
        "(obs-fold)"]
    with pytest.warns(oc.MessageWarning, match="RFC 8792"):
        oc.parse_message("\n".join(lines))


def test_wrapped_signature_input_says_how_to_unwrap(tmp_path, capsys):
    """B.2.6's Signature-Input as the RFC prints it, wrapped (RFC 8792 §7), pasted as is."""
    value = B26["input"]["signature_input"]
    wrapped = value[:50] + "\\\n  " + value[50:]
    _, argv = _b26_argv(tmp_path, text(B26["input"]["message"]))
    code, out, err = run(capsys, *argv[:-1], wrapped)
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: --signature-input: a '\\' before a line break or "
                   "space, as RFC 8792 wraps long lines: unwrap it (remove the '\\', the line "
                   "break and the next line's leading spaces)\n")


@pytest.mark.parametrize("extra", ["\n", "\r\n", "  "])
def test_content_length_that_is_not_the_body_length_is_warned(extra, tmp_path, capsys):
    """B.2.6's body is 18 bytes (Content-Length: 18); a newline an editor adds makes it 19."""
    path, argv = _b26_argv(tmp_path, text(B26["input"]["message"]) + extra)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (0, text(B26["expected"]["signature_base"]) + "\n")
    size = 18 + len(extra)
    assert err == (f"op-continue: warning: {path}: message: Content-Length is 18 but the body "
                   f"has {size} bytes: the body is every byte after the empty line, a final "
                   "newline included (an editor or echo may add one); remove the extra bytes "
                   "or correct Content-Length\n")


def test_a_message_as_the_rfc_prints_it_gets_no_warning(tmp_path, capsys):
    _, argv = _b26_argv(tmp_path, text(B26["input"]["message"]))
    assert run(capsys, *argv)[::2] == (0, "")
    message = text(B26["input"]["message"]).replace("Content-Length: 18", "Content-Length: 018")
    assert run(capsys, *_b26_argv(tmp_path, message)[1])[::2] == (0, "")


@pytest.mark.parametrize("kind", ["public_pem", "jwk", "private_pem"])
def test_verify_valid_and_tampered(tmp_path, capsys, kind):
    inp, exp = B26["input"], B26["expected"]
    if kind == "jwk":
        jwk = {k: v for k, v in KEYS["rfc9421-B.1.4"]["input"]["jwk"].items() if k != "d"}
        key = write(tmp_path, "k.json", json.dumps(jwk))
    else:
        key = key_file(tmp_path, kind=kind)
    lines = list(inp["message"])
    blank = lines.index("")
    signed = [*lines[:blank], f"Signature-Input: {inp['signature_input']}",
              f"Signature: {exp['signature']}", *lines[blank:]]
    code, out, _ = run(capsys, "verify", "--message", write(tmp_path, "s.txt", "\n".join(signed)),
                       "--key", key)
    assert (code, out) == (0, "valid\n")
    tampered = [line.replace("POST", "PUT") for line in signed]
    code, out, err = run(capsys, "verify", "--message",
                         write(tmp_path, "t.txt", "\n".join(tampered)), "--key", key)
    assert code == 1 and out == "" and "does not verify" in err


def test_verify_unreadable_key_is_usage(tmp_path, capsys):
    msg = write(tmp_path, "m.txt", text(B26["input"]["message"]))
    code, _, err = run(capsys, "verify", "--message", msg, "--key", str(tmp_path / "nope"))
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize("vec", [v for v in vectors_of("digest") if "," not in
                                 v["expected"]["field"]], ids=lambda v: v["id"])
def test_digest(vec, tmp_path, capsys):
    inp = vec["input"]
    code, out, _ = run(capsys, "digest", "--algorithm", inp["algorithm"],
                       write(tmp_path, "body", inp["body"]))
    assert (code, out) == (0, vec["expected"]["field"] + "\n")


def test_jwk_prints_the_sdk_shape(tmp_path, capsys):
    jwk = KEYS["rfc9421-B.1.4"]["input"]["jwk"]
    code, out, _ = run(capsys, "jwk", "--key", key_file(tmp_path), "--key-id", "k1")
    assert code == 0
    expected = {"keys": [{"alg": "EdDSA", "kid": "k1", "kty": "OKP", "crv": "Ed25519",
                          "x": jwk["x"]}]}
    assert out == json.dumps(expected) + "\n"  # same member order as the official SDK


def test_keygen_writes_0600_and_never_overwrites(tmp_path, capsys):
    out_path = tmp_path / "new.pem"
    code, out, _ = run(capsys, "keygen", "--out", str(out_path), "--key-id", "k2")
    assert code == 0
    assert stat.S_IMODE(out_path.stat().st_mode) == 0o600
    key = oc.load_private_key(out_path)
    assert json.loads(out)["keys"][0]["x"] == key.public_key.jwk("k2")["x"]
    code, _, err = run(capsys, "keygen", "--out", str(out_path))
    assert code == 2 and "exists" in err


HASHES = vectors_of("interaction_hash")


@pytest.mark.parametrize("vec", HASHES, ids=[v["id"] for v in HASHES])
def test_hash(vec, capsys, monkeypatch):
    inp = vec["input"]
    monkeypatch.setenv("INTERACT_REF", inp["interact_ref"])
    argv = ["hash", "--client-nonce", inp["client_nonce"], "--server-nonce", inp["server_nonce"],
            "--grant-endpoint", inp["grant_endpoint"], "--hash-method", inp["hash_method"]]
    assert run(capsys, *argv)[:2] == (0, vec["expected"]["hash"] + "\n")
    assert run(capsys, *argv, "--verify", vec["expected"]["hash"])[:2] == (0, "valid\n")
    code, out, _ = run(capsys, *argv, "--verify", "A" + vec["expected"]["hash"][1:])
    assert (code, out) == (1, "")


def test_hash_prints_rafikis_encoding_on_request(capsys, monkeypatch):
    """--encoding rafiki: the RFC's printed digest in padded standard base64 (RFC 4648 §4, the
    form tests/local_as.py's Rafiki sends); both: the two side by side."""
    vec = HASHES[0]
    inp, rfc = vec["input"], vec["expected"]["hash"]
    rafiki = rfc.replace("-", "+").replace("_", "/") + "=" * (-len(rfc) % 4)  # same 32 bytes
    monkeypatch.setenv("INTERACT_REF", inp["interact_ref"])
    argv = ["hash", "--client-nonce", inp["client_nonce"], "--server-nonce", inp["server_nonce"],
            "--grant-endpoint", inp["grant_endpoint"]]
    assert run(capsys, *argv, "--encoding", "rfc") == (0, rfc + "\n", "")
    assert run(capsys, *argv, "--encoding", "rafiki") == (0, rafiki + "\n", "")
    assert run(capsys, *argv, "--encoding", "both") == (
        0, f"rfc9635: {rfc}\nrafiki:  {rafiki}\n", "")
    assert run(capsys, *argv, "--verify", rafiki)[:2] == (0, "valid\n")
    code, out, err = run(capsys, *argv, "--verify", rafiki, "--encoding", "rafiki")
    assert (code, out) == (2, "") and "--verify accepts both" in err


@pytest.mark.parametrize("endpoint", ["https://auth.example", "https://auth.example/"])
def test_grant_hash_and_finish_use_one_grant_endpoint(endpoint, keyfile, capsys, monkeypatch):
    """The grant request goes to https://auth.example/ (normalize_url), so hash and finish hash
    that form (RFC 9635 §4.2.3: the grant endpoint the client used), typed either way."""
    import base64
    import hashlib

    from local_as import finish_hash  # Rafiki's form, computed independently of op_continue
    for name, value in [("KEY_ID", KID), ("WALLET_ADDRESS", "https://wallet.example/alice"),
                        ("INTERACT_REF", "R-1"), ("CLIENT_NONCE", "C-1"),
                        ("INTERACT_FINISH", "S-1")]:
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "grant", "--dry-run", "--json", "--grant-endpoint", endpoint,
                       "--access", json.dumps(OUTGOING))
    assert (code, json.loads(out)["url"]) == (0, "https://auth.example/")
    digest = hashlib.sha256(b"C-1\nS-1\nR-1\nhttps://auth.example/").digest()
    rfc = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert run(capsys, "hash", "--grant-endpoint", endpoint) == (0, rfc + "\n", "")
    rafiki = finish_hash("C-1", "S-1", "R-1", "https://auth.example/")
    monkeypatch.setenv("FINISH_REDIRECT", "https://client.example/finish?hash="
                       + rafiki.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
                       + "&interact_ref=R-1")
    assert run(capsys, "finish", "--grant-endpoint", endpoint) == (0, "INTERACT_REF = R-1\n", "")


def test_example_list_names_the_rfc_examples(capsys):
    code, out, err = run(capsys, "example", "--list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "rfc9421-B.2.6            signature_base" in lines
    assert "rfc9421-fail-1           component (must fail: UsageError)" in lines
    ids = [line.split()[0] for line in lines]
    rfc = [v["id"] for v in vectors_of("signature_base") + vectors_of("component")]
    assert set(rfc) <= set(ids) and not any(i.startswith("op-sdk") for i in ids)


def test_example_needs_an_id_and_out_and_names_unknown_ids(capsys, tmp_path):
    code, out, err = run(capsys, "example", "rfc9421-B.2.6")
    assert (code, out) == (2, "") and "give an example id and --out DIR" in err
    code, out, err = run(capsys, "example", "rfc9421-B.9", "--out", str(tmp_path))
    assert (code, out) == (2, "") and "no such example; op-continue example --list" in err


def test_example_without_vectors_says_where_it_looked(capsys, tmp_path, monkeypatch):
    """A vendored copy has no vectors/ beside it: a clear error, and --vectors DIR works."""
    monkeypatch.setattr(oc, "__file__", str(tmp_path / "op_continue.py"))
    code, out, err = run(capsys, "example", "--list")
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: no examples: vectors/ beside op_continue.py is not a "
                   "directory (a vendored copy or a pip install has none); give --vectors DIR, "
                   "the vectors/ directory of the op_continue repository\n")
    code, out, err = run(capsys, "example", "--list", "--vectors", str(tmp_path / "v"))
    assert code == 2 and "--vectors '" in err
    code, out, err = run(capsys, "example", "--list", "--vectors", str(ROOT / "vectors"))
    assert code == 0 and "rfc9421-B.2.6" in out


@pytest.mark.parametrize("data, problem", [("{", "not valid JSON"),
                                           ('{"tests": []}', "not a vector file")])
def test_example_refuses_a_file_that_is_not_a_vector_file(data, problem, capsys, tmp_path):
    write(tmp_path, "op-sdk-x.json", "ignored: not an RFC example")
    write(tmp_path, "rfc0000-1.json", data)
    code, out, err = run(capsys, "example", "--list", "--vectors", str(tmp_path))
    assert (code, out) == (2, "") and f"rfc0000-1.json: {problem}" in err


def test_vendored_copy_runs_alone(tmp_path):
    """`python op_continue.py ...` from a copied file, and no requests import offline."""
    shutil.copy(ROOT / "op_continue.py", tmp_path / "op_continue.py")
    body = write(tmp_path, "body", '{"hello": "world"}')
    code = ("import sys, op_continue; rc = op_continue.main(['digest', sys.argv[1]]); "
            "assert 'requests' not in sys.modules; sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, body], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "op_continue.py", "--help"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "op-continue" in proc.stdout
    # without PyNaCl and requests (python -S -I: no site-packages at all), a command that needs
    # one names the package and its pip line, exit 2; the offline commands still work
    proc = subprocess.run([sys.executable, "-S", "-I", "-c", "import nacl"], capture_output=True)
    assert proc.returncode == 1  # (nothing is importable from site-packages)

    def alone(*argv, **env):
        return subprocess.run([sys.executable, "-S", "-I", "op_continue.py", *argv],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env={"PATH": os.environ["PATH"], **env})

    proc = alone("keygen", "--out", "k.pem")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("op-continue: error: this command needs PyNaCl, which is not "
                           "installed: pip install 'PyNaCl>=1.3'\n")
    assert not (tmp_path / "k.pem").exists()
    proc = alone("digest", body)
    assert proc.returncode == 0 and proc.stdout.startswith("sha-512=:")
    proc = alone("hash", "--client-nonce", "c", "--server-nonce", "s", "--grant-endpoint",
                 "https://as.example/", INTERACT_REF="r")
    assert (proc.returncode, proc.stderr) == (0, "")
    # example: the copy has no vectors/ beside it (a clear error); given --vectors, it works
    proc = alone("example", "--list")
    assert (proc.returncode, proc.stdout) == (2, "") and "give --vectors DIR" in proc.stderr
    proc = alone("example", "rfc9421-B.2.6", "--out", "b26", "--vectors", str(ROOT / "vectors"))
    assert (proc.returncode, proc.stderr) == (0, "")
    proc = alone("base", "--message", "b26/message.txt", "--signature-input",
                 (tmp_path / "b26" / "signature-input.txt").read_text().rstrip("\n"))
    assert (proc.returncode, proc.stdout) == (0, text(B26["expected"]["signature_base"]) + "\n")


def test_console_script_installed():
    exe = shutil.which("op-continue", path=os.path.dirname(sys.executable))
    assert exe, "the op-continue console script is not installed in this environment"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert proc.stdout.strip() == oc.__version__


# --- the online commands print a hostile answer harmlessly (against the local AS) ------------

OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],
             "identifier": "https://wallet.example/alice"}]
# A value that, printed raw, forges a token line, retitles the terminal, clears the screen and
# smuggles DEL, C1 controls (NEL, CSI), a Unicode line separator and non-ASCII
HOSTILE = ("https://w.example/a\nQUOTE_ACCESS_TOKEN = ATTACKER\x1b]0;pwned\x07\x1b[2J\x7f"
           "\x85\x9b\u2028\u00e9")
HOSTILE_SHOWN = (r"https://w.example/a\nQUOTE_ACCESS_TOKEN = ATTACKER\x1b]0;pwned\x07\x1b[2J"
                 r"\x7f\x85\x9b\u2028\xe9")
SURROGATE = "https://w.example/\ud800"  # JSON "\ud800": a lone surrogate, which cannot be encoded


@pytest.fixture
def online(las, keyfile):
    """The local AS, with the online commands' key settings in the environment."""
    return las


def edit_answers(las, monkeypatch, edit):
    """The local AS passes every JSON answer through ``edit`` before sending it."""
    dispatch = las._dispatch

    def dispatch_and_edit(*args):
        status, headers, data = dispatch(*args)
        if data and headers.get("Content-Type") == "application/json":
            data = json.dumps(edit(json.loads(data))).encode()  # (ASCII: "\ud800" stays JSON)
        return status, headers, data

    monkeypatch.setattr(las, "_dispatch", dispatch_and_edit)


def approved_grant(las, key, monkeypatch):
    """An interactive grant the user approved: its continuation in the environment."""
    client = oc.Client(key, KID, allow_http=True, timeout=5)
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING,
                                 finish_uri="https://client.example/finish",
                                 nonce=oc.new_nonce())
    grant = client.request_grant(las.grant_endpoint, body)
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    monkeypatch.setenv("CONTINUE_URI", grant.continue_.uri)
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token)
    monkeypatch.setenv("INTERACT_REF", finish.interact_ref)
    return client, finish.interact_ref


def printable_ascii(out):
    return all(" " <= c <= "~" or c == "\n" for c in out)


def with_subject(subject_id):
    def edit(obj):
        if "access_token" in obj:
            obj["subject"] = {"sub_ids": [{"id": subject_id, "format": "uri"}]}
        return obj
    return edit


@pytest.mark.parametrize("subject_id, shown", [(HOSTILE, HOSTILE_SHOWN),
                                               (SURROGATE, r"https://w.example/\ud800")],
                         ids=["forged-line-and-escapes", "lone-surrogate"])
def test_continue_prints_a_hostile_subject_id_escaped_and_the_token(
        online, key, monkeypatch, capsys, subject_id, shown):
    approved_grant(online, key, monkeypatch)
    edit_answers(online, monkeypatch, with_subject(subject_id))
    code, out, err = run(capsys, "continue", "--allow-http")
    token = json.loads(online.requests_log[-1]["response"])["access_token"]
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"OUTGOING_PAYMENT_ACCESS_TOKEN = {token['value']}",
                                f"OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL = {token['manage']}",
                                f"SUBJECT_ID = {shown}"]
    assert printable_ascii(out)


def test_continue_json_escapes_hostile_values(online, key, monkeypatch, capsys):
    approved_grant(online, key, monkeypatch)

    def edit(obj):
        if "access_token" in obj:
            obj["access_token"]["access"][0]["identifier"] = HOSTILE
        return with_subject(SURROGATE)(obj)

    edit_answers(online, monkeypatch, edit)
    code, out, err = run(capsys, "continue", "--allow-http", "--json")
    assert (code, err) == (0, "")
    assert printable_ascii(out)
    printed = json.loads(out)
    assert printed["access_token"]["access"][0]["identifier"] == HOSTILE
    assert printed["subject"]["sub_ids"] == [{"id": SURROGATE, "format": "uri"}]
    sent = json.loads(online.requests_log[-1]["response"])["access_token"]
    assert printed["access_token"]["value"] == sent["value"]


def test_rotate_json_escapes_hostile_values(online, key, monkeypatch, capsys):
    client, ref = approved_grant(online, key, monkeypatch)
    token = client.continue_grant(os.environ["CONTINUE_URI"],
                                  os.environ["CONTINUE_ACCESS_TOKEN"], ref).access_token
    monkeypatch.setenv("MANAGE_URL", token.manage)
    monkeypatch.setenv("ACCESS_TOKEN", token.value)

    def edit(obj):
        obj["access_token"]["access"][0]["identifier"] = HOSTILE + SURROGATE
        return obj

    edit_answers(online, monkeypatch, edit)
    code, out, err = run(capsys, "rotate", "--allow-http", "--json")
    assert (code, err) == (0, "")
    assert printable_ascii(out)
    new = json.loads(out)["access_token"]
    assert new["access"][0]["identifier"] == HOSTILE + SURROGATE
    assert new["value"] == json.loads(online.requests_log[-1]["response"])["access_token"]["value"]


def test_gnap_error_on_stderr_is_printable(online, key, monkeypatch, capsys):
    approved_grant(online, key, monkeypatch)
    monkeypatch.setenv("INTERACT_REF", "not-the-ref")

    def edit(obj):
        obj["error"]["description"] = HOSTILE + SURROGATE
        return obj

    edit_answers(online, monkeypatch, edit)
    code, out, err = run(capsys, "continue", "--allow-http")
    assert (code, out) == (oc.EXIT_GRANT_ERROR, "")
    assert err.startswith("op-continue: error: HTTP 404: invalid_continuation: https://w.")
    assert printable_ascii(err) and err.count("\n") == 1


def test_printable_escapes_everything_but_printable_ascii():
    assert oc._printable(' ~az"\\') == ' ~az"\\'  # printable ASCII as it is, a backslash too
    assert oc._printable("\t\n\r\x00\x1f\x7f\x80\x9f\xa0\u2028\ud800\U0001f600") == \
        r"\t\n\r\x00\x1f\x7f\x80\x9f\xa0\u2028\ud800\U0001f600"


# --- verify: "valid", and a warning on stderr for each part the signature leaves unprotected --

BODY = '{"interact_ref":"R-1"}'
POST = ("POST /continue/1?x=1 HTTP/1.1\nHost: as.example\nAuthorization: GNAP T-1\n"
        f"Content-Type: application/json\nContent-Digest: {oc.content_digest(BODY.encode())}\n"
        f"Content-Length: {len(BODY)}\n\n{BODY}")
POST_NO_DIGEST = ("POST /continue/1 HTTP/1.1\nHost: as.example\nContent-Type: application/json\n"
                  f"\n{BODY}")
GET = "GET /rs/1?x=1 HTTP/1.1\nHost: as.example\n\n"
RESPONSE = "HTTP/1.1 200 OK\nContent-Type: application/json\n\n{}"
ALL = ("@method", "@target-uri", "authorization", "content-digest")
CREATED = (("keyid", "k"), ("created", 1))
NOTHING = "the signature covers no component: it protects nothing of the message"
METHOD = 'the method is not protected: "@method" is not covered'
HOST = 'the host is not protected: neither "@target-uri" nor "@authority" is covered'
PATH = 'the path is not protected: none of "@target-uri", "@path", "@request-target" is covered'
BODY_ = 'the body is not protected: "content-digest" is not covered'
AUTHORIZATION = 'the Authorization field is not protected: "authorization" is not covered'
UNDATED = 'no "created" parameter: the age of the signature cannot be checked'


def signed_file(tmp_path, key, message, covered, params, request=None):
    """``message`` with a Signature-Input and Signature over ``covered`` added."""
    sig_input, signature = oc.sign_message(
        oc.parse_message(message), key, oc.signature_params(covered, params),
        request=oc.parse_message(request) if request else None)
    head, _, body = message.partition("\n\n")
    return write(tmp_path, "signed.txt",
                 f"{head}\nSignature-Input: {sig_input}\nSignature: {signature}\n\n{body}")


@pytest.mark.parametrize("message, covered, params, warnings", [
    (POST, ALL, CREATED, []),
    (POST, (), (("created", 1),), [NOTHING]),
    (POST, (), (), [NOTHING, UNDATED]),
    (POST, ALL[1:], CREATED, [METHOD]),
    (POST, ("@method", "@path", "authorization", "content-digest"), CREATED, [HOST]),
    (POST, ("@method", "@authority", "authorization", "content-digest"), CREATED, [PATH]),
    (POST, ("@method", "authorization", "content-digest"), CREATED, [HOST, PATH]),
    (POST, ("@method", "@target-uri", "authorization"), CREATED, [BODY_]),
    (POST_NO_DIGEST, ("@method", "@target-uri"), CREATED, [BODY_]),
    (POST, ("@method", "@target-uri", "content-digest"), CREATED, [AUTHORIZATION]),
    (POST, ALL, (("keyid", "k"),), [UNDATED]),
    (POST, ("content-digest",), (), [METHOD, HOST, PATH, AUTHORIZATION, UNDATED]),
    (GET, ("@method", "@authority", "@request-target"), CREATED, []),
    (RESPONSE, ("@status", "content-type"), CREATED, [BODY_]),
], ids=["all", "nothing", "nothing-undated", "method", "host", "path", "target", "body",
        "body-no-digest", "authorization", "undated", "digest-only", "get", "response"])
def test_verify_warns_of_what_the_signature_leaves_unprotected(tmp_path, key, capsys, message,
                                                               covered, params, warnings):
    path = signed_file(tmp_path, key, message, covered, params)
    code, out, err = run(capsys, "verify", "--message", path, "--key",
                         write(tmp_path, "pub.pem", key.public_key.to_pem()))
    assert (code, out) == (0, "valid\n")
    assert err == "".join(f"op-continue: warning: {w}\n" for w in warnings)


def test_verify_warns_when_a_response_covers_the_request_digest_only(tmp_path, key, capsys):
    covered = ("@status", oc.Item("content-digest", {"req": True}))
    path = signed_file(tmp_path, key, RESPONSE, covered, CREATED, request=POST)
    code, out, err = run(capsys, "verify", "--message", path, "--key",
                         write(tmp_path, "pub.pem", key.public_key.to_pem()),
                         "--request", write(tmp_path, "request.txt", POST))
    assert (code, out) == (0, "valid\n")
    assert err == f"op-continue: warning: {BODY_}\n"  # the response's own body is not covered


@pytest.mark.parametrize("command", ["continue", "grant"])
def test_verify_has_no_warning_for_the_requests_op_continue_signs(tmp_path, key, capsys,
                                                                   monkeypatch, command):
    key_path = tmp_path / "key.pem"
    key.write_pem(key_path)
    for name, value in [("PRIVATE_KEY_PATH", str(key_path)), ("KEY_ID", KID),
                        ("CONTINUE_URI", "https://as.example/continue/1"),
                        ("CONTINUE_ACCESS_TOKEN", "T-1"), ("INTERACT_REF", "R-1"),
                        ("WALLET_ADDRESS", "https://wallet.example/alice")]:
        monkeypatch.setenv(name, value)
    extra = ["--grant-endpoint", "https://as.example/", "--access", json.dumps(OUTGOING)] \
        if command == "grant" else []
    code, request, _ = run(capsys, command, "--dry-run", *extra)
    assert code == 0
    code, out, err = run(capsys, "verify", "--message", write(tmp_path, "r.txt", request),
                         "--key", write(tmp_path, "pub.pem", key.public_key.to_pem()))
    assert (code, out, err) == (0, "valid\n", "")


# --- issue 17 item 3: the base next to the request; what the transport adds -------------------

CONTINUE_ENV = [("CONTINUE_URI", "https://as.example/continue/1"),
                ("CONTINUE_ACCESS_TOKEN", "T-1"), ("INTERACT_REF", "R-1")]


@pytest.fixture
def continuation(keyfile, monkeypatch):
    for name, value in CONTINUE_ENV:
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("command", ["continue", "poll", "cancel"])
def test_dry_run_show_base_prints_the_base_after_the_request(continuation, key, capsys,
                                                             command):
    code, request, _ = run(capsys, command, "--dry-run", "--created", "7")
    assert code == 0
    code, out, err = run(capsys, command, "--dry-run", "--created", "7", "--show-base")
    assert (code, err) == (0, "")
    body = {"continue": b'{"interact_ref":"R-1"}', "poll": None, "cancel": None}[command]
    signed = oc.sign_request("DELETE" if command == "cancel" else "POST",
                             "https://as.example/continue/1", key=key, key_id=KID,
                             access_token="T-1", body=body, created=7)
    # the request as without --show-base, its body's line ended, then the separator and base
    ending = "\n" if body else ""
    assert out == (f"{request}{ending}-- signature base (RFC 9421 section 2.5), not sent --\n"
                   f"{signed.signature_base}\n")
    assert signed.signature_base.startswith(f'"@method": {signed.method}\n')


def test_dry_run_json_carries_the_signature_base(continuation, key, capsys):
    for extra in ([], ["--show-base"]):
        code, out, _ = run(capsys, "continue", "--dry-run", "--json", "--created", "7", *extra)
        assert code == 0
        doc = json.loads(out)
        message = oc.request_message(doc["method"], doc["url"], list(doc["headers"].items()),
                                     doc["body"].encode())
        verified = oc.verify_message(message, key.public_key)
        assert doc["signature_base"] == verified.base
        assert doc["signature_base"].endswith(";created=7")  # no final newline (RFC 9421 §2.5)


@pytest.mark.parametrize("command", ["grant", "continue", "rotate"])
def test_show_base_needs_dry_run(continuation, capsys, monkeypatch, command):
    monkeypatch.setenv("MANAGE_URL", "https://as.example/token/1")
    monkeypatch.setenv("ACCESS_TOKEN", "A-1")
    extra = ["--grant-endpoint", "https://as.example/", "--wallet-address",
             "https://wallet.example/alice", "--access", json.dumps(OUTGOING)] \
        if command == "grant" else []
    code, out, err = run(capsys, command, "--show-base", *extra)
    assert (code, out) == (2, "")
    assert err == "op-continue: error: --show-base needs --dry-run\n"


def test_dry_run_is_what_is_sent_but_for_the_transport_headers(continuation, monkeypatch,
                                                               capsys):
    """What --dry-run and the README say the wire adds, checked on the bytes a loopback server
    receives: CRLF line ends, Accept-Encoding: identity and urllib3's User-Agent (after Host
    with urllib3 2, last with urllib3 1.26, none before 1.26), nothing else."""
    import urllib3
    from hostile import HostileAS

    with HostileAS("ok") as server:
        monkeypatch.setenv("CONTINUE_URI", server.url())
        code, dry, _ = run(capsys, "continue", "--allow-http", "--dry-run", "--created", "7")
        assert code == 0
        run(capsys, "continue", "--allow-http", "--created", "7")  # (the answer is malformed)
    wire = server.requests[0].decode()
    head, _, body = wire.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert "\n" not in "".join(lines)  # every line ended with CRLF
    added = sorted(line for line in lines if line.startswith(("User-Agent:", "Accept-Encoding:")))
    agent = tuple(int(n) for n in urllib3.__version__.split(".")[:2]) >= (1, 26)
    assert len(added) == 1 + agent and added[0] == "Accept-Encoding: identity"
    assert not agent or added[1] == f"User-Agent: python-urllib3/{urllib3.__version__}"
    rest = [line for line in lines if line not in added]
    assert "\n".join(rest) + "\n\n" + body == dry


# --- issue 17 item 4: verify --require ---------------------------------------------------------

@pytest.mark.parametrize("required", [
    ["@method"], ["@method", "content-digest"], ['"@target-uri"'], ["Content-Digest"],
    ["AUTHORIZATION", '"content-type"'],
])
def test_verify_require_covered_components_is_valid(continuation, key, tmp_path, capsys,
                                                    required):
    code, request, _ = run(capsys, "continue", "--dry-run")
    argv = ["verify", "--message", write(tmp_path, "r.txt", request),
            "--key", write(tmp_path, "pub.pem", key.public_key.to_pem())]
    code, out, err = run(capsys, *argv, *[a for r in required for a in ("--require", r)])
    assert (code, out, err) == (0, "valid\n", "")


@pytest.mark.parametrize("required, missing", [
    (["@authority"], '"@authority"'),
    (["@method", "@path", "content-digest"], '"@path"'),
    (['"content-digest";req'], '"content-digest";req'),
    (['"content-digest";bs'], '"content-digest";bs'),
])
def test_verify_require_rejects_a_signature_that_does_not_cover_it(continuation, key, tmp_path,
                                                                    capsys, required, missing):
    code, request, _ = run(capsys, "continue", "--dry-run")
    argv = ["verify", "--message", write(tmp_path, "r.txt", request),
            "--key", write(tmp_path, "pub.pem", key.public_key.to_pem())]
    code, out, err = run(capsys, *argv, *[a for r in required for a in ("--require", r)])
    assert (code, out) == (1, "")
    assert err == f"op-continue: invalid: a required component is not covered: {missing}\n"


@pytest.mark.parametrize("value", ['"@method', "two words", '"";req', "?", "@", "a:b", '"x";'])
def test_verify_require_refuses_what_is_no_component(tmp_path, key, capsys, value):
    code, out, err = run(capsys, "verify", "--message", write(tmp_path, "m.txt", POST),
                         "--key", write(tmp_path, "pub.pem", key.public_key.to_pem()),
                         "--require", value)
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: --require: not a component name (@method, "
                   "content-digest) or identifier ('\"content-digest\";req') (the value is not "
                   "shown)\n")  # (no argument value is echoed: tests/test_cli_user.py)


def test_verify_max_age_and_require_together(continuation, key, tmp_path, capsys):
    import time

    code, request, _ = run(capsys, "continue", "--dry-run", "--created", str(int(time.time())))
    argv = ["verify", "--message", write(tmp_path, "r.txt", request),
            "--key", write(tmp_path, "pub.pem", key.public_key.to_pem()),
            "--require", "authorization"]
    assert run(capsys, *argv, "--max-age", "300") == (0, "valid\n", "")
    code, request, _ = run(capsys, "continue", "--dry-run", "--created", "1618884473")
    assert code == 0
    argv[2] = write(tmp_path, "old.txt", request)
    assert run(capsys, *argv, "--max-age", "300") == (
        1, "", "op-continue: invalid: signature is too old\n")


def test_verify_prints_valid_before_its_warnings_on_one_stream(tmp_path, key):
    """2>&1 (as the README's exercises use it) shows "valid" first, then the warnings."""
    path = signed_file(tmp_path, key, POST, ("@method", "@target-uri"), CREATED)
    proc = subprocess.run([sys.executable, str(ROOT / "op_continue.py"), "verify", "--message",
                           path, "--key", write(tmp_path, "pub.pem", key.public_key.to_pem())],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    assert proc.returncode == 0
    assert proc.stdout == (f"valid\nop-continue: warning: {BODY_}\n"
                           f"op-continue: warning: {AUTHORIZATION}\n")


def test_help_shows_the_base_newline_the_scheme_default_and_the_wire():
    texts = {name: oc._parser().commands[name].format_help() for name in ("base", "continue")}
    assert "without a newline (RFC 9421 §2.5)" in " ".join(texts["base"].split())
    assert "(default: https)" in texts["base"]
    assert "User-Agent and Accept-Encoding: identity" in " ".join(texts["continue"].split())

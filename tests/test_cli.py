"""Section 14 of op_continue.py, the op-continue command line: the offline subcommands against the
published vectors, the online ones against the local AS or a canned transport, every option's
validation and environment fallback, the output formats (text, --json, --format env), and no
secret or hostile value echoed."""
import json
import os
import runpy
import shutil
import stat
import subprocess
import sys
import time
import types

import pytest
from conftest import (
    CAFE,
    ED,
    FINISH_URI,
    KEYS,
    KID,
    NOW,
    OUTGOING,
    PRIVATE,
    PUBLIC_JWK,
    REF,
    ROOT,
    TOKEN,
    FakeAdapter,
    FakeResponse,
    approve,
    canned,
    created_of,
    run,
    start_grant,
    text,
    vectors_of,
    write,
)
from local_as import TENANT_ID

import op_continue as oc

BASES = [v for v in vectors_of("signature_base") if v["result"] == "valid"]
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


@pytest.mark.req("RFC9421-3.1-s6")
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
@pytest.mark.req("RFC9421-3.2-s8", "RFC9421-3.2.1-3", "RFC9635-7.3.1-16")
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
                       "--key", key, "--profile", "none")  # (an RFC 9421 example, no GNAP)
    assert (code, out) == (0, "valid\n")
    tampered = [line.replace("POST", "PUT") for line in signed]
    code, out, err = run(capsys, "verify", "--message",
                         write(tmp_path, "t.txt", "\n".join(tampered)), "--key", key,
                         "--profile", "none")
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


@pytest.mark.req("RFC9635-7.3.1-12")
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


def test_hash_reads_the_hash_method_from_the_environment(capsys, monkeypatch):
    # pins HASH_METHOD, the environment variable of --hash-method: the RFC's sha3-512 example
    vec = next(v for v in HASHES if v["input"]["hash_method"] != "sha-256")
    inp = vec["input"]
    monkeypatch.setenv("INTERACT_REF", inp["interact_ref"])
    monkeypatch.setenv("HASH_METHOD", inp["hash_method"])
    assert run(capsys, "hash", "--client-nonce", inp["client_nonce"], "--server-nonce",
               inp["server_nonce"], "--grant-endpoint", inp["grant_endpoint"]) == (
        0, vec["expected"]["hash"] + "\n", "")


@pytest.mark.parametrize("given, source", [(["--grant-endpoint", "https://as.example/#f"],
                                            "--grant-endpoint"),
                                           ([], "GRANT_ENDPOINT")])
def test_hash_names_where_a_bad_grant_endpoint_came_from(given, source, capsys, monkeypatch):
    # pins the name normalize_url's refusal of the grant endpoint gives: the option or variable
    monkeypatch.setenv("INTERACT_REF", "REF")
    monkeypatch.setenv("GRANT_ENDPOINT", "https://as.example/#f")
    assert run(capsys, "hash", "--client-nonce", "CN", "--server-nonce", "SN", *given) == (
        2, "", f"op-continue: error: {source}: must not contain a fragment\n")


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
    assert (code, out, err) == (2, "", "op-continue: error: --encoding is for printing a hash; "
                                      "--verify accepts both forms\n")


# RFC 9635 §4.2.3: the hash base is ASCII; a non-ASCII interact_ref is named, its value not shown
def test_the_hash_command_names_a_non_ascii_interact_ref_without_its_value(monkeypatch, capsys):
    inp = HASHES[0]["input"]
    monkeypatch.setenv("INTERACT_REF", "R\u00e9F-SECRET")
    code, out, err = run(capsys, "hash", "--client-nonce", inp["client_nonce"], "--server-nonce",
                         inp["server_nonce"], "--grant-endpoint", inp["grant_endpoint"])
    assert (code, out) == (2, "") and err.startswith("op-continue: error: interact_ref: ")
    assert "SECRET" not in err


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
    assert (code, out, err) == (2, "", "op-continue: error: give an example id and --out DIR "
                                       "(op-continue example --list shows the ids)\n")
    code, out, err = run(capsys, "example", "rfc9421-B.9", "--out", str(tmp_path))
    assert (code, out, err) == (2, "", "op-continue: error: no such example; op-continue "
                                       "example --list shows the ids\n")


def test_example_names_every_file_it_wrote_and_a_valid_one_need_not_fail(capsys, tmp_path):
    # pins the "wrote" line's ", " and the must-fail note kept for results other than "valid"
    code, out, err = run(capsys, "example", "rfc9421-B.2.6", "--out", str(tmp_path))
    assert (code, err) == (0, "")
    wrote = out.splitlines()[0]
    assert wrote.startswith("wrote ")
    assert sorted(wrote[len("wrote "):].split(", ")) == sorted(map(str, tmp_path.iterdir()))
    assert len(list(tmp_path.iterdir())) > 1 and "must fail" not in out


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


@pytest.mark.parametrize("data, problem", [
    ("{", "not valid JSON"), ('{"tests": []}', "not a vector file"),
    (b'{"schema": "op_continue-vectors/1", \xff}', "not valid JSON"),  # decoded with "replace"
    ('{"a": ' * 33 + "1" + "}" * 33, "JSON nested more than 32 levels deep"),
])
def test_example_refuses_a_file_that_is_not_a_vector_file(data, problem, capsys, tmp_path):
    write(tmp_path, "op-sdk-x.json", "ignored: not an RFC example")
    write(tmp_path, "rfc0000-1.json", data)
    code, out, err = run(capsys, "example", "--list", "--vectors", str(tmp_path))
    assert (code, out) == (2, "") and f"rfc0000-1.json: {problem}" in err


def test_example_writes_a_key_0600_from_its_creation_and_other_files_as_usual(
        capsys, tmp_path, monkeypatch):
    # pins the modes example creates its files with: the private key never readable by others
    # (not even before its bytes are written), the message as any file the user writes
    created = {}
    fdopen = os.fdopen

    def watched(fd, *args, **kwargs):
        info = os.fstat(fd)
        created[info.st_ino] = stat.S_IMODE(info.st_mode)
        return fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", watched)
    old_umask = os.umask(0o022)
    try:
        code, _, err = run(capsys, "example", "rfc9421-B.2.6", "--out", str(tmp_path))
    finally:
        os.umask(old_umask)
    assert (code, err) == (0, "")
    modes = {name: (created[(tmp_path / name).stat().st_ino],
                    stat.S_IMODE((tmp_path / name).stat().st_mode))
             for name in ("key.pem", "message.txt")}
    assert modes == {"key.pem": (0o600, 0o600), "message.txt": (0o644, 0o644)}


def test_example_vector_file_without_tests_has_no_examples(capsys, tmp_path):
    # pins doc.get("tests", []): a vector file with no "tests" array lists nothing
    write(tmp_path, "rfc0000-1.json", json.dumps({"schema": "op_continue-vectors/1"}))
    assert run(capsys, "example", "--list", "--vectors", str(tmp_path)) == (0, "", "")


def test_example_writes_a_text_given_as_one_string_as_is(capsys, tmp_path):
    # pins _example_text on a value that is no array of lines: the string is the text itself
    message = "POST /foo HTTP/1.1\nHost: example.com"
    doc = {"schema": "op_continue-vectors/1", "tests": [
        {"id": "rfc0000-1", "type": "component", "input": {"message": message,
                                                           "component": '"@method"'},
         "expected": {}, "result": "valid"}]}
    write(tmp_path, "rfc0000-1.json", json.dumps(doc))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run(capsys, "example", "rfc0000-1", "--out", str(out_dir), "--vectors",
                       str(tmp_path))
    assert (code, err) == (0, "")
    assert (out_dir / "message.txt").read_bytes() == message.encode()
    code, out, err = run(capsys, "base", "--message", str(out_dir / "message.txt"),
                         "--signature-input", 'sig1=("@method")')
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == '"@method": POST'  # RFC 9421 §2.2.1: the method, as sent


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
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token_value)
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
    # private _printable: the escaping table itself; the online CLI tests show it in their output
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
@pytest.mark.req("RFC9530-2-3")
def test_verify_warns_of_what_the_signature_leaves_unprotected(tmp_path, key, capsys, message,
                                                               covered, params, warnings):
    path = signed_file(tmp_path, key, message, covered, params)
    code, out, err = run(capsys, "verify", "--message", path, "--key",
                         write(tmp_path, "pub.pem", key.public_key.to_pem()), "--profile", "none")
    assert (code, out) == (0, "valid\n")
    assert err == "".join(f"op-continue: warning: {w}\n" for w in warnings)


def test_verify_warns_when_a_response_covers_the_request_digest_only(tmp_path, key, capsys):
    covered = ("@status", oc.Item("content-digest", {"req": True}))
    path = signed_file(tmp_path, key, RESPONSE, covered, CREATED, request=POST)
    code, out, err = run(capsys, "verify", "--message", path, "--key",
                         write(tmp_path, "pub.pem", key.public_key.to_pem()),
                         "--request", write(tmp_path, "request.txt", POST), "--profile", "none")
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


# --- RFC 9635 §7.3.1, RFC 9421 §3.2: verify requires what Open Payments signs ------------------

AUTHORIZED_GET = "GET /rs/1?x=1 HTTP/1.1\nHost: as.example\nAuthorization: GNAP T-1\n\n"
PROFILE = ("op-continue: invalid: not signed as the Open Payments profile requires (RFC 9635 "
           "section 7.3.1): {} (--profile none: RFC 9421 alone)\n")
SDK = ("@method", "@target-uri", "authorization", "content-digest", "content-length",
       "content-type")  # what the official SDK covers in a request with a body


@pytest.mark.parametrize("message, covered, params, problems", [
    (POST, (), (("created", 1),), 'not covered: "@method", "@target-uri", "authorization", '
                                  '"content-digest", "content-length", "content-type"'),
    (POST, SDK[:3], (("created", 1),),
     'not covered: "content-digest", "content-length", "content-type"'),
    (POST, SDK, (("created", 1), ("tag", "not-gnap")), 'a "tag" other than "gnap"'),
    (POST, SDK, (("keyid", "k"),), 'no "created" parameter'),
    (POST, SDK, (("created", 1), ("alg", "ed25519")), 'an "alg" parameter'),
    (AUTHORIZED_GET, SDK[:2], (), 'not covered: "authorization"; no "created" parameter'),
], ids=["nothing", "body-not-covered", "tag", "no-created", "alg", "get"])
@pytest.mark.req("RFC9421-1.4-1", "RFC9635-7.3.1-7", "RFC9635-7.3.1-14", "RFC9635-7.3.1-15")
def test_verify_refuses_what_the_open_payments_profile_requires(tmp_path, key, capsys, message,
                                                                 covered, params, problems):
    path = signed_file(tmp_path, key, message, covered, params)
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (
        1, "", PROFILE.format(problems))
    code, out, _ = run(capsys, "verify", "--message", path, "--key", pub, "--profile", "none")
    assert (code, out) == (0, "valid\n")  # RFC 9421 alone: valid


@pytest.mark.parametrize("message, covered, params", [
    (POST, SDK, (("created", 1), ("tag", "gnap"))),  # RFC 9635 §7.3.1's tag
    (POST, SDK, (("keyid", "k"), ("created", 1))),  # the official SDK's: no tag
    (AUTHORIZED_GET, SDK[:3], (("created", 1),)),  # no body: no content components
], ids=["tag-gnap", "sdk", "get"])
@pytest.mark.req("RFC9421-1.4-1", "RFC9635-7.3.1-7")
def test_verify_accepts_what_the_profile_allows(tmp_path, key, capsys, message, covered, params):
    path = signed_file(tmp_path, key, message, covered, params)
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (0, "valid\n", "")
    assert run(capsys, "verify", "--message", path, "--key", pub,
               "--profile", "open-payments") == (0, "valid\n", "")  # the default, named


# RFC 9635 §7.3.1 profiles requests: a response is verified with --profile none
@pytest.mark.req("RFC9421-1.4-1")
def test_verify_sends_a_response_to_profile_none(tmp_path, key, capsys):
    path = signed_file(tmp_path, key, RESPONSE, ("@status",), (("created", 1),))
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (
        2, "", "op-continue: error: --profile open-payments is for requests (RFC 9635 section "
               "7.3.1): verify a response with --profile none\n")
    assert run(capsys, "verify", "--message", path, "--key", pub, "--profile", "none")[:2] == (
        0, "valid\n")


# --- issue 17 item 3: the base next to the request; what the transport adds -------------------

CONTINUE_ENV = [("CONTINUE_URI", "https://as.example/continue/1"),
                ("CONTINUE_ACCESS_TOKEN", "T-1"), ("INTERACT_REF", "R-1")]


@pytest.fixture
def continuation(keyfile, monkeypatch):
    """The key settings and a continuation (CONTINUE_ENV), without CONTINUE_NOT_BEFORE."""
    for name, value in CONTINUE_ENV:
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CONTINUE_NOT_BEFORE", raising=False)


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
@pytest.mark.req("RFC9421-3.2-s4", "RFC9421-3.2.1-1", "RFC9635-7.3.1-14")
def test_verify_require_rejects_a_signature_that_does_not_cover_it(continuation, key, tmp_path,
                                                                    capsys, required, missing):
    code, request, _ = run(capsys, "continue", "--dry-run")
    argv = ["verify", "--message", write(tmp_path, "r.txt", request),
            "--key", write(tmp_path, "pub.pem", key.public_key.to_pem())]
    code, out, err = run(capsys, *argv, *[a for r in required for a in ("--require", r)])
    assert (code, out) == (1, "")
    assert err == f"op-continue: invalid: a required component is not covered: {missing}\n"


@pytest.mark.parametrize("value", ['"@method', "two words", '"";req', "?", "@", "a:b", '"x";',
                                   ":ab", "@:ab"])  # (no token char first, after the @ or not)
def test_verify_require_refuses_what_is_no_component(tmp_path, key, capsys, value):
    code, out, err = run(capsys, "verify", "--message", write(tmp_path, "m.txt", POST),
                         "--key", write(tmp_path, "pub.pem", key.public_key.to_pem()),
                         "--require", value)
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: --require: not a component name (@method, "
                   "content-digest) or identifier ('\"content-digest\";req') (the value is not "
                   "shown)\n")  # (no value echoed: test_no_argument_value_is_ever_echoed)


def test_verify_max_age_and_require_together(continuation, key, tmp_path, capsys):

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
                           path, "--key", write(tmp_path, "pub.pem", key.public_key.to_pem()),
                           "--profile", "none"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    assert proc.returncode == 0
    assert proc.stdout == (f"valid\nop-continue: warning: {BODY_}\n"
                           f"op-continue: warning: {AUTHORIZATION}\n")


def test_help_shows_the_base_newline_the_scheme_default_and_the_wire():
    # private _parser: the parser behind main(); no public handle on its help texts
    texts = {name: oc._parser().commands[name].format_help() for name in ("base", "continue")}
    assert "without a newline (RFC 9421 §2.5)" in " ".join(texts["base"].split())
    assert "(default: https)" in texts["base"]
    assert "User-Agent and Accept-Encoding: identity" in " ".join(texts["continue"].split())


SENTINEL = "S3NT1N3L-value"


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


def test_a_secret_option_is_refused_in_its_equals_form_and_without_a_command(capsys):
    # pins the name read before "=" and the main parser's refusal when no command is named
    code, out, err = run_any(capsys, "continue", f"--interact-ref={SENTINEL}")
    assert (code, out) == (oc.EXIT_USAGE, "") and SENTINEL not in err
    assert err.splitlines()[-1].startswith("op-continue continue: error: --interact-ref would "
                                           "put a secret on the command line")
    code, out, err = run_any(capsys, "--access-token", SENTINEL)
    assert (code, out) == (oc.EXIT_USAGE, "") and SENTINEL not in err
    assert err.splitlines()[-1].startswith("op-continue: error: --access-token would put a "
                                           "secret on the command line")
    # the command is the first word that is no option, even after one
    code, out, err = run_any(capsys, "--allow-http", "continue", "--access-token", SENTINEL)
    assert (code, out) == (oc.EXIT_USAGE, "") and SENTINEL not in err
    assert err.splitlines()[-1].startswith("op-continue continue: error: --access-token would "
                                           "put a secret on the command line")


def test_after_a_double_dash_nothing_is_read_as_a_secret_option(capsys, tmp_path, monkeypatch):
    # pins the stop at "--": what follows is an operand (here digest's file name), not an option
    monkeypatch.chdir(tmp_path)
    code, out, err = run_any(capsys, "digest", "--", "--access-token=x")
    assert (code, out, err) == (oc.EXIT_USAGE, "", "op-continue: error: cannot read "
                                "'--access-token=x': No such file or directory\n")


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
    code, out, _ = run_any(capsys, "--vers")  # the top level's own option: --version
    assert code == oc.EXIT_USAGE and out == ""


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
    # private _argparse_error: how argparse's messages are cut to names; main() shows few
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


SHELL_HOSTILE_ID = SHELL_HOSTILE + "\n'export EVIL=1\n\x1b[2J\u2028\ud800\u00e9"


CONT = {"access_token": {"value": "CONT'2$(touch${IFS}pwned4)"},
        "uri": "https://as.example/continue/1"}


def test_env_output_survives_eval_with_hostile_values(flow_env, monkeypatch, capsys, tmp_path):
    token = {"value": SHELL_HOSTILE.replace(" ", ""), "manage": "https://as.example/token/1?a='b",
             "access": OUTGOING, "expires_in": 60}
    canned(monkeypatch, (200, {"access_token": token, "continue": CONT,
                               "subject": {"sub_ids": [{"id": SHELL_HOSTILE_ID, "format": "uri"},
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
    # private _printable: the escaping table itself; the online CLI tests show it in their output
    assert env["SUBJECT_ID_1"] == oc._printable(SHELL_HOSTILE_ID)  # escaped, as in the text format
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
    assert sorted(first) == ["CLIENT_NONCE", "CONTINUE_ACCESS_TOKEN", "CONTINUE_NOT_BEFORE",
                             "CONTINUE_URI", "CONTINUE_WAIT_SECONDS", "INTERACT_FINISH",
                             "INTERACT_REDIRECT"]
    monkeypatch.setenv("FINISH_REDIRECT", las.approve(first["CONTINUE_URI"]))
    assert list(step("finish")) == ["INTERACT_REF"]
    done = step("continue", "--allow-http")
    assert sorted(done) == ["ACCESS_TOKEN", "CONTINUE_ACCESS_TOKEN", "CONTINUE_NOT_BEFORE",
                            "CONTINUE_URI", "CONTINUE_WAIT_SECONDS", "MANAGE_URL",
                            "OUTGOING_PAYMENT_ACCESS_TOKEN",
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


def test_a_grant_issued_at_once_prints_the_nonce_then_the_token_and_each_subject(
        flow_env, monkeypatch, capsys):
    # pins what goes before the token lines (CLIENT_NONCE) and the subject names per format:
    # SUBJECT_ID for one subject (as in the text format), numbered in env only when several
    monkeypatch.delenv("FINISH_URI", raising=False)  # the first grant alone has a finish URI
    token = {"value": "T", "manage": "https://as.example/token/1", "access": OUTGOING}
    one = {"sub_ids": [{"id": "https://w.example/alice", "format": "uri"}]}
    two = {"sub_ids": [*one["sub_ids"], {"id": "https://w.example/bob", "format": "uri"}]}
    sent = canned(monkeypatch, (200, {"access_token": token, "subject": one}),
                  (200, {"access_token": token, "subject": one}),
                  (200, {"access_token": token, "subject": two}),
                  (200, {"access_token": token, "subject": two}))
    code, out, err = run(capsys, "grant", "--finish-uri", FINISH_URI)
    nonce = json.loads(sent[0].body)["interact"]["finish"]["nonce"]
    assert (code, err) == (oc.EXIT_OK, "")
    assert out.splitlines() == [f"CLIENT_NONCE = {nonce}", "OUTGOING_PAYMENT_ACCESS_TOKEN = T",
                                "OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL = " + token["manage"],
                                "SUBJECT_ID = https://w.example/alice"]
    code, out, err = run(capsys, "grant", "--format", "env")
    assert (code, err) == (oc.EXIT_OK, "")
    assert [line.split("=")[0] for line in out.splitlines()] == [
        "export OUTGOING_PAYMENT_ACCESS_TOKEN", "export OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL",
        "export ACCESS_TOKEN", "export MANAGE_URL", "export SUBJECT_ID"]
    code, out, err = run(capsys, "grant")
    assert (code, err) == (oc.EXIT_OK, "")
    assert out.splitlines()[2:] == ["SUBJECT_ID = https://w.example/alice",
                                    "SUBJECT_ID = https://w.example/bob"]
    code, out, err = run(capsys, "grant", "--format", "env")
    assert (code, err) == (oc.EXIT_OK, "")
    assert out.splitlines()[4:] == ["export SUBJECT_ID_1='https://w.example/alice'",
                                    "export SUBJECT_ID_2='https://w.example/bob'"]


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


# '""' pins the length bound (two characters, quotes only, are refused too)
@pytest.mark.parametrize("quoted", ['"CONT-1"', "'CONT-1'", '""'])
def test_a_token_in_quotes_is_refused(flow_env, monkeypatch, capsys, quoted):
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", quoted)
    assert run(capsys, "poll", "--dry-run") == (
        2, "", "op-continue: error: CONTINUE_ACCESS_TOKEN: the value is wrapped in quotes "
        "(copied from a .env file?); remove them\n")


def test_a_token_between_other_equal_characters_is_kept(flow_env, monkeypatch, capsys):
    # pins the quote characters: only ' and " wrapping a value are refused
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", "XCONT-1X")
    code, out, err = run(capsys, "poll", "--dry-run")
    assert code == 0 and err == "" and "GNAP XCONT-1X" in out


def test_an_unreadable_file_is_named(tmp_path, capsys):
    # pins the name in the error of a file that is no secret: the path, as repr shows it
    missing = str(tmp_path / "nope")
    code, out, err = run(capsys, "digest", missing)
    assert (code, out) == (2, "") and err.startswith(f"op-continue: error: cannot read "
                                                     f"{missing!r}: ")


def test_a_missing_requests_is_named(flow_env, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "requests", None)  # import requests: ModuleNotFoundError
    assert run(capsys, "poll") == (2, "", "op-continue: error: this command needs requests, "
                                   "which is not installed: pip install 'requests>=2.20'\n")


def test_a_missing_submodule_names_its_package(flow_env, monkeypatch, capsys):
    # pins the package read before the first ".": a broken install missing nacl.signing
    def broken(args):
        raise ModuleNotFoundError("No module named 'nacl.signing'", name="nacl.signing")

    monkeypatch.setattr(oc, "_cmd_poll", broken)
    assert run(capsys, "poll") == (2, "", "op-continue: error: this command needs PyNaCl, "
                                   "which is not installed: pip install 'PyNaCl>=1.3'\n")


def test_another_missing_module_is_not_hidden(flow_env, monkeypatch):
    def broken(args):
        import not_a_module_of_ours  # noqa: F401

    monkeypatch.setattr(oc, "_cmd_poll", broken)
    with pytest.raises(ModuleNotFoundError):
        oc.main(["poll"])


def test_keygen_and_jwk_read_the_key_settings(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(tmp_path / "k.pem"))
    monkeypatch.setenv("KEY_ID", "k1")
    code, out, _ = run(capsys, "keygen")
    assert code == 0 and stat.S_IMODE(os.stat(tmp_path / "k.pem").st_mode) == 0o600
    assert run(capsys, "jwk") == (0, out, "")


@pytest.fixture
def env(monkeypatch, keyfile):
    """The key settings (keyfile) and no other setting a command reads; returns monkeypatch."""
    for name in ("CONTINUE_URI", "CONTINUE_ACCESS_TOKEN", "INTERACT_REF", "MANAGE_URL",
                 "ACCESS_TOKEN", "WALLET_ADDRESS", "FINISH_REDIRECT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_cli_continue_prints_the_docs_lines(env, client, las, capsys):
    grant, ref = approve(client, las)
    env.setenv("CONTINUE_URI", grant.continue_.uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token_value)
    env.setenv("INTERACT_REF", ref)
    assert oc.main(["continue", "--allow-http"]) == 0
    out = capsys.readouterr().out.splitlines()
    token = json.loads(las.requests_log[-1]["response"])["access_token"]
    assert out == [f"OUTGOING_PAYMENT_ACCESS_TOKEN = {token['value']}",
                   f"OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL = {token['manage']}"]
    assert oc.main(["continue", "--allow-http"]) == oc.EXIT_GRANT_ERROR  # reused ref
    err = capsys.readouterr().err
    assert "request_denied" in err and ref not in err
    assert grant.continue_.access_token_value not in err


@pytest.mark.req("RFC9635-5.4-1", "RFC9635-5.4-2", "RFC9635-6.2-2")
def test_cli_pending_exits_3(env, client, las, capsys):
    grant, _ = start_grant(client, las, finish=False)
    env.setenv("CONTINUE_URI", grant.continue_.uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token_value)
    assert oc.main(["poll", "--allow-http"]) == oc.EXIT_PENDING
    assert capsys.readouterr().out.splitlines() == [
        f"CONTINUE_URI = {grant.continue_.uri}",
        f"CONTINUE_ACCESS_TOKEN = {grant.continue_.access_token_value}",
        "CONTINUE_WAIT_SECONDS = 0"]
    las.approve(grant.continue_.uri)
    assert oc.main(["poll", "--allow-http", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["access_token"]["access"][0]["type"] == \
        "outgoing-payment"
    assert oc.main(["cancel", "--allow-http"]) == 0


@pytest.mark.req("RFC9635-5.4-2", "RFC9635-6.2-2")
def test_cli_rotate_revoke(env, client, las, capsys):
    grant, ref = approve(client, las)
    token = client.continue_grant(grant.continue_.uri, grant.continue_.access_token_value,
                                  ref).access_token
    env.setenv("MANAGE_URL", token.manage)
    env.setenv("ACCESS_TOKEN", token.value)
    assert oc.main(["rotate", "--allow-http"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ACCESS_TOKEN = ") and lines[1].startswith("MANAGE_URL = ")
    env.setenv("ACCESS_TOKEN", lines[0].split(" = ")[1])
    env.setenv("MANAGE_URL", lines[1].split(" = ")[1])
    assert oc.main(["revoke", "--allow-http"]) == 0


def test_cli_dry_run_json_sends_nothing(env, las, capsys, key):
    uri = las.url + "/continue/abc"
    env.setenv("CONTINUE_URI", uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", "TOKEN-1")
    env.setenv("INTERACT_REF", "REF-1")
    assert oc.main(["continue", "--allow-http", "--dry-run", "--json", "--created", "7"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = oc.sign_request("POST", uri, key=key, key_id=KID, access_token="TOKEN-1",
                               body=b'{"interact_ref":"REF-1"}', created=7, allow_http=True)
    assert printed == {"method": "POST", "url": uri, "headers": dict(expected.headers),
                       "body": '{"interact_ref":"REF-1"}',
                       "signature_base": expected.signature_base}
    assert las.requests_log == []
    assert oc.main(["poll", "--allow-http", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["body"] == ""


def test_cli_usage_and_transport_errors(env, capsys):
    env.setenv("CONTINUE_URI", "http://127.0.0.1:9/continue/x")  # discard port: refused
    env.setenv("CONTINUE_ACCESS_TOKEN", "TOKEN-1")
    env.setenv("INTERACT_REF", "REF-1")
    assert oc.main(["continue"]) == oc.EXIT_USAGE  # http without --allow-http
    assert "https" in capsys.readouterr().err
    assert oc.main(["continue", "--allow-http", "--timeout", "2"]) == oc.EXIT_TRANSPORT_ERROR
    err = capsys.readouterr().err
    assert "nothing was sent" in err and "TOKEN-1" not in err and "REF-1" not in err
    env.delenv("INTERACT_REF")
    assert oc.main(["continue", "--allow-http"]) == oc.EXIT_USAGE
    assert "INTERACT_REF is not set" in capsys.readouterr().err


B26_keys = next(v for v in vectors_of("signature_base") if v["id"] == "rfc9421-B.2.6")


def _two_signatures(tmp_path):
    inp = B26_keys["input"]
    lines = list(inp["message"])
    message = oc.parse_message("\n".join(lines).encode())
    extra = []
    for label, created in (("sig-a", 1618884473), ("sig-b", 1618884474)):
        params = oc.signature_params(["@method", "@authority"],
                                     [("created", created), ("keyid", "test-key-ed25519")])
        sig_input, signature = oc.sign_message(message, PRIVATE, params, label=label)
        extra += [f"Signature-Input: {sig_input}", f"Signature: {signature}"]
    blank = lines.index("")
    path = tmp_path / "signed.txt"
    path.write_text("\n".join([*lines[:blank], *extra, *lines[blank:]]))
    key = tmp_path / "jwks.json"
    key.write_text(json.dumps(oc.jwks({"test-key-ed25519": PRIVATE.public_key})))
    return str(path), str(key)


@pytest.mark.req("RFC9421-3.2-s1.1", "RFC9421-3.2.1-1", "RFC9635-7.3.1-9")
def test_cli_verify_label_and_max_age(tmp_path, capsys):
    message, key = _two_signatures(tmp_path)
    key = [key, "--profile", "none"]  # RFC 9421 examples, not Open Payments requests
    assert oc.main(["verify", "--message", message, "--key", *key]) == oc.EXIT_INVALID
    assert "several signatures" in capsys.readouterr().err
    assert oc.main(["verify", "--message", message, "--key", *key, "--label", "sig-b"]) == 0
    assert capsys.readouterr().out == "valid\n"
    assert oc.main(["verify", "--message", message, "--key", *key, "--label", "sig-b",
                    "--max-age", "60"]) == oc.EXIT_INVALID
    assert "too old" in capsys.readouterr().err


def test_cli_sign_and_verify_a_response_with_req(tmp_path, capsys):
    response = tmp_path / "response.txt"
    response.write_text("HTTP/1.1 200 OK\nExample-Dict: a=1, b=2\nContent-Length: 0\n\n")
    request = tmp_path / "request.txt"
    request.write_text("GET /x?y=1 HTTP/1.1\nHost: Example.COM:443\n\n")
    key = tmp_path / "k.pem"
    key.write_text(text(ED["private_pem"]) + "\n")
    key.chmod(0o600)
    sig_input = 'r=("@status" "example-dict";key="b" "@authority";req "@query";req);created=5'
    common = ["--message", str(response), "--request", str(request),
              "--field-type", "Example-Dict=dictionary"]
    assert oc.main(["sign", *common, "--key", str(key), "--signature-input", sig_input,
                    "--label", "r"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Signature-Input: {sig_input}\nSignature: r=:")
    assert oc.main(["base", *common, "--signature-input", sig_input]) == 0
    assert capsys.readouterr().out == (
        '"@status": 200\n"example-dict";key="b": 2\n"@authority";req: example.com\n'
        '"@query";req: ?y=1\n"@signature-params": ("@status" "example-dict";key="b" '
        '"@authority";req "@query";req);created=5\n')
    signed = response.read_text().replace("\n\n", "\n" + out + "\n", 1)
    response.write_text(signed)
    pub = tmp_path / "pub.json"
    pub.write_text(json.dumps(PUBLIC_JWK))
    assert oc.main(["verify", *common, "--key", str(pub), "--profile", "none"]) == 0
    assert capsys.readouterr().out == "valid\n"
    assert oc.main(["base", "--message", str(response), "--signature-input", sig_input,
                    "--field-type", "example-dict=map"]) == oc.EXIT_USAGE
    assert "NAME=item|list|dictionary" in capsys.readouterr().err


@pytest.mark.req("RFC9635-4.2.3-3")
def test_cli_hash_reads_interact_ref_from_env_or_file(tmp_path, monkeypatch, capsys):
    vec = vectors_of("interaction_hash")[0]
    inp = vec["input"]
    argv = ["hash", "--client-nonce", inp["client_nonce"], "--server-nonce", inp["server_nonce"],
            "--grant-endpoint", inp["grant_endpoint"]]
    monkeypatch.setenv("INTERACT_REF", inp["interact_ref"])
    assert oc.main(argv) == 0
    assert capsys.readouterr().out == vec["expected"]["hash"] + "\n"
    monkeypatch.delenv("INTERACT_REF")
    ref = tmp_path / "ref"
    ref.write_text(inp["interact_ref"] + "\n")
    assert oc.main([*argv, "--interact-ref-file", str(ref)]) == 0
    assert capsys.readouterr().out == vec["expected"]["hash"] + "\n"
    assert oc.main(argv) == oc.EXIT_USAGE
    assert "INTERACT_REF is not set" in capsys.readouterr().err


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text(text(ED["private_pem"]) + "\n")
    key.chmod(0o600)
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(key))
    monkeypatch.setenv("KEY_ID", "kid-1")
    return tmp_path


@pytest.mark.parametrize("command, method", [("rotate", "POST"), ("revoke", "DELETE")])
def test_token_commands_dry_run(cli_env, capsys, command, method):
    token = cli_env / "token"
    token.write_text("ACCESS-1\n")
    url = "https://as.example/token/1"
    assert oc.main([command, "--manage-url", url, "--access-token-file", str(token),
                    "--dry-run", "--json", "--created", "9"]) == 0
    expected = oc.sign_request(method, url, key=PRIVATE, key_id="kid-1", access_token="ACCESS-1",
                               created=9)
    assert json.loads(capsys.readouterr().out) == expected.to_json()


@pytest.mark.parametrize("command, method", [("poll", "POST"), ("cancel", "DELETE")])
def test_continue_commands_dry_run(cli_env, capsys, monkeypatch, command, method):
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", "CONT-1")
    url = "https://as.example/continue/1"
    assert oc.main([command, "--continue-uri", url, "--key-id", "kid-2", "--dry-run",
                    "--created", "9"]) == 0
    out = capsys.readouterr().out
    expected = oc.sign_request(method, url, key=PRIVATE, key_id="kid-2", access_token="CONT-1",
                               created=9)
    assert out.startswith(f"{method} /continue/1 HTTP/1.1\nHost: as.example\n")
    assert f"Signature: {expected.header('Signature')}\n" in out


def test_continue_reads_its_secrets_from_files(cli_env, capsys, monkeypatch):
    import io
    import sys

    token, url = cli_env / "t", "https://as.example/continue/1"
    token.write_text("CONT-1")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"REF-1\n")))
    assert oc.main(["continue", "--continue-uri", url, "--continue-access-token-file", str(token),
                    "--interact-ref-file", "-", "--dry-run", "--json", "--created", "3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["headers"]["Authorization"] == "GNAP CONT-1"
    assert printed["body"] == '{"interact_ref":"REF-1"}'


def test_cli_reports_a_subject_grant(capsys):
    grant = oc.Grant.from_json({"subject": {"sub_ids": [{"id": "https://w.example/alice",
                                                         "format": "uri"}]},
                                "continue": {"access_token": {"value": "C"},
                                             "uri": "https://as.example/continue/1"}})
    # private _report_grant: how the CLI prints a grant; no offline command gets a subject-only one
    assert oc._report_grant(grant, "text") == oc.EXIT_OK
    assert capsys.readouterr().out == "SUBJECT_ID = https://w.example/alice\n"
    assert oc._report_grant(grant, "json") == oc.EXIT_OK
    assert json.loads(capsys.readouterr().out)["subject"]["sub_ids"][0]["id"] == \
        "https://w.example/alice"


@pytest.mark.parametrize("argv, missing", [
    (["base", "--message", "m"], "--signature-input"),
    (["base", "--signature-input", "x"], "--message"),
    (["sign", "--message", "m", "--key", "k"], "--signature-input"),
    (["verify", "--message", "m"], "--key"),
    ([], "command"),
])
def test_required_options(argv, missing, capsys):
    with pytest.raises(SystemExit) as info:
        oc.main(argv)
    assert info.value.code == oc.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: op-continue")
    assert "op-continue" in err.splitlines()[-1] and "error: the following arguments are "\
        "required: " in err and missing in err.splitlines()[-1]


ENDPOINT = "https://as.example/"


ENV_NAMES = ("PRIVATE_KEY_PATH", "KEY_ID", "CLIENT_NONCE", "INTERACT_FINISH", "GRANT_ENDPOINT",
             "WALLET_ADDRESS", "ACCESS", "CONTINUE_URI", "MANAGE_URL")


@pytest.mark.parametrize("argv, env, option", [
    (["sign", "--message", "m", "--signature-input", "x"], "PRIVATE_KEY_PATH", "--key"),
    (["keygen"], "PRIVATE_KEY_PATH", "--out"),
    (["jwk", "--key", "k"], "KEY_ID", "--key-id"),
    (["hash", "--server-nonce", "s", "--grant-endpoint", "g"], "CLIENT_NONCE", "--client-nonce"),
    (["hash", "--client-nonce", "c", "--grant-endpoint", "g"], "INTERACT_FINISH",
     "--server-nonce"),
    (["hash", "--client-nonce", "c", "--server-nonce", "s"], "GRANT_ENDPOINT",
     "--grant-endpoint"),
    (["finish", "--client-nonce", "c", "--server-nonce", "s"], "GRANT_ENDPOINT",
     "--grant-endpoint"),
    (["finish", "--server-nonce", "s", "--grant-endpoint", "g"], "CLIENT_NONCE",
     "--client-nonce"),
    (["finish", "--client-nonce", "c", "--grant-endpoint", "g"], "INTERACT_FINISH",
     "--server-nonce"),
    (["grant", "--access", "[]"], "GRANT_ENDPOINT", "--grant-endpoint"),
    (["grant", "--grant-endpoint", ENDPOINT, "--access", "[]"], "WALLET_ADDRESS",
     "--wallet-address"),
    (["grant", "--grant-endpoint", ENDPOINT, "--wallet-address", ENDPOINT], "ACCESS",
     "--access"),
    # (the URL settings of the continue and manage commands: required, as each command's first)
    (["continue"], "CONTINUE_URI", "--continue-uri"),
    (["poll"], "CONTINUE_URI", "--continue-uri"),
    (["cancel"], "CONTINUE_URI", "--continue-uri"),
    (["rotate"], "MANAGE_URL", "--manage-url"),
    (["revoke"], "MANAGE_URL", "--manage-url"),
])
def test_options_fall_back_to_the_environment(argv, env, option, capsys, monkeypatch):
    """Each value option of the flow has an environment variable of the same name; unset in
    both places, the error names both."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    assert oc.main(argv) == oc.EXIT_USAGE
    assert capsys.readouterr().err == f"op-continue: error: {env} is not set (environment, " \
        f"or {option})\n"


@pytest.mark.parametrize("argv", [
    ["digest", "--algorithm", "md5", "f"],
    ["hash", "--client-nonce", "c", "--server-nonce", "s", "--grant-endpoint", "g",
     "--hash-method", "md5"],
    ["finish", "--client-nonce", "c", "--server-nonce", "s", "--grant-endpoint", "g",
     "--hash-method", "sha1"],
    ["verify", "--message", "m", "--key", "k", "--max-age", "soon"],
    ["continue", "--created", "now"],
    ["poll", "--timeout", "never"],
])
def test_invalid_choices_and_types(argv, capsys):
    with pytest.raises(SystemExit) as info:
        oc.main(argv)
    assert info.value.code == oc.EXIT_USAGE
    assert "invalid" in capsys.readouterr().err


def test_defaults_and_version(tmp_path, capsys):
    body = tmp_path / "b"
    body.write_bytes(b"")
    assert oc.main(["digest", str(body)]) == 0  # sha-512 by default
    assert capsys.readouterr().out.startswith("sha-512=:z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpI")
    message = tmp_path / "m"
    message.write_text("GET /p HTTP/1.1\nHost: h\n")
    assert oc.main(["base", "--message", str(message), "--signature-input",
                    'a=("@scheme")']) == 0  # --scheme https by default
    assert capsys.readouterr().out.splitlines()[0] == '"@scheme": https'
    with pytest.raises(SystemExit) as info:
        oc.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == oc.__version__ + "\n"
    with pytest.raises(SystemExit):
        oc.main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: op-continue")
    assert "Open Payments grant continuation (RFC 9635 §5) with RFC 9421 signatures." in out
    assert "CONTINUE_URI, CONTINUE_ACCESS_TOKEN, INTERACT_REF" in out
    assert "3 still pending, 4 GNAP error, 5 malformed response, 6 transport error" in out


# a non-ASCII identifier: JSON output must carry it as UTF-8, not \u escapes


def test_a_command_closes_its_connections(env, las, capsys):
    """A command's Client closes its pooled connection when the command ends: no socket is
    left for the garbage collector (it would say ResourceWarning: unclosed socket). urllib3 2
    closes a collected pool's sockets itself, so the floor leg (urllib3 1.24) is where a
    command that forgot to close would fail here."""
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        code, _, err = run(capsys, "grant", "--allow-http", "--grant-endpoint",
                           las.grant_endpoint, "--wallet-address", las.wallet, "--access",
                           json.dumps(OUTGOING), "--finish-uri", FINISH_URI)
        gc.collect()
    assert (code, err) == (oc.EXIT_OK, "")
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


@pytest.mark.req("RFC9635-5.4-1", "RFC9635-6.2-1")
def test_cli_created_reaches_every_request(env, client, las, capsys):
    code, out, _ = run(capsys, "grant", "--allow-http", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(OUTGOING),
                       "--finish-uri", FINISH_URI, "--created", "1700000011")
    assert code == oc.EXIT_OK  # an interactive grant that awaits the user: the expected outcome
    lines = dict(line.split(" = ", 1) for line in out.splitlines())
    ref = oc.parse_finish_redirect(las.approve(lines["CONTINUE_URI"])).interact_ref
    env.setenv("CONTINUE_URI", lines["CONTINUE_URI"])
    env.setenv("CONTINUE_ACCESS_TOKEN", lines["CONTINUE_ACCESS_TOKEN"])
    env.setenv("INTERACT_REF", ref)
    code, out, _ = run(capsys, "continue", "--allow-http", "--created", "1700000012")
    assert code == 0
    token = dict(line.split(" = ", 1) for line in out.splitlines())
    env.setenv("MANAGE_URL", token["OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL"])
    env.setenv("ACCESS_TOKEN", token["OUTGOING_PAYMENT_ACCESS_TOKEN"])
    code, out, _ = run(capsys, "rotate", "--allow-http", "--created", "1700000013")
    assert code == 0
    new = dict(line.split(" = ", 1) for line in out.splitlines())
    env.setenv("MANAGE_URL", new["MANAGE_URL"])
    env.setenv("ACCESS_TOKEN", new["ACCESS_TOKEN"])
    assert run(capsys, "revoke", "--allow-http", "--created", "1700000014") == (
        0, f"revoked: the access token at {new['MANAGE_URL']}\n", "")
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING)
    body["interact"] = {"start": ["redirect"]}
    pending = client.request_grant(las.grant_endpoint, body)
    env.setenv("CONTINUE_URI", pending.continue_.uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", pending.continue_.access_token_value)
    assert run(capsys, "poll", "--allow-http", "--created", "1700000015")[0] == oc.EXIT_PENDING
    assert run(capsys, "cancel", "--allow-http", "--created", "1700000016") == (
        0, f"cancelled: the grant request at {pending.continue_.uri}\n", "")
    log = [e for e in las.requests_log if e["verification"]["checked"]]
    assert [(e["method"], e["status"]) for e in log] == [
        ("POST", 200), ("POST", 200), ("POST", 200), ("DELETE", 204), ("POST", 200),
        ("POST", 200), ("DELETE", 204)]
    assert [created_of(e) for i, e in enumerate(log) if i != 4] == [
        1700000011, 1700000012, 1700000013, 1700000014, 1700000015, 1700000016]


@pytest.mark.req("RFC9635-5-1", "RFC9635-7.2-3")
def test_cli_json_output_of_an_answer_is_ascii(env, las, capsys):
    # what the AS sent is printed with \u escapes (a terminal sees no control character), and
    # reads back as sent; the request of --dry-run is ours, and printed in UTF-8
    code, out, _ = run(capsys, "grant", "--allow-http", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(CAFE), "--json")
    assert code == 0 and "https://wallet.example/caf\\u00e9" in out and out.isascii()
    token = json.loads(out)["access_token"]
    assert token["access"] == CAFE
    env.setenv("MANAGE_URL", token["manage"])
    env.setenv("ACCESS_TOKEN", token["value"])
    code, out, _ = run(capsys, "rotate", "--allow-http", "--json")
    assert code == 0 and "https://wallet.example/caf\\u00e9" in out and out.isascii()
    assert json.loads(out)["access_token"]["access"] == CAFE
    code, out, _ = run(capsys, "grant", "--allow-http", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(CAFE),
                       "--dry-run", "--json", "--created", "5")
    assert code == 0 and "https://wallet.example/café" in out
    assert json.loads(out)["headers"]["Signature-Input"].endswith(";created=5")


def test_cli_dry_run_grant_prints_the_message(env, key, las, capsys):
    code, out, _ = run(capsys, "grant", "--allow-http", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(CAFE),
                       "--dry-run", "--created", "1700000000")
    body = oc.json_body(oc.grant_request_body(client=las.wallet, access=CAFE))
    signed = oc.sign_request("POST", las.grant_endpoint, key=key, key_id=KID, body=body,
                             created=1700000000, allow_http=True)
    head = [f"POST /{TENANT_ID} HTTP/1.1", f"Host: {las.url.split('//')[1]}"]
    head += [f"{name}: {value}" for name, value in signed.headers]
    assert code == 0 and out == "\n".join(head) + "\n\n" + body.decode("utf-8")
    assert las.requests_log == []


def test_cli_mixed_grant_lines_have_no_prefix(env, las, capsys):
    # the Open Payments docs' names only prefix a single access type
    access = [{"type": "incoming-payment", "actions": ["read"]},
              {"type": "quote", "actions": ["create"]}]
    code, out, _ = run(capsys, "grant", "--allow-http", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(access))
    token = json.loads(las.requests_log[-1]["response"])["access_token"]
    assert code == 0
    assert out == (f"ACCESS_TOKEN = {token['value']}\n"
                   f"ACCESS_TOKEN_MANAGE_URL = {token['manage']}\n")


def test_cli_private_key_flag_and_timeout(env, las, capsys):
    key_path = os.environ["PRIVATE_KEY_PATH"]
    env.delenv("PRIVATE_KEY_PATH")  # --private-key alone is enough
    argv = ["grant", "--allow-http", "--grant-endpoint", las.grant_endpoint, "--wallet-address",
            las.wallet, "--access", json.dumps(CAFE), "--private-key", key_path]
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, *argv, "--timeout", "0") == (
        2, "", "op-continue: error: timeout: expected seconds in (0, 600]\n")


@pytest.mark.req("RFC9635-5-1", "RFC9635-7.2-3")
def test_cli_secret_files(env, las, tmp_path, capsys):
    env.setenv("CONTINUE_URI", las.url + "/continue/abc")
    assert run(capsys, "poll", "--allow-http", "--dry-run") == (
        2, "", "op-continue: error: CONTINUE_ACCESS_TOKEN is not set (environment, or "
               "--continue-access-token-file)\n")
    good = tmp_path / "good"
    good.write_bytes(b"  TOKEN-9\n")
    code, out, _ = run(capsys, "poll", "--allow-http", "--dry-run",
                       "--continue-access-token-file", str(good))
    assert code == 0 and "Authorization: GNAP TOKEN-9\n" in out
    bad = tmp_path / "bad"
    bad.write_bytes(b"TOKEN-\xff\n")  # undecodable bytes become U+FFFD, then are refused
    assert run(capsys, "poll", "--allow-http", "--dry-run", "--continue-access-token-file",
               str(bad)) == (2, "", "op-continue: error: continue access token: must be "
                                    "printable ASCII without spaces or control characters\n")


@pytest.mark.req("RFC9635-4.2.3-2")
def test_cli_finish_redirect_file_and_hash_method(env, tmp_path, capsys):
    # RFC 9635 §4.2.3 with another hash method
    args = ["--client-nonce", "CN", "--server-nonce", "SN", "--grant-endpoint",
            "https://as.example/"]
    digest = oc.interaction_hash("CN", "SN", "REF-1", "https://as.example/", "sha-512")
    path = tmp_path / "redirect"
    path.write_text(f"{FINISH_URI}?hash={digest}&interact_ref=REF-1\n")
    assert run(capsys, "finish", "--redirect-file", str(path), *args,
               "--hash-method", "sha-512") == (0, "INTERACT_REF = REF-1\n", "")
    assert run(capsys, "finish", "--redirect-file", str(path), *args, "--hash-method", "sha-512",
               "--format", "json") == (0, '{"interact_ref": "REF-1"}\n', "")
    assert run(capsys, "finish", "--redirect-file", str(path), *args)[0] == oc.EXIT_INVALID


def test_grant_reads_the_finish_uri_from_the_environment(keyfile, capsys, monkeypatch):
    for name, value in [("KEY_ID", KID), ("WALLET_ADDRESS", "https://wallet.example/alice"),
                        ("FINISH_URI", FINISH_URI)]:
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "grant", "--dry-run", "--json", "--grant-endpoint",
                       "https://auth.example/", "--access", json.dumps(OUTGOING))
    body = json.loads(json.loads(out)["body"])
    assert (code, body["interact"]["finish"]["uri"]) == (0, FINISH_URI)


def test_grant_takes_a_loopback_http_finish_uri_with_allow_http(keyfile, capsys, monkeypatch):
    # pins that --allow-http reaches the finish URI's check in the grant request body too
    monkeypatch.setenv("WALLET_ADDRESS", "https://wallet.example/alice")
    finish = "http://127.0.0.1:8080/finish"
    argv = ["grant", "--dry-run", "--json", "--grant-endpoint", "https://auth.example/",
            "--access", json.dumps(OUTGOING), "--finish-uri", finish]
    assert run(capsys, *argv) == (2, "", "op-continue: error: --finish-uri: must use https; use "
                                         "--allow-http for a loopback test server\n")
    code, out, err = run(capsys, *argv, "--allow-http")
    assert (code, err) == (0, "")
    assert json.loads(json.loads(out)["body"])["interact"]["finish"]["uri"] == finish


REQUEST = "POST /foo?a=1 HTTP/1.1\nHost: example.com\nX-Item:   \"abc\"  \n\n"


TEXT_RESPONSE = "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nhi"


@pytest.mark.parametrize("message, request_, params, expected", [
    (REQUEST, None, 'sig=("@target-uri");created=1',
     '"@target-uri": http://example.com/foo?a=1'),
    (TEXT_RESPONSE, REQUEST, 'sig=("@target-uri";req);created=1',
     '"@target-uri";req: http://example.com/foo?a=1'),
])
def test_base_uses_the_scheme(tmp_path, capsys, message, request_, params, expected):
    argv = ["base", "--message", write(tmp_path, "m.txt", message), "--scheme", "http",
            "--signature-input", params]
    if request_:
        argv += ["--request", write(tmp_path, "r.txt", request_)]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.splitlines()[0] == expected


def test_base_scheme_defaults_to_https(tmp_path, capsys):
    # an origin-form request line has no scheme: @target-uri takes --scheme, "https" by default
    code, out, _ = run(capsys, "base", "--message", write(tmp_path, "m.txt", REQUEST),
                       "--signature-input", 'sig=("@target-uri");created=1')
    assert code == 0 and out.splitlines()[0] == '"@target-uri": https://example.com/foo?a=1'


@pytest.mark.req("RFC9635-5-6")
def test_cli_pending_grant_without_wait_prints_the_default(env, monkeypatch, capsys):
    # RFC 9635 §3.1: no wait given means at least 5 seconds; the CLI says so to the poller
    answer = FakeResponse([b'{"continue": {"access_token": {"value": "NEXT"}, '
                           b'"uri": "https://as.example/continue/2"}}'])
    monkeypatch.setattr(oc, "_adapter_class", lambda: lambda: FakeAdapter(answer))
    monkeypatch.setenv("CONTINUE_URI", "https://as.example/continue/1")
    monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", "TOKEN")
    code, out, _ = run(capsys, "poll")
    assert code == oc.EXIT_PENDING
    assert out.splitlines() == ["CONTINUE_URI = https://as.example/continue/2",
                                "CONTINUE_ACCESS_TOKEN = NEXT", "CONTINUE_WAIT_SECONDS = 5"]


@pytest.mark.parametrize("message, request_, params, warning", [
    (REQUEST, None, 'b=("@target-uri");created=1;keyid="k"',
     'the method is not protected: "@method" is not covered'),
    (TEXT_RESPONSE, REQUEST, 'b=("@status" "@target-uri";req);created=1;keyid="k"',
     'the body is not protected: "content-digest" is not covered'),
])
def test_sign_then_verify_with_scheme_and_label(key, tmp_path, capsys, message, request_,
                                                params, warning):
    key_path = tmp_path / "k.pem"
    key.write_pem(key_path)
    extra = ["--request", write(tmp_path, "r.txt", request_)] if request_ else []
    code, out, err = run(capsys, "sign", "--message", write(tmp_path, "m.txt", message),
                         "--key", str(key_path), "--scheme", "http", "--label", "b",
                         "--signature-input", f'a=("@method");created=1, {params}', *extra)
    assert (code, err) == (0, "") and out.startswith(f"Signature-Input: {params}\n")
    head, _, content = message.partition("\n\n")
    signed = write(tmp_path, "s.txt", f"{head}\n{out}\n{content}")
    jwks = write(tmp_path, "k.json", json.dumps(oc.jwks({"k": key.public_key})))
    verify = ["verify", "--message", signed, "--key", jwks, "--profile", "none", *extra]
    assert run(capsys, *verify, "--scheme", "http") == (
        0, "valid\n", f"op-continue: warning: {warning}\n")
    assert run(capsys, *verify)[0] == oc.EXIT_INVALID  # signed for http, not https


def test_field_types_and_labels(tmp_path, capsys):
    msg = write(tmp_path, "m.txt", REQUEST)
    base = ["base", "--message", msg, "--signature-input", 'sig=("x-item");created=1']
    assert run(capsys, *base, "--field-type", "X-Item=item")[:2] == (
        0, '"x-item": "abc"\n"@signature-params": ("x-item");created=1\n')
    assert run(capsys, *base, "--field-type", "x-item=b=item") == (
        2, "", "op-continue: error: --field-type takes NAME=item|list|dictionary\n")
    assert run(capsys, "base", "--message", msg, "--signature-input",
               'a=("@method"), b=("@path")') == (
        2, "", "op-continue: error: --signature-input has several members: choose one with "
               "--label\n")


def test_generated_nonces_pass_the_command_line(capsys, monkeypatch):
    # a CLIENT_NONCE that `grant` prints must work as `hash --client-nonce VALUE` (argparse reads
    # a value that begins with "-" as an option: base64url nonces failed one time in 64)
    monkeypatch.setenv("INTERACT_REF", "r")
    for _ in range(200):
        nonce = oc.new_nonce()
        assert oc.main(["hash", "--client-nonce", nonce, "--server-nonce", nonce,
                        "--grant-endpoint", "https://as.example/"]) == 0
    capsys.readouterr()


def test_a_leading_dash_value_is_given_with_equals(capsys, monkeypatch):
    monkeypatch.setenv("INTERACT_REF", "r")
    argv = ["hash", "--client-nonce=-c", "--server-nonce", "s",
            "--grant-endpoint", "https://as.example/"]
    assert oc.main(argv) == 0
    expected = oc.interaction_hash("-c", "s", "r", "https://as.example/")
    assert capsys.readouterr().out == expected + "\n"


JSON_BODY = b'{"hello": "world"}'


PENDING = {"access_token": {"value": TOKEN}, "uri": "https://as.example/continue/1"}


SIG_MESSAGE = "GET /x HTTP/1.1\nHost: as.example\nX:  a,   b\n\n"


def test_cli_base_field_type(tmp_path, capsys):
    msg = write(tmp_path, "m.txt", SIG_MESSAGE)
    code, out, err = run(capsys, "base", "--message", msg, "--signature-input",
                         'sig1=("x";sf "@path")', "--field-type", "X=list")
    assert (code, err) == (0, "")
    assert out == '"x";sf: a, b\n"@path": /x\n"@signature-params": ("x";sf "@path")\n'


@pytest.mark.parametrize("pair", ["x", "x=token"])
def test_cli_base_bad_field_type(tmp_path, capsys, pair):
    msg = write(tmp_path, "m.txt", SIG_MESSAGE)
    code, out, err = run(capsys, "base", "--message", msg, "--signature-input",
                         'sig1=("x";sf)', "--field-type", pair)
    assert (code, out) == (2, "")
    assert err == "op-continue: error: --field-type takes NAME=item|list|dictionary\n"


@pytest.mark.parametrize("sig_input", ['sig1=("@path")', "sig2=:AAAA:"])
def test_cli_base_label_without_an_inner_list(tmp_path, capsys, sig_input):
    msg = write(tmp_path, "m.txt", SIG_MESSAGE)
    code, _, err = run(capsys, "base", "--message", msg, "--signature-input", sig_input,
                       "--label", "sig2")
    assert code == 2
    assert err == ("op-continue: error: --signature-input has no Inner List member with that "
                   "label\n")


def test_cli_grant_without_wallet_address(env, capsys):
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--access", "[]", "--dry-run")
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: WALLET_ADDRESS is not set (environment, or "
                   "--wallet-address)\n")


@pytest.mark.parametrize("access", ["{not json", '{"type": "quote"}', '"quote"'])
def test_cli_grant_access_must_be_a_json_array(env, capsys, access):
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--wallet-address", "https://wallet.example/alice", "--access", access)
    assert (code, out) == (2, "")
    assert err == "op-continue: error: --access must be a JSON array of access items\n"


@pytest.mark.req("RFC9421-2.2.3-1")
def test_cli_grant_dry_run_json(env, capsys):
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://AS.example/",
                         "--wallet-address", "https://wallet.example/alice", "--access",
                         json.dumps(OUTGOING), "--finish-uri", FINISH_URI, "--dry-run",
                         "--json", "--created", str(NOW))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert (doc["method"], doc["url"]) == ("POST", "https://as.example/")
    body = json.loads(doc["body"])
    assert body["client"] == "https://wallet.example/alice"
    assert body["access_token"]["access"] == OUTGOING
    assert body["interact"]["finish"]["uri"] == FINISH_URI
    assert f"created={NOW}" in doc["headers"]["Signature-Input"]


def test_cli_grant_then_finish_against_the_local_as(env, capsys, las):
    code, out, err = run(capsys, "grant", "--grant-endpoint", las.grant_endpoint,
                         "--wallet-address", las.wallet, "--access", json.dumps(OUTGOING),
                         "--finish-uri", FINISH_URI, "--allow-http")
    assert (code, err) == (0, "")  # an interactive grant that awaits the user: expected
    lines = dict(line.split(" = ", 1) for line in out.splitlines())
    assert list(lines) == ["CLIENT_NONCE", "CONTINUE_URI", "CONTINUE_ACCESS_TOKEN",
                           "CONTINUE_WAIT_SECONDS", "INTERACT_REDIRECT", "INTERACT_FINISH"]
    assert lines["CONTINUE_WAIT_SECONDS"] == "0"
    assert lines["INTERACT_REDIRECT"].startswith(las.url + "/interact/")
    # _cmd_finish: the redirect from the environment, the hash checked with our nonce
    redirect = las.approve(lines["CONTINUE_URI"])
    env.setenv("FINISH_REDIRECT", redirect)
    argv = ["finish", "--client-nonce", lines["CLIENT_NONCE"], "--server-nonce",
            lines["INTERACT_FINISH"], "--grant-endpoint", las.grant_endpoint]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    ref = oc.parse_finish_redirect(redirect).interact_ref
    assert out == f"INTERACT_REF = {ref}\n"
    # a wrong client nonce: exit 1, and the interact_ref is not printed anywhere
    argv[2] = oc.new_nonce()
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, "")
    assert err == ("op-continue: invalid: interaction hash does not match; refusing to "
                   "continue\n")


# Regression (fixed): 'grant --json --finish-uri' never outputs the client nonce it generated, so
# the finish hash can never be checked
@pytest.mark.req("RFC9635-7.3.1-3")
def test_cli_grant_json_reports_the_client_nonce(env, capsys, las):
    code, out, _ = run(capsys, "grant", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(OUTGOING),
                       "--finish-uri", FINISH_URI, "--allow-http", "--json")
    assert code == 0
    doc = json.loads(out)
    finish = oc.parse_finish_redirect(las.approve(doc["continue"]["uri"]))
    oc.verify_interaction_hash(finish.hash, doc["client_nonce"], doc["interact"]["finish"],
                               finish.interact_ref, las.grant_endpoint)


SUBJECT = {"subject": {"sub_ids": [{"id": "https://wallet.example/alice", "format": "uri"}]}}


def test_cli_grant_subject_only_json(env, capsys):
    canned(env, (200, "application/json", SUBJECT))
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--wallet-address", "https://wallet.example/alice", "--access", "[]",
                         "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == SUBJECT


@pytest.mark.req("RFC9635-5.2-1")
def test_cli_poll_pending_json(env, capsys):
    sent = canned(env, (200, "application/json", {"continue": dict(PENDING, wait=30)}))
    env.setenv("CONTINUE_URI", "https://as.example/continue/1")
    env.setenv("CONTINUE_ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "poll", "--json")
    assert (code, err) == (3, "")
    assert json.loads(out) == {"continue": dict(PENDING, wait=30)}
    assert sent[0].body == b"" and sent[0].header("Authorization") == "GNAP " + TOKEN


# --- RFC 9635 §3.1, §5: the AS's wait across processes (CONTINUE_NOT_BEFORE, --not-before) -----

@pytest.fixture
def fake_time(monkeypatch):
    """op_continue's wall clock at 1700000000.25, its sleeps recorded (time moves with them)."""
    state = types.SimpleNamespace(now=1_700_000_000.25, sleeps=[])

    def sleep(seconds):
        state.sleeps.append(seconds)
        state.now += seconds

    monkeypatch.setattr(oc, "time", types.SimpleNamespace(
        time=lambda: state.now, sleep=sleep, monotonic=time.monotonic))
    return state


def canned_at(monkeypatch, wall, *answers):
    """canned, each request recorded with the time (``wall.now``) it was sent: (time, request)."""
    canned(monkeypatch, *answers)
    answer, sent = oc.Client.send, []

    def send(self, signed):
        sent.append((wall.now, signed))
        return answer(self, signed)

    monkeypatch.setattr(oc.Client, "send", send)
    return sent


# RFC 9635 §5.2: the client "MUST NOT call the continuation URI prior to waiting" the wait
@pytest.mark.parametrize("answer, not_before", [
    ({"continue": dict(PENDING, wait=30)}, 1_700_000_001 + 30),  # now, rounded up, plus the wait
    ({"continue": PENDING}, 1_700_000_001 + 5),
    ({"continue": dict(PENDING, wait=0)}, 1_700_000_000),
])
def test_the_env_format_passes_the_wait_on(continuation, fake_time, monkeypatch, capsys, answer,
                                          not_before):
    canned_at(monkeypatch, fake_time, (200, answer))
    code, out, err = run(capsys, "poll", "--format", "env")
    assert (code, err) == (oc.EXIT_PENDING, "")
    assert f"export CONTINUE_NOT_BEFORE='{not_before}'" in out.splitlines()


@pytest.mark.parametrize("command", ["continue", "poll", "cancel"])
@pytest.mark.req("RFC9635-5-5")
def test_continue_poll_and_cancel_wait_until_continue_not_before(continuation, fake_time,
                                                                 monkeypatch, capsys, command):
    monkeypatch.setenv("CONTINUE_NOT_BEFORE", "1700000030")
    sent = canned_at(monkeypatch, fake_time, (204, None) if command == "cancel"
                     else (200, {"continue": dict(PENDING, wait=30)}))
    code, _, err = run(capsys, command)
    assert code in (oc.EXIT_OK, oc.EXIT_PENDING)
    assert fake_time.sleeps == [29.75]
    assert [at for at, _ in sent] == [1_700_000_030]  # sent once, after the wait
    assert err == ("op-continue: waiting 30 s before calling the continue URI: the AS's wait, "
                   "from CONTINUE_NOT_BEFORE (RFC 9635 section 5)\n")


def test_a_past_not_before_and_a_dry_run_do_not_wait(continuation, fake_time, monkeypatch,
                                                     capsys):
    sent = canned_at(monkeypatch, fake_time, (200, {"continue": dict(PENDING, wait=30)}))
    assert run(capsys, "poll", "--not-before", "1700000000")[0] == oc.EXIT_PENDING
    assert run(capsys, "poll", "--not-before", "1700000030", "--dry-run")[0] == oc.EXIT_OK
    assert fake_time.sleeps == [] and len(sent) == 1


# pins the boundaries: no wait at exactly the time given, a wait for under 1 s left, and a wait
# of exactly MAX_WAIT_SECONDS (the refusal says "more than")
@pytest.mark.parametrize("now, not_before, sleeps, said", [
    (1_700_000_000.0, "1700000000", [], None),
    (1_700_000_000.25, "1700000001", [0.75], 1),  # the seconds said are rounded up
    (1_700_000_000.0, "1700003600", [3600.0], 3600),
])
def test_the_wait_ends_at_not_before_and_may_last_up_to_the_limit(continuation, fake_time,
                                                                  monkeypatch, capsys, now,
                                                                  not_before, sleeps, said):
    fake_time.now = now
    sent = canned_at(monkeypatch, fake_time, (200, {"continue": dict(PENDING, wait=30)}))
    code, _, err = run(capsys, "poll", "--not-before", not_before)
    assert code == oc.EXIT_PENDING
    assert fake_time.sleeps == sleeps
    assert [at for at, _ in sent] == [int(not_before)]  # sent once, at the time given
    assert err == ("" if said is None else
                   f"op-continue: waiting {said} s before calling the continue URI: the AS's "
                   f"wait, from --not-before (RFC 9635 section 5)\n")


@pytest.mark.parametrize("value, message", [
    ("soon", "--not-before: expected unix seconds (digits only)"),
    ("1700003601", "--not-before: more than 3600 s ahead; not waiting that long"),
])
def test_a_wrong_not_before_is_a_usage_error(continuation, fake_time, monkeypatch, capsys, value,
                                            message):
    sent = canned_at(monkeypatch, fake_time)
    assert run(capsys, "poll", "--not-before", value) == (2, "", f"op-continue: error: {message}\n")
    assert sent == [] and fake_time.sleeps == []


def test_cli_continue_dry_run_prints_a_verifiable_message(env, key, capsys, tmp_path):
    env.setenv("CONTINUE_URI", "https://as.example/continue/1?x=1")
    token_file = write(tmp_path, "token", TOKEN + "\n")
    ref_file = write(tmp_path, "ref", REF)
    code, out, err = run(capsys, "continue", "--dry-run", "--created", str(NOW),
                         "--continue-access-token-file", token_file,
                         "--interact-ref-file", ref_file)
    assert (code, err) == (0, "")
    head, body = out.split("\n\n", 1)
    assert head.splitlines()[:4] == ["POST /continue/1?x=1 HTTP/1.1", "Host: as.example",
                                     f"Authorization: GNAP {TOKEN}", "Accept: application/json"]
    assert body == json.dumps({"interact_ref": REF}, separators=(",", ":"))
    msg = oc.parse_message(out)
    verified = oc.verify_message(msg, key.public_key, now=NOW,
                                 required=['"authorization"', '"content-digest"'])
    assert verified.params == {"keyid": KID, "created": NOW}


def test_cli_keygen_without_key_id(tmp_path, capsys):
    out_path = tmp_path / "new.pem"
    code, out, err = run(capsys, "keygen", "--out", str(out_path))
    assert (code, out, err) == (0, "", "")
    assert stat.S_IMODE(os.stat(out_path).st_mode) == 0o600
    assert isinstance(oc.load_private_key(out_path), oc.PrivateKey)


# Regression (fixed): keygen writes the key file before checking --key-id, so a bad key id leaves a
# key behind and the retry fails 'already exists'
def test_cli_keygen_bad_key_id_writes_nothing(tmp_path, capsys):
    out_path = tmp_path / "new.pem"
    code, _, err = run(capsys, "keygen", "--out", str(out_path), "--key-id", "a;b")
    assert code == 2 and "key id must be printable ASCII" in err
    assert not out_path.exists()


@pytest.mark.req("RFC9635-7.3.1-5")
def test_cli_rotate_and_revoke_dry_run(env, key, capsys):
    env.setenv("MANAGE_URL", "https://as.example/token/1")
    env.setenv("ACCESS_TOKEN", TOKEN)
    for command, method in (("rotate", "POST"), ("revoke", "DELETE")):
        code, out, err = run(capsys, command, "--dry-run", "--created", str(NOW))
        assert (code, err) == (0, "")
        assert out.startswith(f"{method} /token/1 HTTP/1.1\nHost: as.example\n"
                              f"Authorization: GNAP {TOKEN}\n")
        assert out.endswith("\n\n")  # no body
        verified = oc.verify_message(oc.parse_message(out), key.public_key, now=NOW)
        assert verified.covered == ('"@method"', '"@target-uri"', '"authorization"')


@pytest.mark.req("RFC9635-3.2.1-4")
def test_cli_rotate_json_without_expires_in(env, capsys):
    new = {"value": "NEW-TOKEN", "manage": "https://as.example/token/2",
           "access": [{"type": "quote", "actions": ["create", "read"]}]}
    canned(env, (200, "application/json", {"access_token": new}))
    env.setenv("MANAGE_URL", "https://as.example/token/1")
    env.setenv("ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "rotate", "--json")
    assert (code, err) == (0, "")
    assert out == json.dumps({"access_token": {"value": "NEW-TOKEN",
                                               "manage": "https://as.example/token/2",
                                               "access": new["access"]}}) + "\n"


def test_cli_malformed_response_exit_code(env, capsys):
    canned(env, (200, "text/html", b"<html>" + TOKEN.encode() + b"</html>"))
    env.setenv("CONTINUE_URI", "https://as.example/continue/1")
    env.setenv("CONTINUE_ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "poll")
    assert (code, out) == (5, "")
    assert err == ("op-continue: error: malformed response: $: body is not JSON "
                   "(Content-Type is not application/json)\n")


def test_module_runs_as_a_script(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "body.json", JSON_BODY)
    monkeypatch.setattr(sys, "argv", ["op_continue.py", "digest", "--algorithm", "sha-256",
                                      path])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "op_continue.py"), run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out == oc.content_digest(JSON_BODY, ["sha-256"]) + "\n"

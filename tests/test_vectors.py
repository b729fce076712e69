"""op_continue against the published vectors in vectors/ (see vectors/FORMAT.md).

Every expected value below comes from a vector file, transcribed from its source; none comes
from running op_continue.
"""

import base64
import json
import os
import stat

import pytest
from conftest import KEYS, VECTOR_DIR, VECTORS, text, vectors_of

import op_continue as oc


def _ids(vectors):
    return [v["id"] for v in vectors]


def _message(inp, key="message"):
    return oc.parse_message(text(inp[key]).encode("utf-8"), scheme=inp.get("scheme", "https"))


def _request(inp):
    return _message(inp, "request") if "request" in inp else None


def _public_key(key_id):
    inp = KEYS[key_id]["input"]
    return oc.PublicKey.from_pem(text(inp["public_pem"]))


def _private_key(key_id):
    inp = KEYS[key_id]["input"]
    return oc.PrivateKey.from_pem(text(inp["private_pem"]))


def _expect_error(vec):
    return pytest.raises(getattr(oc, vec["error"]))


COMPONENTS = vectors_of("component")


@pytest.mark.parametrize("vec", COMPONENTS, ids=_ids(COMPONENTS))
@pytest.mark.req("RFC9421-2.1-2", "RFC9421-2.1-5", "RFC9421-2.1.1-1", "RFC9421-2.1.1-2",
                 "RFC9421-2.1.2-1", "RFC9421-2.1.2-3", "RFC9421-2.1.3-2", "RFC9421-2.1.4-1",
                 "RFC9421-2.1.4-4", "RFC9421-2.2-1", "RFC9421-2.2-3", "RFC9421-2.2.7-1",
                 "RFC9421-2.2.8-2", "RFC9421-2.2.8-3", "RFC9421-2.2.8-4", "RFC9421-2.2.9-1",
                 "RFC9421-2.5-2", "RFC9421-2.5-s2.5a", "RFC9421-2.5-s2.5b", "RFC9421-3.1-4",
                 "RFC8941-4.1.1.2-s2.3", "RFC8941-4.2.1.2-s4")
def test_component(vec):
    inp = vec["input"]
    identifier = oc.parse_item(inp["component"])
    args = (_message(inp), identifier, _request(inp), inp.get("field_types"))
    if vec["result"] == "invalid":
        with _expect_error(vec):
            oc.component_line(*args)
    else:
        assert oc.component_line(*args) == vec["expected"]["line"]


BASES = vectors_of("signature_base")


def _params(inp):
    members = oc.parse_dictionary(inp["signature_input"])
    return members[inp["label"]]


@pytest.mark.parametrize("vec", BASES, ids=_ids(BASES))
@pytest.mark.req("RFC9421-2-2", "RFC9421-2-3", "RFC9421-2-4", "RFC9421-2.1.2-2", "RFC9421-2.3-3",
                 "RFC9421-2.5-1", "RFC9421-2.5-s2.1", "RFC9421-2.5-s2.2", "RFC9421-3.1-7",
                 "RFC8941-4.1.1.1-s2")
def test_signature_base(vec):
    inp = vec["input"]
    args = (_message(inp), _params(inp), _request(inp), inp.get("field_types"))
    if vec["result"] == "invalid":
        with _expect_error(vec):
            oc.signature_base(*args)
    else:
        assert oc.signature_base(*args) == text(vec["expected"]["signature_base"])


def _key_alg(vec):
    return KEYS.get(vec["expected"].get("key", ""), {}).get("input", {}).get("alg")


ED25519_SIGNED = [v for v in BASES if v["expected"].get("signature") and _key_alg(v) == "ed25519"]


@pytest.mark.parametrize("vec", ED25519_SIGNED, ids=_ids(ED25519_SIGNED))
@pytest.mark.req("RFC9421-3.1-1", "RFC9421-3.1-s6")
def test_signature_ed25519(vec):
    """Ed25519 is deterministic (RFC 8032 §5.1.6): the printed signature is reproduced exactly."""
    inp, exp = vec["input"], vec["expected"]
    message, params = _message(inp), _params(inp)
    _, signature = oc.sign_message(message, _private_key(exp["key"]), params, label=inp["label"],
                                   request=_request(inp), field_types=inp.get("field_types"))
    assert signature == exp["signature"]
    # and the printed signature verifies over the printed base
    printed = oc.parse_dictionary(exp["signature"])[inp["label"]].value
    oc.verify_ed25519(_public_key(exp["key"]), text(exp["signature_base"]), printed)


OTHER_ALGS = [v for v in BASES if v["expected"].get("key") and v not in ED25519_SIGNED]


@pytest.mark.parametrize("vec", OTHER_ALGS, ids=_ids(OTHER_ALGS))
@pytest.mark.req("RFC9421-3.1-2", "RFC9421-3.2-3", "RFC9421-3.2-4", "RFC9421-3.3-2")
def test_other_algorithms_are_refused(vec):
    """Non-Ed25519 bases are checked above; signing with them is out of scope."""
    inp = vec["input"]
    params = _params(inp)
    if params.params.get("alg") in (None, "ed25519"):
        params = oc.InnerList(params.items, {**params.params, "alg": "rsa-pss-sha512"})
    with pytest.raises(oc.UsageError, match="unsupported algorithm"):
        oc.sign_message(_message(inp), oc.PrivateKey.generate(), params, label=inp["label"],
                        request=_request(inp), field_types=inp.get("field_types"))


VERIFY = vectors_of("verify")


@pytest.mark.parametrize("vec", VERIFY, ids=_ids(VERIFY))
@pytest.mark.req("RFC9421-3.2-1", "RFC9421-3.2-s7", "RFC9421-3.2-s8", "RFC9635-7.3.1-16")
def test_verify(vec):
    inp = vec["input"]
    args = dict(label=inp.get("label"), request=_request(inp), field_types=inp.get("field_types"))
    if vec["result"] == "invalid":
        with _expect_error(vec):
            oc.verify_message(_message(inp), _public_key(inp["key"]), **args)
    else:
        oc.verify_message(_message(inp), _public_key(inp["key"]), **args)


ED_KEYS = [v for v in KEYS.values() if v["input"]["alg"] == "ed25519"]


@pytest.mark.parametrize("vec", ED_KEYS, ids=_ids(ED_KEYS))
def test_ed25519_key_formats_agree(vec):
    """The PKCS#8 private key, the SPKI public key and the JWK name the same key."""
    inp = vec["input"]
    private = oc.PrivateKey.from_pem(text(inp["private_pem"]))
    assert private.public_key == oc.PublicKey.from_pem(text(inp["public_pem"]))
    if "jwk" in inp:
        assert oc.PublicKey.from_jwk(inp["jwk"]) == private.public_key
        if "d" in inp["jwk"]:
            assert oc.PrivateKey.from_jwk(inp["jwk"]).public_key == private.public_key


OTHER_KEYS = [v for v in KEYS.values()
              if v["input"]["alg"] != "ed25519" and "private_pem" in v["input"]]


@pytest.mark.parametrize("vec", OTHER_KEYS, ids=_ids(OTHER_KEYS))
@pytest.mark.req("RFC9421-3.3-1")
def test_non_ed25519_keys_are_refused_by_name(vec):
    with pytest.raises(oc.UsageError, match="expected Ed25519") as info:
        oc.PrivateKey.from_pem(text(vec["input"]["private_pem"]))
    body = "".join(vec["input"]["private_pem"][1:-1])
    assert body[:40] not in str(info.value)


DIGESTS = vectors_of("digest")


@pytest.mark.parametrize("vec", DIGESTS, ids=_ids(DIGESTS))
@pytest.mark.req("RFC9530-2-1", "RFC9530-2-3")
def test_digest(vec):
    inp = vec["input"]
    body = inp["body"].encode("utf-8")
    expected = vec["expected"]["field"]
    if vec["result"] == "invalid":
        with _expect_error(vec):
            oc.verify_content_digest(inp.get("field", expected), body)
        return
    if "," not in expected:
        assert oc.content_digest(body, [inp["algorithm"]]) == expected
    oc.verify_content_digest(expected, body)
    if "printed_field" in inp:  # a defect in the printed text (see the vector's comment)
        with pytest.raises(oc.VerificationError):
            oc.verify_content_digest(inp["printed_field"], body)


HASHES = vectors_of("interaction_hash")


@pytest.mark.parametrize("vec", HASHES, ids=_ids(HASHES))
@pytest.mark.req("RFC9635-4.2.3-3", "RFC9635-4.2.3-4", "RFC9635-4.2.3-5")
def test_interaction_hash(vec):
    inp = vec["input"]
    args = (inp["client_nonce"], inp["server_nonce"], inp["interact_ref"], inp["grant_endpoint"])
    expected = vec["expected"]["hash"]
    assert oc.interaction_hash(*args, inp["hash_method"]) == expected
    oc.verify_interaction_hash(expected, *args, hash_method=inp["hash_method"])
    # Rafiki sends the same digest as padded standard base64; it is accepted too
    padded = base64.b64encode(base64.urlsafe_b64decode(expected + "=" * (-len(expected) % 4)))
    oc.verify_interaction_hash(padded.decode(), *args, hash_method=inp["hash_method"])
    with pytest.raises(oc.VerificationError):
        oc.verify_interaction_hash(expected, *args[:3], args[3] + "x",
                                   hash_method=inp["hash_method"])


SDK_REQUESTS = vectors_of("sdk_request")


@pytest.mark.parametrize("vec", SDK_REQUESTS, ids=_ids(SDK_REQUESTS))
@pytest.mark.req("RFC9421-2.1-6", "RFC9421-2.2.3-2", "RFC9421-2.2.5-1", "RFC9421-2.3-2",
                 "RFC9421-3.1-1", "RFC9421-3.1-5", "RFC9421-4-1", "RFC9421-4.1-2", "RFC9421-4.2-1",
                 "RFC9530-2-5", "RFC9635-2-1", "RFC9635-5-1", "RFC9635-5-10", "RFC9635-5.1-1",
                 "RFC9635-5.2-1", "RFC9635-5.4-1", "RFC9635-6-1", "RFC9635-6.1-1", "RFC9635-6.2-1",
                 "RFC9635-7.2-1", "RFC9635-7.2-5", "RFC9635-7.3.1-1", "RFC9635-7.3.1-2",
                 "RFC9635-7.3.1-3", "RFC9635-7.3.1-5", "RFC9635-7.3.1-6", "RFC9635-7.3.1-8",
                 "RFC9635-7.3.1-10", "RFC9635-7.3.1-12", "RFC9635-7.3.1-13")
def test_request_equals_official_sdk(vec):
    """Same key, key id, URI, token, body and created: the same bytes as the official signer."""
    inp = vec["input"]
    body = inp["body"].encode("utf-8") if inp["body"] is not None else None
    signed = oc.sign_request(inp["method"], inp["url"], key=_private_key(inp["key"]),
                             key_id=inp["keyid"], access_token=inp["access_token"], body=body,
                             created=inp["created"])
    for name, value in vec["expected"]["headers"].items():
        assert signed.header(name) == value, name
    assert signed.url == inp["url"]
    if body is None:
        assert signed.header("Content-Digest") is None
        assert signed.header("Content-Length") is None


def test_every_vector_is_exercised():
    known = {"component", "signature_base", "verify", "key", "digest", "interaction_hash",
             "sdk_request"}
    assert {v["type"] for v in VECTORS} <= known


def test_ids_are_unique():
    ids = _ids(VECTORS)
    assert len(ids) == len(set(ids))


# The corpus never changes silently (cryptography's Wycheproof guard): adding or removing a
# vector means editing this table in the same commit.
INVENTORY = {
    "op-sdk-requests-generated.json": 7, "rfc9421-2.1.json": 7, "rfc9421-2.1.1.json": 2,
    "rfc9421-2.1.2.json": 4, "rfc9421-2.1.3.json": 4, "rfc9421-2.2.json": 19,
    "rfc9421-2.4.json": 2, "rfc9421-2.5.json": 1, "rfc9421-B.1.json": 5, "rfc9421-B.2.json": 6,
    "rfc9421-B.3.json": 1, "rfc9421-B.4.json": 7, "rfc9421-failures.json": 20,
    "rfc9530-2.json": 2, "rfc9530-B.json": 10, "rfc9635-4.2.3.json": 2,
}


def test_vector_inventory():
    counts = {}
    for vec in VECTORS:
        counts[vec["_file"]] = counts.get(vec["_file"], 0) + 1
    assert counts == INVENTORY
    b2 = {v["id"] for v in VECTORS if v["_file"] == "rfc9421-B.2.json"}
    assert b2 == {f"rfc9421-B.2.{i}" for i in range(1, 7)}


@pytest.mark.parametrize("token", [None, "TOKEN-1"])
@pytest.mark.parametrize("body", [None, b'{"interact_ref":"REF-1"}'])
@pytest.mark.req("RFC9421-2.3-3", "RFC9421-3.1-1", "RFC9421-3.1-3", "RFC9421-4.1-1",
                 "RFC9635-7.3.1-2", "RFC9635-7.3.1-5")
def test_sign_request_base_is_the_generic_base(token, body):
    """The base sign_request keeps (SignedRequest.signature_base) is the RFC 9421 §2.5 base of
    the request it returns, and that request verifies."""
    key = _private_key("rfc9421-B.1.4")
    signed = oc.sign_request("POST", "https://as.example/continue/1?x=y", key=key, key_id="k1",
                             access_token=token, body=body, created=1618884473)
    message = oc.request_message(signed.method, signed.url, signed.headers, signed.body)
    _, params = next(iter(oc.parse_dictionary(signed.header("Signature-Input")).items()))
    assert signed.signature_base == oc.signature_base(message, params)
    oc.verify_message(message.with_fields([("Signature-Input", signed.header("Signature-Input")),
                                           ("Signature", signed.header("Signature"))]),
                      key.public_key)


# --- op-continue example: each RFC example as files, and the commands it prints -------------


def _example(capsys, tmp_path, vec_id, *options):
    """Run `op-continue example ID --out DIR`; return its output and the printed commands."""
    from conftest import run

    out_dir = tmp_path / "ex"
    code, out, err = run(capsys, "example", vec_id, "--out", str(out_dir), *options)
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    commands = [line[2:] for line in lines[lines.index("next:") + 1:] if line.startswith("  ")]
    return out, commands


def _run_printed(capsys, command):
    """Run one printed command in-process, as a POSIX shell would split it: "$(cat FILE)" is
    the file's text without its final newlines."""
    import re
    import shlex

    from conftest import run

    argv = shlex.split(command)
    assert argv[0] == "op-continue"
    argv = [re.sub(r"^\$\(cat (.+)\)$", lambda m: open(m.group(1)).read().rstrip("\n"), arg)
            for arg in argv[1:]]
    return run(capsys, *argv)


@pytest.mark.req("RFC9421-2.3-1", "RFC9421-2.5-s3")
def test_example_b26_is_two_commands_from_the_rfcs_signature(capsys, tmp_path):
    """RFC 9421 B.2.6 (Ed25519 is deterministic): example, then sign, prints the RFC's
    Signature-Input and Signature byte for byte; base prints the RFC's base."""
    vec = next(v for v in BASES if v["id"] == "rfc9421-B.2.6")
    _, commands = _example(capsys, tmp_path, "rfc9421-B.2.6")
    ex = tmp_path / "ex"
    assert commands == [
        f'op-continue base --message {ex}/message.txt --signature-input '
        f'"$(cat {ex}/signature-input.txt)"',
        f'op-continue sign --message {ex}/message.txt --signature-input '
        f'"$(cat {ex}/signature-input.txt)" --key {ex}/key.pem']
    assert _run_printed(capsys, commands[0]) == (
        0, text(vec["expected"]["signature_base"]) + "\n", "")
    assert _run_printed(capsys, commands[1]) == (
        0, f"Signature-Input: {vec['input']['signature_input']}\n"
           f"Signature: {vec['expected']['signature']}\n", "")
    assert (ex / "message.txt").read_bytes() == text(vec["input"]["message"]).encode()
    assert (ex / "key.pem").stat().st_mode & 0o077 == 0


EXAMPLE_BASES = [v for v in BASES if v["result"] == "valid"]


@pytest.mark.parametrize("vec", EXAMPLE_BASES, ids=_ids(EXAMPLE_BASES))
@pytest.mark.req("RFC9421-2.2.7-1", "RFC8941-4.1.1.2-s2.3")
def test_example_base_prints_the_rfcs_base(vec, capsys, tmp_path):
    _, commands = _example(capsys, tmp_path, vec["id"])
    expected = text(vec["expected"]["signature_base"]) + "\n"
    assert _run_printed(capsys, commands[0]) == (0, expected, "")
    assert (tmp_path / "ex" / "expected-base.txt").read_text() == expected


EXAMPLE_COMPONENTS = vectors_of("component")


@pytest.mark.parametrize("vec", EXAMPLE_COMPONENTS, ids=_ids(EXAMPLE_COMPONENTS))
@pytest.mark.req("RFC9421-2.1-5", "RFC9421-2.1.2-3", "RFC9421-2.1.3-2", "RFC9421-2.1.4-1",
                 "RFC9421-2.2.7-1", "RFC9421-2.2.8-3", "RFC9421-2.2.8-4", "RFC9421-2.2.9-1",
                 "RFC9421-2.5-s2.2", "RFC9421-2.5-s2.5a", "RFC9421-2.5-s2.5b",
                 "RFC8941-4.1.1.2-s2.3")
def test_example_component_line_comes_first(vec, capsys, tmp_path):
    _, commands = _example(capsys, tmp_path, vec["id"])
    code, out, err = _run_printed(capsys, commands[0])
    if vec["result"] == "invalid":
        assert (code, out) == (2, "") and err.startswith("op-continue: error: ")
    else:
        assert (code, err) == (0, "")
        assert out.splitlines()[0] == vec["expected"]["line"]


@pytest.mark.parametrize("vec", VERIFY, ids=_ids(VERIFY))
@pytest.mark.req("RFC9421-3.2-s8", "RFC9635-7.3.1-16")
def test_example_verify(vec, capsys, tmp_path):
    printed, commands = _example(capsys, tmp_path, vec["id"])
    code, out, _ = _run_printed(capsys, commands[0])
    assert (code, out) == ((0, "valid\n") if vec["result"] == "valid" else (1, ""))
    if vec["result"] == "invalid":  # the note predicts the exit code the command gave
        assert "note: the RFC says this must fail: expect exit 1, VerificationError" in printed


DIGESTS = vectors_of("digest")
HASHES = vectors_of("interaction_hash")


@pytest.mark.parametrize("vec", DIGESTS + HASHES, ids=_ids(DIGESTS + HASHES))
@pytest.mark.req("RFC9635-4.2.3-3")
def test_example_digest_and_hash(vec, capsys, tmp_path):
    printed_out, commands = _example(capsys, tmp_path, vec["id"])
    code, out, _ = _run_printed(capsys, commands[0])
    expected = vec["expected"].get("hash") or vec["expected"]["field"]
    assert code == 0
    printed = vec["input"].get("printed_field")
    note = (f"the RFC prints {printed}, a misprint (see vectors/README.md); the correct value: "
            f"{expected}" if printed else f"the RFC prints: {expected}")
    assert f"note: {note}\n" in printed_out
    if "," in expected:  # a two-member field: the command prints the one member asked for
        assert out.rstrip("\n") in expected.split(", ")
    else:
        assert out == expected + "\n"


FAILING_BASES = [v for v in BASES if v["result"] == "invalid"]


@pytest.mark.parametrize("vec", FAILING_BASES, ids=_ids(FAILING_BASES))
@pytest.mark.req("RFC9421-2-3", "RFC9421-2.1.2-2", "RFC9421-2.5-s2.1")
def test_example_that_must_fail_says_so(vec, capsys, tmp_path):
    out, commands = _example(capsys, tmp_path, vec["id"])
    assert f"note: the RFC says this must fail: expect exit 2, {vec['error']}" in out
    code, stdout, err = _run_printed(capsys, commands[0])
    assert (code, stdout) == (2, "") and err.startswith("op-continue: error: ")


@pytest.mark.parametrize("vec", list(KEYS.values()), ids=list(KEYS))
def test_example_key_writes_the_rfcs_block(vec, capsys, tmp_path):
    """B.1.x as printed: public and private PEM in one file (sign and jwk take it)."""
    out, commands = _example(capsys, tmp_path, vec["id"])
    inp = vec["input"]
    if inp["alg"] != "ed25519":
        assert commands == [] and f"a {inp['alg']} key" in out and "wrote nothing" in out
        assert not (tmp_path / "ex" / "key.pem").exists()
        return
    code, stdout, err = _run_printed(capsys, commands[0])
    assert (code, err) == (0, "")
    assert json.loads(stdout)["keys"][0]["x"] == inp["jwk"]["x"]
    assert json.loads((tmp_path / "ex" / "key.jwk").read_text()) == inp["jwk"]


# RFC 9421 B.1.4's JWK as the RFC prints it (its three-space page indent removed)
B14_JWK = """{
  "kty": "OKP",
  "crv": "Ed25519",
  "kid": "test-key-ed25519",
  "d": "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU",
  "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"
}
"""


def _example_files(vec):
    """{file name: (exact text, private)} that `op-continue example` writes for ``vec``: each
    input of the vector as its file, a key's files private (mode 0600)."""
    inp, expected, kind = vec["input"], vec["expected"], vec["type"]
    if kind == "digest":
        return {"body": (inp["body"], False)}
    if kind == "interaction_hash":
        return {"interact-ref.txt": (inp["interact_ref"] + "\n", False)}
    if kind == "key":
        if inp["alg"] != "ed25519":
            return {}
        assert vec["id"] == "rfc9421-B.1.4"  # (the one Ed25519 key: its JWK is B14_JWK)
        # as RFC 9421 B.1.4 prints it: the public, then the private PEM
        return {"key.pem": (text(inp["public_pem"]) + "\n" + text(inp["private_pem"]) + "\n",
                            True), "key.jwk": (B14_JWK, True)}
    files = {"message.txt": (text(inp["message"]), False)}
    if "request" in inp:
        files["request.txt"] = (text(inp["request"]), False)
    key = KEYS.get(inp.get("key") or expected.get("key") or "", {}).get("input", {})
    if kind == "verify":
        files["key.pub.pem"] = (text(key["public_pem"]) + "\n", False)
        return files
    sig_input = inp["signature_input"] if kind == "signature_base" else \
        f"sig1=({inp['component']})"
    files["signature-input.txt"] = (sig_input + "\n", False)
    if "signature_base" in expected:
        files["expected-base.txt"] = (text(expected["signature_base"]) + "\n", False)
    if kind == "signature_base" and key.get("alg") == "ed25519":
        files["key.pem"] = (text(key["private_pem"]) + "\n", True)
    return files


def _example_notes(vec):
    """The notes `op-continue example` prints for ``vec``: what the RFC prints, and why a
    command is missing."""
    inp, expected, kind = vec["input"], vec["expected"], vec["type"]
    key = KEYS.get(inp.get("key") or expected.get("key") or "", {}).get("input", {})
    notes = []
    if kind == "digest":
        notes.append(f"the RFC prints {inp['printed_field']}, a misprint (see vectors/README.md);"
                     f" the correct value: {expected['field']}" if "printed_field" in inp else
                     f"the RFC prints: {expected['field']}")
    elif kind == "interaction_hash":
        notes.append(f"the RFC prints: {expected['hash']}")
    elif kind == "key" and inp["alg"] != "ed25519":
        notes.append(f"a {inp['alg']} key: op-continue signs and verifies Ed25519 only")
    elif kind == "component" and "line" in expected:
        notes.append(f"the RFC prints this line (base prints it first): {expected['line']}")
    elif kind == "signature_base":
        if "signature_base" in expected:  # (as the README's B.2.6 session shows)
            notes.append("expected-base.txt: the RFC's base, and the final newline base prints")
        if key.get("alg") == "ed25519":
            notes.append(f"the RFC prints: Signature: {expected['signature']}")
        elif key:
            notes.append(f"the key is {key['alg']}: op-continue signs Ed25519 only; base "
                         f"reproduces the RFC's base")
    if vec["result"] != "valid":
        code = 1 if vec["error"] == "VerificationError" else 2
        notes.append(f"the RFC says this must fail: expect exit {code}, {vec['error']}")
    return notes


RFC_EXAMPLES = [v for v in VECTORS if v["id"].startswith("rfc")]


@pytest.mark.parametrize("vec", RFC_EXAMPLES, ids=_ids(RFC_EXAMPLES))
def test_example_writes_the_vectors_inputs_byte_for_byte(vec, capsys, tmp_path):
    # pins every file `example` writes (its name, exact bytes and mode: a key 0600, the rest
    # 0644 under umask 022), the paths it reports, and every note it prints
    old_umask = os.umask(0o022)
    try:
        out, _ = _example(capsys, tmp_path, vec["id"])
    finally:
        os.umask(old_umask)
    ex = tmp_path / "ex"
    files = _example_files(vec)
    assert sorted(os.listdir(ex)) == sorted(files)
    for name, (data, private) in files.items():
        assert (ex / name).read_bytes() == data.encode("utf-8"), name
        assert stat.S_IMODE((ex / name).stat().st_mode) == (0o600 if private else 0o644), name
    wrote = out.splitlines()[0]
    if files:
        assert sorted(wrote[len("wrote "):].split(", ")) == sorted(str(ex / n) for n in files)
    else:
        assert wrote == "wrote nothing"
    assert [line[len("note: "):] for line in out.splitlines() if line.startswith("note: ")] \
        == _example_notes(vec)


def test_example_gives_the_label_where_a_field_has_several_members(capsys, tmp_path):
    """A Signature-Input of several members (RFC 9421 §4.3: a message may carry several
    signatures) needs --label to pick one: example passes the vector's label on to base and to
    verify, and without a label (one signature) verify needs none. Built from the published
    B.2 and B.4 vectors, in a copy of vectors/."""
    import copy
    import shutil

    # pins the label options of _write_example: no shipped example has a second member
    by_id = {v["id"]: v for v in VECTORS}
    b21, b26 = by_id["rfc9421-B.2.1"], by_id["rfc9421-B.2.6"]
    two_members = copy.deepcopy(b26)
    two_members["input"]["signature_input"] = (f"{b21['input']['signature_input']}, "
                                               f"{b26['input']['signature_input']}")
    del two_members["expected"]["key"], two_members["expected"]["signature"]  # (base only)
    two_signatures = copy.deepcopy(by_id["rfc9421-B.4-verify-0"])  # label "transform"
    message = two_signatures["input"]["message"]
    for i, line in enumerate(message):  # B.2.6's signature beside B.4's, which it leaves valid
        for field in ("Signature-Input", "Signature"):
            if line.startswith(f"{field}: "):
                printed = b26["input"]["signature_input"] if field == "Signature-Input" else \
                    b26["expected"]["signature"]
                message[i] = f"{line}, {printed}"
    no_label = copy.deepcopy(by_id["rfc9421-B.4-verify-0"])
    del no_label["input"]["label"]  # (vectors/FORMAT.md: a verify test's label is optional)
    vectors = tmp_path / "vectors"
    shutil.copytree(VECTOR_DIR, vectors)
    tests = []
    for test_id, vec in [("rfc0000-base", two_members), ("rfc0000-verify", two_signatures),
                         ("rfc0000-nolabel", no_label)]:
        tests.append({**vec, "id": test_id})
    (vectors / "rfc0000.json").write_text(json.dumps(
        {"schema": "op_continue-vectors/1", "numberOfTests": len(tests), "tests": tests}))
    options = ("--vectors", str(vectors))

    _, commands = _example(capsys, tmp_path / "base", "rfc0000-base", *options)
    assert _run_printed(capsys, commands[0]) == (
        0, text(b26["expected"]["signature_base"]) + "\n", "")
    _, commands = _example(capsys, tmp_path / "verify", "rfc0000-verify", *options)
    assert _run_printed(capsys, commands[0]) == (0, "valid\n", "")
    # (without the label the same message is refused: several signatures and none chosen)
    code, out, err = _run_printed(capsys, commands[0].replace(" --label transform", ""))
    assert (code, out) == (1, "") and "several signatures" in err
    _, commands = _example(capsys, tmp_path / "nolabel", "rfc0000-nolabel", *options)
    assert _run_printed(capsys, commands[0]) == (0, "valid\n", "")

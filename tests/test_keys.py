"""Section 4 of op_continue.py, keys: Ed25519 (RFC 8032) as PKCS#8 and SPKI DER (RFC 8410) in
PEM (RFC 7468), as JWK (RFC 8037) and in JWK Sets (RFC 7517 §5); load_private_key and
load_public_key, the key-file permissions warning, and every refusal with its exact message and
no key material in it."""
import base64
import json
import subprocess
import sys
import warnings

import pytest
from conftest import (
    ED,
    KEY,
    PRIVATE,
    PUBLIC_JWK,
    ROOT,
    exact,
    no_secret,
    pem,
    raised,
    run,
)

import op_continue as oc


@pytest.mark.parametrize("jwk, message", [
    ("x", "JWK: expected a JSON object"),
    ({"kty": "EC"}, "JWK: expected kty OKP and crv Ed25519"),
    ({**PUBLIC_JWK, "alg": "ES256"}, "JWK: alg must be EdDSA"),
    ({**PUBLIC_JWK, "x": "AAAA"}, "JWK x: expected 32 bytes"),
    ({**PUBLIC_JWK, "x": "A+A"}, "JWK x: expected unpadded base64url"),
])
def test_public_jwk_messages(jwk, message):
    with pytest.raises(oc.UsageError) as info:
        oc.PublicKey.from_jwk(jwk)
    assert str(info.value) == message


@pytest.mark.req("RFC9421-3.3.7-1")
def test_public_jwk_alg_names():
    for alg in ("EdDSA", "Ed25519"):  # RFC 8037 EdDSA, and the fully-specified name
        assert oc.PublicKey.from_jwk({**PUBLIC_JWK, "alg": alg}).raw == PRIVATE.public_key.raw
    with pytest.raises(oc.UsageError):
        oc.PublicKey.from_jwk({**PUBLIC_JWK, "alg": "ed25519"})  # JOSE names are case-sensitive


@pytest.mark.parametrize("d, message", [
    ("A+A", "JWK d: expected unpadded base64url"),
    ("AAAA", "JWK d: expected 32 bytes"),
    (None, "JWK d: expected unpadded base64url"),
])
def test_private_jwk_messages(d, message):
    jwk = {**PUBLIC_JWK, "d": d} if d is not None else dict(PUBLIC_JWK)
    with pytest.raises(oc.UsageError) as info:
        oc.PrivateKey.from_jwk(jwk)
    assert str(info.value) == message


def test_private_jwk_must_match_its_x():
    other = oc.PrivateKey.generate().public_key.jwk("k")
    with pytest.raises(oc.UsageError) as info:
        oc.PrivateKey.from_jwk({**other, "d": ED["jwk"]["d"]})
    assert str(info.value) == "JWK: x does not match d"


# --- key sets ------------------------------------------------------------------------------


def test_jwk_without_kid_and_bad_bytes():
    assert oc.load_public_key(json.dumps(PUBLIC_JWK).encode()) == {
        "test-key-ed25519": PRIVATE.public_key}
    assert oc.load_public_key(json.dumps({k: v for k, v in PUBLIC_JWK.items() if k != "kid"})) \
        == {None: PRIVATE.public_key}
    with pytest.raises(oc.UsageError):  # not UnicodeDecodeError
        oc.load_public_key(b"\xff\xfe{")
    with pytest.raises(oc.UsageError, match="non-empty array"):
        oc.load_public_key('{"keys": []}')


# --- load_private_key: key text, paths, JWK files, the permissions warning ------------------


def test_load_private_key_given_key_text_points_at_from_pem_and_never_echoes_it():
    key = oc.PrivateKey.generate()
    pem = key.to_pem()
    body = "".join(pem.splitlines()[1:-1])
    cases = [
        (pem, "private key: got key text, expected a file path; for PEM text use "
              "PrivateKey.from_pem(text)"),
        (json.dumps({**key.public_key.jwk("k"), "d": "x"}),
         "private key: got JSON text, expected a file path; for a JWK use "
         "PrivateKey.from_jwk(json.loads(text))"),
    ]
    hidden = "private key: file not found: (not shown: it looks like a key, not a path; for " \
             "key text use PrivateKey.from_pem(text))"
    once = base64.b64encode(pem.encode()).decode()
    # key text is told by "-----BEGIN" alone (a PEM pasted on one line) or by a line break alone
    # (base64 of the PEM wrapped at 64 columns); JSON text by "{" after leading white space
    cases += [(pem.replace("\n", " "), cases[0][1]),
              ("\n".join(once[i : i + 64] for i in range(0, len(once), 64)), cases[0][1]),
              (" " + cases[1][0], cases[1][1])]
    for encoded in (once, body,  # base64 of the PEM; DER
                    oc.b64url_encode(bytes(32)), base64.b64encode(bytes(32)).decode(),
                    bytes(32).hex(),  # a seed as base64url, base64, hex
                    oc.b64url_encode(bytes(64))):  # a seed and its public key (64 bytes)
        cases.append((encoded, hidden))
    for given, message in cases:
        assert str(raised(oc.UsageError, oc.load_private_key, given)) == message
        assert body not in message and given not in message


def test_load_private_key_names_the_path_it_cannot_read(tmp_path, monkeypatch):
    missing = tmp_path / "client.key"
    assert str(raised(oc.UsageError, oc.load_private_key, missing)) == \
        f"private key: file not found: {str(missing)!r}"
    assert str(raised(oc.UsageError, oc.load_private_key, str(missing).encode())) == \
        f"private key: file not found: {str(missing)!r}"
    assert str(raised(oc.UsageError, oc.load_private_key, "client.key")) == \
        "private key: file not found: 'client.key'"
    # names of base64url characters that decode to nothing key-like (5 characters: no base64
    # length at all; 10: padding "==" needed) are paths, shown, and nothing raises on them
    monkeypatch.chdir(tmp_path)
    for name in ("mykey", "client_key"):
        assert str(raised(oc.UsageError, oc.load_private_key, name)) == \
            f"private key: file not found: {name!r}"


def test_load_private_key_refuses_what_is_no_path(tmp_path):
    assert str(raised(oc.UsageError, oc.load_private_key, 0)) == \
        "private key: expected a file path (str or os.PathLike), not int"  # not stdin's descriptor
    assert str(raised(oc.UsageError, oc.load_private_key, None)) == \
        "private key: expected a file path (str or os.PathLike), not NoneType"
    assert str(raised(oc.UsageError, oc.load_private_key, "k\x00.pem")) == \
        "private key: the file path contains a NUL character"


def test_load_private_key_accepts_a_private_jwk_file(tmp_path):
    key = oc.PrivateKey.generate()
    jwk = {**key.public_key.jwk("k"), "d": oc.b64url_encode(key._signing_key.encode())}
    path = tmp_path / "client.jwk"
    for given in (json.dumps(jwk), json.dumps(jwk, indent=2) + "\n", "\ufeff" + json.dumps(jwk),
                  " \n" + json.dumps(jwk)):  # (white space before the "{")
        path.write_text(given, encoding="utf-8")
        path.chmod(0o600)
        assert oc.load_private_key(path).public_key == key.public_key


@pytest.mark.parametrize("text, message", [
    (lambda jwk: json.dumps({k: v for k, v in jwk.items() if k != "d"}),
     'private key: the JWK has no "d": it is a public key'),
    (lambda jwk: json.dumps({"keys": [jwk]}),
     "private key: expected one JWK object (not a JWKS or other JSON)"),
    (lambda jwk: json.dumps(jwk)[:-1], "private key: the file starts with '{' but is not valid "
                                       "JSON"),
    (lambda jwk: json.dumps({**jwk, "d": jwk["x"]}), "JWK: x does not match d"),
    (lambda jwk: '{"a": ' * 33 + json.dumps(jwk) + "}" * 33,
     "private key: JSON nested more than 32 levels deep"),
])
def test_load_private_key_names_what_is_wrong_with_a_jwk_file(tmp_path, text, message):
    key = oc.PrivateKey.generate()
    jwk = {**key.public_key.jwk("k"), "d": oc.b64url_encode(key._signing_key.encode())}
    path = tmp_path / "client.jwk"
    path.write_text(text(jwk), encoding="utf-8")
    path.chmod(0o600)
    assert str(raised(oc.UsageError, oc.load_private_key, path)) == message
    assert jwk["d"] not in message


def test_a_jwk_file_that_is_not_utf8_is_invalid_json(tmp_path):
    # pins the decoding with "replace": a byte no UTF-8 text has ends in the JSON error
    path = tmp_path / "client.jwk"
    path.write_bytes(b'{"kty": "OKP", \xff}')
    path.chmod(0o600)
    assert str(raised(oc.UsageError, oc.load_private_key, path)) == \
        "private key: the file starts with '{' but is not valid JSON"


def test_a_utf8_byte_order_mark_is_skipped(tmp_path):
    key = oc.PrivateKey.generate()
    path = tmp_path / "client.key"
    path.write_bytes(b"\xef\xbb\xbf" + key.to_pem().encode())
    path.chmod(0o600)
    assert oc.load_private_key(path).public_key == key.public_key
    assert oc.PrivateKey.from_pem("\ufeff" + key.to_pem()).public_key == key.public_key
    # pins the mark's removal from text too: base64 of the PEM is decoded after it
    once = base64.b64encode(key.to_pem().encode()).decode()
    assert oc.PrivateKey.from_pem("\ufeff" + once).public_key == key.public_key
    public = key.public_key
    assert oc.PublicKey.from_pem(b"\xef\xbb\xbf" + public.to_pem().encode()) == public
    assert oc.load_public_key(b"\xef\xbb\xbf" + public.to_pem().encode()) == {None: public}
    jwks = json.dumps(oc.jwks({"k": public}))
    assert oc.load_public_key(b"\xef\xbb\xbf" + jwks.encode()) == {"k": public}


@pytest.mark.skipif(oc.os.name != "posix", reason="file modes are POSIX")
def test_key_file_warning_is_typed_and_can_be_an_error(tmp_path):
    path = tmp_path / "client.key"
    oc.PrivateKey.generate().write_pem(path)
    path.chmod(0o644)
    with warnings.catch_warnings():
        warnings.simplefilter("error", oc.KeyFileWarning)
        with pytest.raises(oc.KeyFileWarning) as info:
            oc.load_private_key(path)
    assert str(info.value) == "private key file is readable by other users; chmod 600 it"


@pytest.mark.skipif(oc.os.name != "posix", reason="file modes are POSIX")
def test_key_file_warning_is_one_line_on_the_command_line(tmp_path):
    path = tmp_path / "client.key"
    oc.PrivateKey.generate().write_pem(path)
    path.chmod(0o644)
    proc = subprocess.run([sys.executable, str(ROOT / "op_continue.py"), "jwk", "--key",
                           str(path), "--key-id", "k"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == (f"op-continue: warning: {path}: private key file is readable by other "
                           "users; chmod 600 it\n")


def test_write_pem_names_its_encoding(tmp_path, monkeypatch):
    # pins encoding="ascii" in write_pem: without one, a text file is opened in the locale's
    # encoding (PEP 597)
    seen = []
    fdopen = oc.os.fdopen

    def recording(fd, *args, **kwargs):
        seen.append(kwargs.get("encoding"))
        return fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(oc.os, "fdopen", recording)
    path = tmp_path / "client.key"
    oc.PrivateKey.generate().write_pem(path)
    assert seen == ["ascii"] and oc.load_private_key(path).public_key.raw


@pytest.mark.skipif(oc.os.name != "posix", reason="file modes are POSIX")
def test_key_file_warning_is_one_line_in_process(tmp_path, capsys):
    path = tmp_path / "client.key"
    oc.PrivateKey.generate().write_pem(path)
    path.chmod(0o644)
    code, out, err = run(capsys, "jwk", "--key", str(path), "--key-id", "k")
    assert (code, err) == (0, f"op-continue: warning: {path}: private key file is readable by "
                              "other users; chmod 600 it\n")
    assert json.loads(out)["keys"][0]["kid"] == "k"


def _key_read_while_a_socket_is_collected(tmp_path, monkeypatch, stacklevel):
    """A key file, and load_private_key patched to raise a ResourceWarning (as the garbage
    collector gives for a socket another object left open) before reading it: (path, the line
    of the warnings.warn call)."""
    path = tmp_path / "client.key"
    oc.PrivateKey.generate().write_pem(path)
    path.chmod(0o600)
    load = oc.load_private_key

    def load_while_a_socket_is_collected(name):
        warnings.warn("unclosed <socket.socket fd=14>", ResourceWarning, stacklevel=stacklevel)
        return load(name)

    monkeypatch.setattr(oc, "load_private_key", load_while_a_socket_is_collected)
    return path, load_while_a_socket_is_collected.__code__.co_firstlineno + 1


def test_a_warning_not_about_the_key_file_is_not_blamed_on_it(tmp_path, capsys, monkeypatch):
    """A warning raised while the key is read (here a ResourceWarning, as the garbage collector
    gives for a socket another object left open) is shown as Python shows it, not as a warning
    about the key file."""
    path, line = _key_read_while_a_socket_is_collected(tmp_path, monkeypatch, stacklevel=1)
    with pytest.warns(ResourceWarning, match="unclosed <socket.socket fd=14>") as shown:
        code, out, err = run(capsys, "jwk", "--key", str(path), "--key-id", "k")
    assert code == 0 and json.loads(out)["keys"][0]["kid"] == "k"
    assert err == ""
    # pins the file and line handed on to warnings.showwarning: where the warning was raised
    assert [(w.filename, w.lineno) for w in shown] == [(__file__, line)]


def test_a_warning_the_callers_filters_ignore_stays_ignored(tmp_path, capsys, monkeypatch):
    """The command line records only KeyFileWarning whatever the filters say; any other warning
    meets the filters in force, here Python's default one that ignores ResourceWarning."""
    path, _ = _key_read_while_a_socket_is_collected(tmp_path, monkeypatch, stacklevel=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", ResourceWarning)
        code, out, err = run(capsys, "jwk", "--key", str(path), "--key-id", "k")
    assert (code, err, caught) == (0, "", [])
    assert json.loads(out)["keys"][0]["kid"] == "k"


SEED = oc.b64url_decode(ED["jwk"]["d"], "d")


ALG = bytes.fromhex("300506032b6570")  # AlgorithmIdentifier id-Ed25519, no parameters


def _seq(body, tag=0x30):
    return bytes([tag, len(body)]) + body


def _pkcs8(seed=SEED, alg=ALG, tail=b""):
    return _seq(b"\x02\x01\x00" + alg + _seq(_seq(seed, 0x04), 0x04) + tail)


def test_vector_key_seed():
    assert oc.PrivateKey.from_pem(pem("PRIVATE KEY", _pkcs8())).public_key == PRIVATE.public_key


@pytest.mark.parametrize("der", [
    b"\x30\x81\x2e" + _pkcs8()[2:],  # long-form length, one length byte
    b"\x30\x82\x00\x2e" + _pkcs8()[2:],  # two length bytes
    _pkcs8(tail=b"\xa0\x00"),  # empty attributes
    _pkcs8(tail=_seq(b"\x00" + PRIVATE.public_key.raw, 0x81)),  # v2 publicKey
])
def test_private_key_der_accepted(der):
    assert oc.PrivateKey.from_pem(pem("PRIVATE KEY", der)).public_key == PRIVATE.public_key


@pytest.mark.parametrize("der, problem", [
    (b"\x30\x80" + _pkcs8()[2:], "unsupported DER length"),
    (b"\x30\x83\x00\x00\x2e" + _pkcs8()[2:], "unsupported DER length"),
    (b"\x30", "truncated DER"),
    (_seq(b"\x02\x05"), "truncated DER"),  # the version
    (_seq(b"\x02\x01\x00\x30\x05\x06\x03\x2b\x65"), "truncated DER"),  # the AlgorithmIdentifier
    (_seq(b"\x02\x01\x00\x30\x02\x06\x03"), "truncated DER"),  # its OID
    (_seq(b"\x02\x01\x00" + ALG + b"\x04\x22"), "truncated DER"),  # privateKey
    (_seq(b"\x02\x01\x00" + ALG + b"\x04\x02\x04\x20"), "truncated DER"),  # CurvePrivateKey
    (_pkcs8(tail=b"\xa0\x05"), "truncated DER"),  # attributes
    # CurvePrivateKey (RFC 8410 §7) must be an OCTET STRING of 32 bytes, and all of privateKey
    (_seq(b"\x02\x01\x00" + ALG + _seq(_seq(SEED, 0x03), 0x04)), "malformed Ed25519 private key"),
    (_seq(b"\x02\x01\x00" + ALG + _seq(_seq(SEED, 0x04) + b"\x00", 0x04)),
     "malformed Ed25519 private key"),
    (_seq(b"\x02\x01\x00" + ALG + _seq(_seq(SEED[:31], 0x04), 0x04)),
     "malformed Ed25519 private key"),
    (_pkcs8(alg=_seq(_seq(bytes.fromhex("2a864886f70d010101"), 0x06))),
     "the key is RSA, expected Ed25519"),
    (_pkcs8(alg=_seq(_seq(bytes.fromhex("2b6571"), 0x06))), "the key is Ed448, expected Ed25519"),
    (_pkcs8(alg=_seq(_seq(bytes.fromhex("2b6572"), 0x06))),
     "the key is an unknown algorithm, expected Ed25519"),
])
def test_private_key_der_errors(der, problem):
    assert str(raised(oc.UsageError, oc.PrivateKey.from_pem, pem("PRIVATE KEY", der))) == \
        "private key: " + problem


SPKI_BITS = _seq(b"\x00" + PRIVATE.public_key.raw, 0x03)


@pytest.mark.parametrize("der, problem", [
    (_seq(ALG + b"\x03\x21\x00"), "truncated DER"),
    (_seq(ALG + SPKI_BITS + b"\x05\x00"), "malformed Ed25519 public key"),  # trailing data
    (_seq(ALG + b"\x04" + SPKI_BITS[1:]), "malformed Ed25519 public key"),  # not a BIT STRING
    (_seq(ALG + _seq(b"\x01" + PRIVATE.public_key.raw, 0x03)), "malformed Ed25519 public key"),
])
def test_public_key_der_errors(der, problem):
    assert str(raised(oc.UsageError, oc.PublicKey.from_pem, pem("PUBLIC KEY", der))) == \
        "public key: " + problem


def test_public_key_der_accepted():
    assert oc.PublicKey.from_pem(pem("PUBLIC KEY", _seq(ALG + SPKI_BITS))) == PRIVATE.public_key


def test_pem_text_base64_encoded_once_more():
    once = base64.b64encode(PRIVATE.to_pem().encode()).decode()
    wrapped = "\n".join(once[i : i + 64] for i in range(0, len(once), 64))
    assert "\n" in wrapped
    assert oc.PrivateKey.from_pem(wrapped + "\n").public_key == PRIVATE.public_key
    assert str(raised(oc.UsageError, oc.PrivateKey.from_pem, "*" + once)) == \
        "private key: not a PEM text or base64 of one"


def test_pem_body_must_be_strict_base64():
    pem = "-----BEGIN PRIVATE KEY-----\nAAAA=AAAA\n-----END PRIVATE KEY-----\n"
    assert str(raised(oc.UsageError, oc.PrivateKey.from_pem, pem)) == \
        "private key: PEM body is not valid base64"


@pytest.mark.parametrize("seed", [b"", b"\x00" * 31, b"\x00" * 33, "x" * 32])
def test_private_key_seed_length(seed):
    assert str(raised(oc.UsageError, oc.PrivateKey, seed)) == \
        "Ed25519 private key seed must be 32 bytes"


@pytest.mark.parametrize("kid, message", [
    ("", "key id must be a non-empty string"),
    (None, "key id must be a non-empty string"),
    ("a;b", "key id must be printable ASCII without ';', '\"' or '\\'"),
    ("caf\u00e9", "key id must be printable ASCII without ';', '\"' or '\\'"),
])
def test_key_id_messages(kid, message):
    assert str(raised(oc.UsageError, PRIVATE.public_key.jwk, kid)) == message


def test_public_key_verify_message():
    assert str(raised(oc.VerificationError, PRIVATE.public_key.verify, b"m", bytes(64))) == \
        "signature does not verify"
    PRIVATE.public_key.verify(b"m", PRIVATE.sign(b"m"))


def test_write_pem_refuses_to_overwrite(tmp_path):
    path = tmp_path / "k.pem"
    PRIVATE.write_pem(path)
    assert path.read_text(encoding="ascii") == PRIVATE.to_pem()
    assert str(raised(oc.UsageError, PRIVATE.write_pem, path)) == \
        "key file already exists; refusing to overwrite it"


def test_load_private_key_reads_bytes_and_only_64_kib(tmp_path):
    path = tmp_path / "k.pem"
    path.write_bytes(b"\xff\xfe" + PRIVATE.to_pem().encode())
    path.chmod(0o600)
    assert str(raised(oc.UsageError, oc.load_private_key, path)) == \
        "private key: not a PEM text (non-ASCII bytes)"
    path.write_bytes(b"\n" * (65536 - len(PRIVATE.to_pem())) + PRIVATE.to_pem().encode())
    assert oc.load_private_key(path).public_key == PRIVATE.public_key  # ends at 64 KiB
    path.write_bytes(b"\n" * 65536 + PRIVATE.to_pem().encode())
    assert str(raised(oc.UsageError, oc.load_private_key, path)) == \
        "private key: not a PEM text or base64 of one"


def _key_file_readable_by_others(tmp_path):
    path = tmp_path / "k.pem"
    path.write_text(PRIVATE.to_pem())
    path.chmod(0o644)
    return path


@pytest.mark.skipif(oc.os.name != "posix", reason="file modes are POSIX")
def test_load_private_key_warning_points_at_the_caller(tmp_path):
    path = _key_file_readable_by_others(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert oc.load_private_key(path).public_key == PRIVATE.public_key
    assert [w.category for w in caught] == [oc.KeyFileWarning]  # a UserWarning of our own
    assert issubclass(oc.KeyFileWarning, UserWarning)
    assert caught[0].filename != oc.__file__  # blamed on the caller (stacklevel), not on us
    assert str(caught[0].message) == "private key file is readable by other users; chmod 600 it"


@pytest.mark.skipif(oc.os.name != "posix", reason="file modes are POSIX")
def test_key_file_warning_names_the_line_that_called_load_private_key(tmp_path):
    # pins stacklevel=2 exactly (setup.cfg leaves it out of mutmut: its trampoline adds a frame)
    path = _key_file_readable_by_others(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        oc.load_private_key(path)
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_load_public_key_jwks_entries():
    jwk = PRIVATE.public_key.jwk("k")
    assert oc.load_public_key(json.dumps({"keys": [{**jwk, "kid": 5}]})) == \
        {None: PRIVATE.public_key}
    assert str(raised(oc.UsageError, oc.load_public_key, json.dumps({"keys": ["x"]}))) == \
        "JWK: expected a JSON object"


def test_pem_lines_are_64_characters():
    # RFC 7468 §2: base64 lines of 64 characters (our keys' bodies fit one line; this is the rule)
    # private _pem_encode: no public key is long enough to wrap a 64-character line
    pem = oc._pem_encode("TEST", bytes(range(100)))
    lines = pem.splitlines()
    assert lines[0] == "-----BEGIN TEST-----" and lines[-1] == "-----END TEST-----"
    assert [len(line) for line in lines[1:-1]] == [64, 64, 8]  # 136 base64 characters
    assert base64.b64decode("".join(lines[1:-1])) == bytes(range(100))


PUB = KEY.public_key.raw


COUNTING_SEED = bytes(range(32))


SPKI = bytes.fromhex("302a300506032b6570032100") + PUB


PKCS8 = bytes.fromhex("302e020100300506032b657004220420") + COUNTING_SEED


def test_der_length_of_three_octets_is_refused():
    with pytest.raises(oc.UsageError, match=exact("public key: unsupported DER length")):
        oc.PublicKey.from_pem(pem("PUBLIC KEY", bytes.fromhex("3083000001") + b"\x00"))


def test_der_truncated_header():
    with pytest.raises(oc.UsageError, match=exact("public key: truncated DER")):
        oc.PublicKey.from_pem(pem("PUBLIC KEY", bytes.fromhex("30")))


def test_algorithm_identifier_without_an_oid():
    der = bytes.fromhex("3027" "30020500" "032100") + PUB
    with pytest.raises(oc.UsageError, match=exact("public key: malformed AlgorithmIdentifier")):
        oc.PublicKey.from_pem(pem("PUBLIC KEY", der))


def test_pem_non_ascii_bytes():
    with pytest.raises(oc.UsageError, match=exact("public key: not a PEM text (non-ASCII bytes)")):
        oc.PublicKey.from_pem(b"\xff-----BEGIN PUBLIC KEY-----")


def test_pem_base64_of_something_else():
    text = base64.b64encode(b"just some text").decode()
    with pytest.raises(oc.UsageError, match=exact("private key: not a PEM text or base64 of one")):
        oc.PrivateKey.from_pem(text)


def test_pem_body_bad_base64():
    text = "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n"
    with pytest.raises(oc.UsageError, match=exact("public key: PEM body is not valid base64")):
        oc.PublicKey.from_pem(text)


@pytest.mark.parametrize("raw", [b"\x00" * 31, "x" * 32])
def test_public_key_needs_32_bytes(raw):
    with pytest.raises(oc.UsageError, match=exact("Ed25519 public key must be 32 bytes")):
        oc.PublicKey(raw)


def test_public_key_spki_with_trailing_bytes():
    with pytest.raises(oc.UsageError, match=exact("public key: malformed SubjectPublicKeyInfo")):
        oc.PublicKey.from_pem(pem("PUBLIC KEY", SPKI + b"\x00"))


def test_public_key_bit_string_with_unused_bits():
    der = bytes.fromhex("302a300506032b6570032101") + PUB
    with pytest.raises(oc.UsageError, match=exact("public key: malformed Ed25519 public key")):
        oc.PublicKey.from_pem(pem("PUBLIC KEY", der))


def test_public_key_verify_needs_64_byte_signature():
    sig = KEY.sign(b"m")
    with pytest.raises(oc.VerificationError, match=exact("Ed25519 signature must be 64 bytes")):
        KEY.public_key.verify(b"m", sig[:63])
    KEY.public_key.verify(b"m", sig)


def test_public_key_to_pem_round_trip_and_hash():
    text = KEY.public_key.to_pem()
    assert text == pem("PUBLIC KEY", SPKI)
    again = oc.PublicKey.from_pem(text)
    assert again == KEY.public_key
    assert {again, KEY.public_key} == {KEY.public_key}
    assert hash(again) == hash(PUB)


@pytest.mark.parametrize("der, message", [
    (PKCS8 + b"\x00", "malformed PKCS#8"),
    (bytes.fromhex("302e020100300506032b657003220420") + COUNTING_SEED,
     "malformed PKCS#8 privateKey"),
    (bytes.fromhex("302d020100300506032b65700421041f") + COUNTING_SEED[:31],
     "malformed Ed25519 private key"),
    (bytes.fromhex("3030020101300506032b657004220420") + COUNTING_SEED + bytes.fromhex("8200"),
     "malformed PKCS#8"),
    (bytes.fromhex("3051020101300506032b657004220420") + COUNTING_SEED
     + bytes.fromhex("81210000") + PUB[1:],
     "embedded public key does not match the private key"),
])
def test_private_key_pkcs8_failures(der, message):
    with pytest.raises(oc.UsageError, match=exact(f"private key: {message}")) as info:
        oc.PrivateKey.from_pem(pem("PRIVATE KEY", der))
    no_secret(info.value, COUNTING_SEED.hex(), base64.b64encode(COUNTING_SEED).decode())


def test_private_key_pkcs8_v2_with_attributes_and_public_key():
    der = (bytes.fromhex("3053020101300506032b657004220420") + COUNTING_SEED
           + bytes.fromhex("a000" "812100") + PUB)
    key = oc.PrivateKey.from_pem(pem("PRIVATE KEY", der))
    assert key.public_key == KEY.public_key


def test_private_key_jwk_d_wrong_length():
    jwk = dict(KEY.public_key.jwk("k"), d=oc.b64url_encode(COUNTING_SEED[:31]))
    with pytest.raises(oc.UsageError, match=exact("JWK d: expected 32 bytes")):
        oc.PrivateKey.from_jwk(jwk)


def test_private_key_jwk_x_does_not_match_d():
    other = oc.PrivateKey.from_seed(b"\x07" * 32)
    jwk = dict(other.public_key.jwk("k"), d=oc.b64url_encode(COUNTING_SEED))
    with pytest.raises(oc.UsageError, match=exact("JWK: x does not match d")) as info:
        oc.PrivateKey.from_jwk(jwk)
    no_secret(info.value, oc.b64url_encode(COUNTING_SEED))
    jwk = dict(KEY.public_key.jwk("k"), d=oc.b64url_encode(COUNTING_SEED))
    assert oc.PrivateKey.from_jwk(jwk).public_key == KEY.public_key


def test_write_pem_into_a_missing_directory(tmp_path):
    with pytest.raises(oc.UsageError,
                       match=exact("cannot create key file: No such file or directory")) as info:
        KEY.write_pem(tmp_path / "missing" / "k.pem")
    no_secret(info.value, KEY.to_pem().splitlines()[1])


def test_load_private_key_from_a_directory(tmp_path):
    with pytest.raises(oc.UsageError, match=exact(f"private key: cannot read file "
                                                  f"{str(tmp_path)!r}: Is a directory")):
        oc.load_private_key(tmp_path)


def test_load_public_key_invalid_json():
    with pytest.raises(oc.UsageError, match=exact("public key: invalid JSON")):
        oc.load_public_key('{"kty": ')


@pytest.mark.parametrize("doc", ['{"keys": []}', '{"keys": {"kty": "OKP"}}'])
def test_load_public_key_jwks_keys_must_be_a_non_empty_array(doc):
    with pytest.raises(oc.UsageError,
                       match=exact("public key: JWKS 'keys' must be a non-empty array")):
        oc.load_public_key(doc)

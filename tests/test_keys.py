"""Details of the public contract that the broader tests leave loose (found by mutation
testing): exact error messages, key selection by keyid in a JWKS, the CLI's --label, --max-age,
--request and --field-type, the request target of a built request, and form-urlencoded parsing."""
import json

import pytest
from conftest import text, vectors_of

import op_continue as oc

KEYS = {v["id"]: v for v in vectors_of("key")}
ED = KEYS["rfc9421-B.1.4"]["input"]
PRIVATE = oc.PrivateKey.from_pem(text(ED["private_pem"]))
PUBLIC_JWK = {k: v for k, v in ED["jwk"].items() if k != "d"}
B26 = next(v for v in vectors_of("signature_base") if v["id"] == "rfc9421-B.2.6")


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

def test_jwks_keys_are_found_by_kid():
    second = oc.PrivateKey.generate()
    doc = json.dumps(oc.jwks({"first": PRIVATE.public_key, "second": second.public_key}))
    keys = oc.load_public_key("\n  " + doc)  # leading white space before the JSON
    assert keys == {"first": PRIVATE.public_key, "second": second.public_key}
    message = oc.request_message("GET", "https://as.example/x")
    for kid, key in (("first", PRIVATE), ("second", second)):
        params = oc.signature_params(["@method"], [("keyid", kid), ("created", 1)])
        sig_input, signature = oc.sign_message(message, key, params)
        signed = message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])
        assert oc.verify_message(signed, keys).keyid == kid
    params = oc.signature_params(["@method"], [("keyid", "third")])
    sig_input, signature = oc.sign_message(message, second, params)
    signed = message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])
    with pytest.raises(oc.VerificationError, match="no key for this keyid"):
        oc.verify_message(signed, keys)


def test_jwk_without_kid_and_bad_bytes():
    assert oc.load_public_key(json.dumps(PUBLIC_JWK).encode()) == {
        "test-key-ed25519": PRIVATE.public_key}
    assert oc.load_public_key(json.dumps({k: v for k, v in PUBLIC_JWK.items() if k != "kid"})) \
        == {None: PRIVATE.public_key}
    with pytest.raises(oc.UsageError):  # not UnicodeDecodeError
        oc.load_public_key(b"\xff\xfe{")
    with pytest.raises(oc.UsageError, match="non-empty array"):
        oc.load_public_key('{"keys": []}')


# --- GnapAuth: an ordinary class of this module ---------------------------------------------

def test_gnap_auth_is_a_named_class_of_this_module():
    cls = oc.GnapAuth
    assert (cls.__name__, cls.__module__) == ("GnapAuth", "op_continue")
    assert cls.__doc__ and "requests auth" in cls.__doc__
    assert vars(oc)["GnapAuth"] is cls and "GnapAuth" in dir(oc)  # defined, not built on use
    with pytest.raises(AttributeError, match="module 'op_continue' has no attribute 'Nope'"):
        oc.Nope  # noqa: B018


# --- built requests -----------------------------------------------------------------------

@pytest.mark.parametrize("url, target", [
    ("https://as.example", "/"),
    ("https://as.example/c/1", "/c/1"),
    ("https://as.example/c?x=1", "/c?x=1"),
    ("https://as.example/c?", "/c?"),
])
def test_request_message_request_target(url, target):
    message = oc.request_message("POST", url, [("X-A", "1")], b"b")
    assert oc.component_value(message, oc.Item("@request-target")) == target
    assert message.fields == (("x-a", "1"),) and message.body == b"b"
    assert message.method == "POST" and message.target_uri == url


@pytest.mark.parametrize("query, name, value", [
    ("a=1&&b=2", "b", "2"),
    ("a+b=c+d", "a%20b", "c%20d"),
    ("a=%zz", "a", "%25zz"),
    ("flag", "flag", ""),
    ("t=~*-._", "t", "%7E*-._"),
    ("q=%C3%A7", "q", "%C3%A7"),
])
def test_query_param_parsing_and_encoding(query, name, value):
    message = oc.request_message("GET", f"https://as.example/p?{query}")
    item = oc.Item("@query-param", {"name": name})
    assert oc.component_value(message, item) == value


# --- command line -------------------------------------------------------------------------

def _two_signatures(tmp_path):
    inp = B26["input"]
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


def test_cli_verify_label_and_max_age(tmp_path, capsys):
    message, key = _two_signatures(tmp_path)
    assert oc.main(["verify", "--message", message, "--key", key]) == oc.EXIT_INVALID
    assert "several signatures" in capsys.readouterr().err
    assert oc.main(["verify", "--message", message, "--key", key, "--label", "sig-b"]) == 0
    assert capsys.readouterr().out == "valid\n"
    assert oc.main(["verify", "--message", message, "--key", key, "--label", "sig-b",
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
    assert oc.main(["verify", *common, "--key", str(pub)]) == 0
    assert capsys.readouterr().out == "valid\n"
    assert oc.main(["base", "--message", str(response), "--signature-input", sig_input,
                    "--field-type", "example-dict=map"]) == oc.EXIT_USAGE
    assert "NAME=item|list|dictionary" in capsys.readouterr().err


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


def test_all_names_exist():
    for name in oc.__all__:
        assert getattr(oc, name) is not None, name
    assert len(set(oc.__all__)) == len(oc.__all__)


# --- verify_message in full -------------------------------------------------------------------

def _signed(message, covered, params=(("created", 1),), key=PRIVATE, label="sig1", request=None,
            field_types=None):
    params = oc.signature_params(covered, list(params))
    sig_input, signature = oc.sign_message(message, key, params, label=label, request=request,
                                           field_types=field_types)
    return message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])


def test_verified_signature_reports_what_was_checked():
    message = oc.request_message("POST", "https://as.example/c", [("Content-Type", "a/b")], b"")
    signed = _signed(message, ["@method", "content-type"], [("keyid", "k"), ("created", 7)])
    result = oc.verify_message(signed, PRIVATE.public_key, now=8)
    assert result.label == "sig1" and result.keyid == "k"
    assert result.covered == ('"@method"', '"content-type"')
    assert result.params == {"keyid": "k", "created": 7}
    assert result.base == ('"@method": POST\n"content-type": a/b\n"@signature-params": '
                           '("@method" "content-type");keyid="k";created=7')


def test_verify_checks_the_requests_digest_for_a_req_component():
    body = b'{"a":1}'
    request = oc.request_message("POST", "https://as.example/c",
                                 [("Content-Digest", oc.content_digest(body))], body)
    response = oc.Message(status=200, fields=(("content-type", "x/y"),))
    signed = _signed(response, [oc.Item("@status"), oc.Item("content-digest", {"req": True})],
                     request=request)
    oc.verify_message(signed, PRIVATE.public_key, request=request)
    tampered = oc.Message(request.method, request.target_uri, request.request_target, None,
                          request.fields, b'{"a":2}')
    with pytest.raises(oc.VerificationError, match="does not match the body"):
        oc.verify_message(signed, PRIVATE.public_key, request=tampered)
    with pytest.raises(oc.VerificationError, match="cannot build the signature base"):
        oc.verify_message(signed, PRIVATE.public_key)


def test_verify_uses_the_field_types_given():
    message = oc.request_message("GET", "https://as.example/", [("Example-Dict", "a=1,  b=2")])
    item = oc.Item("example-dict", {"sf": True})
    types = {"example-dict": "dictionary"}
    signed = _signed(message, [item], field_types=types)
    oc.verify_message(signed, PRIVATE.public_key, field_types=types)
    with pytest.raises(oc.VerificationError, match="structured type unknown"):
        oc.verify_message(signed, PRIVATE.public_key)


def test_max_age_uses_the_clock_when_no_now_is_given():
    import time

    message = oc.request_message("GET", "https://as.example/")
    fresh = _signed(message, ["@method"], [("created", int(time.time()))])
    oc.verify_message(fresh, PRIVATE.public_key, max_age=60)
    stale = _signed(message, ["@method"], [("created", int(time.time()) - 120)])
    with pytest.raises(oc.VerificationError, match="too old"):
        oc.verify_message(stale, PRIVATE.public_key, max_age=60)


@pytest.mark.parametrize("sig_input, signature", [
    ('sig1=("@method");created=1', "sig2=:AAAA:"),
    ('sig2=("@method");created=1', "sig1=:AAAA:"),
])
def test_labels_that_do_not_pair(sig_input, signature):
    message = oc.request_message("GET", "https://as.example/").with_fields(
        [("Signature-Input", sig_input), ("Signature", signature)])
    with pytest.raises(oc.VerificationError) as info:
        oc.verify_message(message, PRIVATE.public_key)
    assert str(info.value) == "Signature-Input and Signature have no matching label"


# --- Byte Sequences (RFC 8941 §4.2.7) --------------------------------------------------------


# --- online commands without sending ------------------------------------------------------------

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


# --- raw HTTP/1.1 messages (RFC 9112) ----------------------------------------------------------

def test_parse_message_keeps_the_exact_body():
    message = oc.parse_message(b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\nline1\r\nline2\n")
    assert (message.status, message.body) == (200, b"line1\r\nline2\n")
    assert oc.parse_message(b"GET / HTTP/1.1\nHost: h").body == b""  # no blank line: no body
    assert oc.parse_message("GET / HTTP/1.1\nHost: h\n\n\u00e9").body == "\u00e9".encode()


def test_parse_message_field_lines():
    message = oc.parse_message(b"GET / HTTP/1.1\nHost: h\nX-A: \t v1 \t\nX-Fold: a \t\n\t b\n")
    assert message.field_values("x-a") == ["v1"]
    assert message.field_values("x-fold") == ["a b"]  # obs-fold with tabs: one SP
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message(b"GET / HTTP/1.1\n continued\n")
    assert str(info.value) == "message: continuation line before any field"
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message(b"GET / HTTP/1.1\nBad Name: x\n")
    assert str(info.value) == "message: malformed field line"
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message("GET / HTTP/1.1\nX: \udc80\n")
    assert str(info.value) == "message: text is not encodable as UTF-8 (lone surrogate)"


@pytest.mark.parametrize("start, uri", [
    ("OPTIONS * HTTP/1.1", "https://example.com"),
    ("CONNECT example.org:8443 HTTP/1.1", "https://example.org:8443"),
    ("get /p HTTP/1.1", "https://example.com/p"),
    ("GET http://other.example/p?q HTTP/1.1", "http://other.example/p?q"),
])
def test_parse_message_target_uri_forms(start, uri):
    message = oc.parse_message(f"{start}\nHost: example.com\n".encode())
    assert message.target_uri == uri
    assert message.method == start.split(" ")[0]  # case kept (RFC 9421 §2.2.1)


def test_parse_message_without_host_has_no_target_uri():
    for start in ("GET /p HTTP/1.1", "OPTIONS * HTTP/1.1"):
        message = oc.parse_message(start.encode())
        assert message.target_uri is None
        with pytest.raises(oc.SignatureBaseError, match="no target URI"):
            oc.component_value(message, oc.Item("@path"))


# --- response paths --------------------------------------------------------------------------

AMOUNT = {"value": "500", "assetCode": "USD", "assetScale": 2}


@pytest.mark.parametrize("amount, path", [
    ({**AMOUNT, "value": 5}, "$.l.debitAmount.value"),
    ({**AMOUNT, "value": str(1 << 64)}, "$.l.debitAmount.value"),
    ({**AMOUNT, "assetCode": 1}, "$.l.debitAmount.assetCode"),
    ({**AMOUNT, "assetScale": "2"}, "$.l.debitAmount.assetScale"),
    ("500", "$.l.debitAmount"),
])
def test_limit_amount_paths(amount, path):
    with pytest.raises(oc.ResponseError) as info:
        oc.Limits.from_json({"debitAmount": amount}, "$.l")
    assert info.value.path == path


def test_limits_and_amount_values():
    top = str((1 << 64) - 1)
    limits = oc.Limits.from_json({"receiver": "https://r.example/incoming-payments/1",
                                  "interval": "R/2017-03-01T13:00:00Z/P1M",
                                  "receiveAmount": {**AMOUNT, "value": top, "assetScale": 255},
                                  "debitAmount": {**AMOUNT, "assetScale": 0}}, "$.l")
    assert limits.receiveAmount == oc.Amount(top, "USD", 255)
    assert limits.debitAmount == oc.Amount("500", "USD", 0)
    assert limits.interval == "R/2017-03-01T13:00:00Z/P1M"
    assert limits.receiver == "https://r.example/incoming-payments/1"
    for bad, path in ((5, "$.l.receiver"), (5, "$.l.interval")):
        key = path.rsplit(".", 1)[1]
        with pytest.raises(oc.ResponseError) as info:
            oc.Limits.from_json({key: bad}, "$.l")
        assert info.value.path == path


def test_cli_reports_a_subject_grant(capsys):
    grant = oc.Grant.from_json({"subject": {"sub_ids": [{"id": "https://w.example/alice",
                                                         "format": "uri"}]},
                                "continue": {"access_token": {"value": "C"},
                                             "uri": "https://as.example/continue/1"}})
    assert oc._report_grant(grant, "text") == oc.EXIT_OK
    assert capsys.readouterr().out == "SUBJECT_ID = https://w.example/alice\n"
    assert oc._report_grant(grant, "json") == oc.EXIT_OK
    assert json.loads(capsys.readouterr().out)["subject"]["sub_ids"][0]["id"] == \
        "https://w.example/alice"


# --- the argument parser: required options, defaults, choices, prog --------------------------

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
             "WALLET_ADDRESS", "ACCESS")


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

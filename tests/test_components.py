"""Issue 5, "Strength of the tests": the lines and branches of op_continue.py that the rest of
the suite does not reach, each pinned to its real behaviour (error class, message, output).

Grouped by the module's sections; each test names the function it covers. A test under a
"Regression (fixed)" comment pinned a bug found here, since fixed.
"""
import json
import os
import re
import runpy
import stat
import sys

import pytest
import requests
from conftest import KID, ROOT, FakeResponse, fake_transport, run, write
from local_as import LocalAS

import op_continue as oc

KEY = oc.PrivateKey.from_seed(bytes(range(32)))
PUB = KEY.public_key.raw
SEED = bytes(range(32))
NOW = 1_700_000_000
TOKEN = "SECRET-CONT-TOKEN-9"
REF = "SECRET-INTERACT-REF-9"
FINISH_URI = "https://client.example/finish"
OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],
             "identifier": "https://wallet.example/alice",
             "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}}]


def exact(message):
    """A pytest.raises pattern matching ``message`` exactly."""
    return "^" + re.escape(message) + "$"


def no_secret(exc, *secrets):
    blob = f"{exc}|{exc!r}|{getattr(exc, 'args', ())!r}"
    for secret in secrets:
        assert secret not in blob


def h(text):
    return bytes.fromhex(text)


# =============================================================================
# 3. Structured fields
# =============================================================================

# --- serialize_bare_item ---


# --- serialize_params / _check_key ---


# --- _SFParser.more_members, number, string, byte_sequence, boolean ---


# --- _parse_structured / _serialize_structured (via ;sf on a field, RFC 9421 §2.1.1) ---

def _msg(*fields, url="https://as.example/x?a=1"):
    return oc.request_message("GET", url, fields)


def test_sf_field_with_an_unknown_type_name():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("x: not a valid structured field (structured field type must "
                                   "be item, list or dictionary)")):
        oc.component_value(_msg(("X", "a")), oc.Item("x", {"sf": True}), field_types={"x": "set"})


def test_sf_field_list_is_strictly_reserialized():
    msg = _msg(("X", "a,   b;q=1.50"), ("X", "(c  d)"))
    item = oc.Item("x", {"sf": True})
    assert oc.component_value(msg, item, field_types={"x": "list"}) == "a, b;q=1.5, (c d)"


def test_sf_field_item_is_strictly_reserialized():
    msg = _msg(("X", "  ?1;a=2.000  "))
    item = oc.Item("x", {"sf": True})
    assert oc.component_value(msg, item, field_types={"x": "item"}) == "?1;a=2.0"


# =============================================================================
# 4. Keys
# =============================================================================

SPKI = h("302a300506032b6570032100") + PUB
PKCS8 = h("302e020100300506032b657004220420") + SEED


# --- _der_next ---


# --- _der_algorithm ---


# --- _pem_body ---


# --- PublicKey ---


# --- PrivateKey.from_pem ---


# --- PrivateKey.from_jwk ---


# --- PrivateKey.write_pem ---


# --- _read_key_file / load_private_key ---


# --- load_public_key ---


# =============================================================================
# 5. Content digest
# =============================================================================

BODY = b'{"hello": "world"}'


# =============================================================================
# 6. Messages and components
# =============================================================================

RESPONSE = oc.Message(status=200, fields=(("x", "1"),))


# --- parse_message ---

@pytest.mark.parametrize("line", ["HTTP/1.1 20 OK", "HTTP/1.1 2000", "HTTP/1.1 200OK"])
def test_parse_message_malformed_status_line(line):
    with pytest.raises(oc.UsageError, match=exact("message: malformed status line")):
        oc.parse_message(line + "\n\n")


# --- _component_authority / _component_scheme / _component_request_target ---

def test_authority_of_a_relative_target_uri():
    msg = oc.Message(method="GET", target_uri="/x")
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: the target URI has no authority")):
        oc.component_value(msg, oc.Item("@authority"))


def test_scheme_of_a_scheme_relative_target_uri():
    msg = oc.Message(method="GET", target_uri="//as.example/x")
    with pytest.raises(oc.SignatureBaseError, match=exact("@scheme: the target URI has no scheme")):
        oc.component_value(msg, oc.Item("@scheme"))
    # @authority needs the scheme too (for the default port), so it fails the same way
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: the target URI has no authority")):
        oc.component_value(msg, oc.Item("@authority"))


@pytest.mark.parametrize("uri", ["https://user@as.example/x", "https://[::1/x"])
def test_authority_malformed(uri):
    # _normalized_authority
    msg = oc.Message(method="GET", target_uri=uri)
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: malformed authority (userinfo is not allowed)")):
        oc.component_value(msg, oc.Item("@authority"))


def test_request_target_of_a_response():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@request-target: the message is not a request")):
        oc.component_value(RESPONSE, oc.Item("@request-target"))


# --- _request_uri ---

@pytest.mark.parametrize("name", ["@path", "@target-uri", "@query", "@scheme"])
def test_uri_component_of_a_response(name):
    with pytest.raises(oc.SignatureBaseError,
                       match=rf"^{name}: the message is a response \(use ;req\)$"):
        oc.component_value(RESPONSE, oc.Item(name))


def test_target_uri_without_host():
    msg = oc.parse_message("GET /x HTTP/1.1\nAccept: */*\n\n")
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@target-uri: the request has no target URI (missing Host?)")):
        oc.component_value(msg, oc.Item("@target-uri"))
    assert oc.component_value(msg, oc.Item("@request-target")) == "/x"


# --- _field_component ---

def test_field_component_name_must_be_lower_case():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("component name of an HTTP field must be lower case")):
        oc.component_value(_msg(("Content-Type", "a")), oc.Item("Content-Type"))


def test_field_component_key_on_a_list_field():
    with pytest.raises(oc.SignatureBaseError, match=exact("x: key needs a Dictionary field")):
        oc.component_value(_msg(("X", "a, b")), oc.Item("x", {"key": "a"}),
                           field_types={"x": "list"})


# Regression (fixed): ;bs on a field value with a character above U+00FF raises UnicodeEncodeError
# instead of SignatureBaseError
def test_field_component_bs_with_a_non_latin1_value():
    with pytest.raises(oc.SignatureBaseError, match=r"^x: "):
        oc.component_value(_msg(("X", "\u20ac")), oc.Item("x", {"bs": True}))


# --- component_value ---

@pytest.mark.parametrize("name", [oc.Token("x"), 1, b"x"])
def test_component_identifier_must_be_a_string(name):
    with pytest.raises(oc.SignatureBaseError, match=exact("component identifier must be a String")):
        oc.component_value(_msg(("X", "a")), oc.Item(name))


@pytest.mark.parametrize("param, value", [("key", oc.Token("a")), ("name", 1)])
def test_component_key_and_name_parameters_must_be_strings(param, value):
    with pytest.raises(oc.SignatureBaseError, match=exact(f"{param} parameter must be a String")):
        oc.component_value(_msg(("X", "a=1")), oc.Item("x", {param: value}))


@pytest.mark.parametrize("param, value", [("sf", 1), ("bs", "1"), ("req", False)])
def test_component_flag_parameters_must_be_true(param, value):
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{param} parameter must be a bare flag (true)")):
        oc.component_value(_msg(("X", "a")), oc.Item("x", {param: value}))


def test_req_parameter_without_the_request():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("req parameter but no request message given")):
        oc.component_value(RESPONSE, oc.Item("@method", {"req": True}))
    assert oc.component_value(RESPONSE, oc.Item("@method", {"req": True}),
                              request=_msg()) == "GET"


@pytest.mark.parametrize("name, param", [("@method", "sf"), ("@path", "name"),
                                         ("@query-param", "key")])
def test_derived_component_parameter_not_allowed(name, param):
    params = {param: "a"} if param in ("name", "key") else {param: True}
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{name}: parameter not allowed on this component")):
        oc.component_value(_msg(), oc.Item(name, params))


def test_component_value_with_a_non_ascii_character():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("x: value has a newline or non-ASCII character")):
        oc.component_value(_msg(("X", "caf\u00e9")), oc.Item("x"))
    assert oc.component_value(_msg(("X", "a\tb")), oc.Item("x")) == "a\tb"  # HTAB is allowed


# =============================================================================
# 7. Signature base: _check_signature_params
# =============================================================================


# =============================================================================
# 8. verify_message / _check_times
# =============================================================================


# =============================================================================
# 9. Requests
# =============================================================================

# --- sign_request ---


# --- normalize_url / _is_loopback ---


# --- interaction_hash / verify_interaction_hash ---


# --- parse_finish_redirect ---


# =============================================================================
# 10. Responses
# =============================================================================

CONT = {"access_token": {"value": TOKEN}, "uri": "https://as.example/continue/1"}


# =============================================================================
# 11. Client
# =============================================================================

# --- _redact ---

def test_redact_skips_empty_secrets():
    # "".replace("", x) would insert x between every character; an empty secret is skipped.
    assert oc._redact("a SECRET b", ["", "SECRET"]) == "a [secure] b"
    assert oc._redact("x" * 300 + "\n", []) == "x" * 200


# --- Client.poll_until_done ---

@pytest.fixture
def las():
    server = LocalAS(wait=0).start()
    server.wallet = server.add_wallet("alice", oc.jwks({KID: KEY.public_key}))
    yield server
    server.stop()


def test_poll_until_done_reraises_other_grant_errors(las):
    client = oc.Client(KEY, KID, allow_http=True, timeout=5)
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI,
                                 nonce=oc.new_nonce())
    grant = client.request_grant(las.grant_endpoint, body)
    sleeps = []
    client.clock, client.sleep = (lambda: 0.0), sleeps.append
    with pytest.raises(oc.GrantError,
                       match=exact("HTTP 401: request_denied: grant cannot be polled")):
        client.poll_until_done(grant.continue_, timeout=10)
    assert sleeps == [1]  # wait 0 is floored at MIN_POLL_INTERVAL, then one poll, no retry


# --- Client.send, with a stand-in adapter ---

def test_send_through_a_stand_in_adapter():
    response = FakeResponse([b'{"continue": {"access_token": {"value": "NEXT"}, ',
                             b'"uri": "https://as.example/continue/2", "wait": 7}}'])
    client = oc.Client(KEY, KID, timeout=3)
    adapter = fake_transport(client, response)
    grant = client.poll("https://as.example/continue/1", TOKEN, created=NOW)
    assert grant.continue_ == oc.Continue("NEXT", "https://as.example/continue/2", 7)
    [(method, url, kwargs, headers)] = adapter.calls
    assert (method, url) == ("POST", "https://as.example/continue/1")
    assert (kwargs["stream"], kwargs["timeout"], kwargs["verify"]) == (True, 3.0, True)
    assert headers["Authorization"] == "GNAP " + TOKEN
    assert headers["Accept-Encoding"] == "identity"
    assert response.closed


def test_send_once_error_while_reading_the_body():
    response = FakeResponse([b"{", requests.exceptions.ChunkedEncodingError("boom " + TOKEN)])
    client = oc.Client(KEY, KID, timeout=5)
    fake_transport(client, response)
    with pytest.raises(oc.TransportError) as info:
        client.continue_grant("https://as.example/continue/1", TOKEN, REF)
    assert str(info.value) == ("ChunkedEncodingError: the request may have reached the server; "
                               "an interact_ref sent with it may be spent")
    assert info.value.request_sent is True
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert response.closed
    no_secret(info.value, TOKEN, REF)


# --- _GnapAuth.__call__ ---

def _verify_prepared(prepared, required):
    msg = oc.request_message(prepared.method, prepared.url, prepared.headers.items(),
                             prepared.body or b"")
    return oc.verify_message(msg, KEY.public_key, required=required)


def test_gnap_auth_without_token_and_without_body():
    auth = oc.GnapAuth(KEY, KID)
    prepared = requests.Request("GET", "https://AS.example:443/x", auth=auth).prepare()
    assert prepared.url == "https://as.example/x"
    assert prepared.body is None
    assert "Authorization" not in prepared.headers
    assert _verify_prepared(prepared, ()).covered == ('"@method"', '"@target-uri"')


def test_gnap_auth_str_body_is_reserialized_and_digested():
    auth = oc.GnapAuth(KEY, KID, TOKEN)
    prepared = requests.Request("POST", "https://as.example/x", data='{"a": [1, 2]}',
                                auth=auth).prepare()
    assert prepared.body == b'{"a":[1,2]}'
    assert prepared.headers["Content-Length"] == "11"
    assert prepared.headers["Authorization"] == "GNAP " + TOKEN
    verified = _verify_prepared(prepared, ['"content-digest"', '"authorization"'])
    assert verified.keyid == KID


def test_gnap_auth_refuses_streamed_bodies():
    auth = oc.GnapAuth(KEY, KID)
    with pytest.raises(oc.UsageError,
                       match=exact("GnapAuth: the body must be bytes or str "
                                   "(no streams or files)")):
        requests.Request("POST", "https://as.example/x", data=iter([b"{}"]), auth=auth).prepare()


# Regression (fixed): a non-JSON body given to GnapAuth is the caller's input, but it raises
# ResponseError ('malformed response'), not UsageError
def test_gnap_auth_refuses_a_non_json_body_as_a_usage_error():
    auth = oc.GnapAuth(KEY, KID, TOKEN)
    with pytest.raises(oc.UsageError, match="GnapAuth"):
        requests.Request("POST", "https://as.example/x", data="a=b", auth=auth).prepare()


# =============================================================================
# 12. Command line
# =============================================================================

@pytest.fixture
def env(tmp_path, monkeypatch):
    path = write(tmp_path, "key.pem", KEY.to_pem())
    os.chmod(path, 0o600)
    for name in ("CONTINUE_URI", "CONTINUE_ACCESS_TOKEN", "INTERACT_REF", "WALLET_ADDRESS",
                 "MANAGE_URL", "ACCESS_TOKEN", "FINISH_REDIRECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PRIVATE_KEY_PATH", path)
    monkeypatch.setenv("KEY_ID", KID)
    return monkeypatch


def canned(monkeypatch, status, content_type, obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    sent = []

    def send(self, signed):
        sent.append(signed)
        return status, content_type, data

    monkeypatch.setattr(oc.Client, "send", send)
    return sent


SIG_MESSAGE = "GET /x HTTP/1.1\nHost: as.example\nX:  a,   b\n\n"


# --- _field_types ---

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


# --- _pick_params ---

@pytest.mark.parametrize("sig_input", ['sig1=("@path")', "sig2=:AAAA:"])
def test_cli_base_label_without_an_inner_list(tmp_path, capsys, sig_input):
    msg = write(tmp_path, "m.txt", SIG_MESSAGE)
    code, _, err = run(capsys, "base", "--message", msg, "--signature-input", sig_input,
                       "--label", "sig2")
    assert code == 2
    assert err == ("op-continue: error: --signature-input has no Inner List member with that "
                   "label\n")


# --- _setting ---

def test_cli_grant_without_wallet_address(env, capsys):
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--access", "[]", "--dry-run")
    assert (code, out) == (2, "")
    assert err == ("op-continue: error: WALLET_ADDRESS is not set (environment, or "
                   "--wallet-address)\n")


# --- _cmd_grant ---

@pytest.mark.parametrize("access", ["{not json", '{"type": "quote"}', '"quote"'])
def test_cli_grant_access_must_be_a_json_array(env, capsys, access):
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--wallet-address", "https://wallet.example/alice", "--access", access)
    assert (code, out) == (2, "")
    assert err == "op-continue: error: --access must be a JSON array of access items\n"


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
def test_cli_grant_json_reports_the_client_nonce(env, capsys, las):
    code, out, _ = run(capsys, "grant", "--grant-endpoint", las.grant_endpoint,
                       "--wallet-address", las.wallet, "--access", json.dumps(OUTGOING),
                       "--finish-uri", FINISH_URI, "--allow-http", "--json")
    assert code == 0
    doc = json.loads(out)
    finish = oc.parse_finish_redirect(las.approve(doc["continue"]["uri"]))
    oc.verify_interaction_hash(finish.hash, doc["client_nonce"], doc["interact"]["finish"],
                               finish.interact_ref, las.grant_endpoint)


# --- _report_grant ---

SUBJECT = {"subject": {"sub_ids": [{"id": "https://wallet.example/alice", "format": "uri"}]}}


def test_cli_grant_subject_only_json(env, capsys):
    canned(env, 200, "application/json", SUBJECT)
    code, out, err = run(capsys, "grant", "--grant-endpoint", "https://as.example/",
                         "--wallet-address", "https://wallet.example/alice", "--access", "[]",
                         "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == SUBJECT


def test_cli_poll_pending_json(env, capsys):
    sent = canned(env, 200, "application/json", {"continue": dict(CONT, wait=30)})
    env.setenv("CONTINUE_URI", "https://as.example/continue/1")
    env.setenv("CONTINUE_ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "poll", "--json")
    assert (code, err) == (3, "")
    assert json.loads(out) == {"continue": dict(CONT, wait=30)}
    assert sent[0].body == b"" and sent[0].header("Authorization") == "GNAP " + TOKEN


# --- _secret_setting (from a file) and _print_signed (HTTP/1.1 text) ---

def test_cli_continue_dry_run_prints_a_verifiable_message(env, capsys, tmp_path):
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
    verified = oc.verify_message(msg, KEY.public_key, now=NOW,
                                 required=['"authorization"', '"content-digest"'])
    assert verified.params == {"keyid": KID, "created": NOW}


# --- _cmd_keygen ---

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


# --- _cmd_token ---

def test_cli_rotate_and_revoke_dry_run(env, capsys):
    env.setenv("MANAGE_URL", "https://as.example/token/1")
    env.setenv("ACCESS_TOKEN", TOKEN)
    for command, method in (("rotate", "POST"), ("revoke", "DELETE")):
        code, out, err = run(capsys, command, "--dry-run", "--created", str(NOW))
        assert (code, err) == (0, "")
        assert out.startswith(f"{method} /token/1 HTTP/1.1\nHost: as.example\n"
                              f"Authorization: GNAP {TOKEN}\n")
        assert out.endswith("\n\n")  # no body
        verified = oc.verify_message(oc.parse_message(out), KEY.public_key, now=NOW)
        assert verified.covered == ('"@method"', '"@target-uri"', '"authorization"')


def test_cli_rotate_json_without_expires_in(env, capsys):
    new = {"value": "NEW-TOKEN", "manage": "https://as.example/token/2",
           "access": [{"type": "quote", "actions": ["create", "read"]}]}
    canned(env, 200, "application/json", {"access_token": new})
    env.setenv("MANAGE_URL", "https://as.example/token/1")
    env.setenv("ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "rotate", "--json")
    assert (code, err) == (0, "")
    assert out == json.dumps({"access_token": {"value": "NEW-TOKEN",
                                               "manage": "https://as.example/token/2",
                                               "access": new["access"]}}) + "\n"


# --- main: ResponseError -> exit 5 ---

def test_cli_malformed_response_exit_code(env, capsys):
    canned(env, 200, "text/html", b"<html>" + TOKEN.encode() + b"</html>")
    env.setenv("CONTINUE_URI", "https://as.example/continue/1")
    env.setenv("CONTINUE_ACCESS_TOKEN", TOKEN)
    code, out, err = run(capsys, "poll")
    assert (code, out) == (5, "")
    assert err == ("op-continue: error: malformed response: $: body is not JSON "
                   "(Content-Type is not application/json)\n")


# --- if __name__ == "__main__" ---

def test_module_runs_as_a_script(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "body.json", BODY)
    monkeypatch.setattr(sys, "argv", ["op_continue.py", "digest", "--algorithm", "sha-256",
                                      path])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(str(ROOT / "op_continue.py"), run_name="__main__")
    assert info.value.code == 0
    assert capsys.readouterr().out == oc.content_digest(BODY, ["sha-256"]) + "\n"


# =============================================================================
# Deterministic twins: lines that otherwise only the Hypothesis tests (test_properties.py) reach,
# so that 100% does not depend on what Hypothesis happens to draw.
# =============================================================================

# --- 3. serialize_bare_item (bytes), serialize_dictionary (bare-true member) ---


# --- 3. _SFParser ---


# --- 6. parse_message ---

def test_parse_message_crlf_lines_and_body():
    msg = oc.parse_message(b"GET /p?q HTTP/1.1\r\nHost: h.example\r\nX:  1 \r\n\r\nbody\r\n")
    assert (msg.method, msg.target_uri, msg.request_target) == \
        ("GET", "https://h.example/p?q", "/p?q")
    assert msg.fields == (("host", "h.example"), ("x", "1"))
    assert msg.body == b"body\r\n"


@pytest.mark.parametrize("text, message", [
    ("", "message: empty"),
    ("\r\n\r\nbody", "message: empty"),
    ("GET / HTTP/1.1\n  folded\n\n", "message: continuation line before any field"),
    ("GET / HTTP/1.1\nno colon\n\n", "message: malformed field line"),
    ("GET / HTTP/1.1\nHost : h\n\n", "message: malformed field line"),
    ("GET /\n\n", "message: malformed request line"),
    ("GET  / HTTP/1.1\n\n", "message: malformed request line"),
])
def test_parse_message_failures(text, message):
    with pytest.raises(oc.UsageError, match=exact(message)):
        oc.parse_message(text)


# --- 8. verify_message (_combined_dictionary, labels, digests, _select_key) ---


# --- 10. Grant.from_json (subject) ---


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


RESPONSE_XA = oc.Message(status=200, fields=(("x-a", "1"),))


def _usage(fn, *args, error=oc.UsageError, **kwargs):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert type(info.value) is error
    return str(info.value)


@pytest.mark.parametrize("lines, value", [
    ["X-A:  a \t", "a"],
    ["X-A: Xa X", "Xa X"],
    ["X-A: a\x0b", "a\x0b"],  # only SP and HTAB are stripped
    ["X-A: a \n  b  ", "a b"],  # obs-fold
    ["X-A: aX\n Xb", "aX Xb"],
    ["X-A: a\x0b\n b\x0b", "a\x0b b\x0b"],
    ["X-A: a\n \t\n c", "a c"],
    ["X-A: a\n \t", "a"],  # a blank continuation last adds nothing
])
def test_parse_message_field_values(lines, value):
    message = oc.parse_message(f"GET / HTTP/1.1\r\nHost: h\r\n{lines}\r\n\r\nbody")
    assert message.fields == (("host", "h"), ("x-a", value)) and message.body == b"body"


def test_parse_message_leading_empty_line():
    assert _usage(oc.parse_message, b"\nGET / HTTP/1.1\nHost: h\n\n") == "message: empty"


def test_request_message_defaults_and_with_fields():
    message = oc.request_message("GET", "https://as.example/p?q")
    assert message.body == b"" and message.fields == ()
    extended = message.with_fields([("X-A", "1")])
    assert extended == oc.Message("GET", "https://as.example/p?q", "/p?q", None,
                                  (("x-a", "1"),), b"")


@pytest.mark.parametrize("url, authority", [
    ("https://A.example:443", "a.example"),
    ("HTTPS://a.example:0443", "a.example"),
    ("https://a.example:000000443", "a.example"),
    ("http://a.example:80", "a.example"),
    ("https://a.example:80", "a.example:80"),
    ("https://a.example:4430", "a.example:4430"),
    ("https://a.example:0", "a.example:0"),
    ("https://a.example:", "a.example"),
    ("https://a.example:65535", "a.example:65535"),
])
def test_authority(url, authority):
    message = oc.request_message("GET", url)
    assert oc.component_value(message, oc.Item("@authority")) == authority


@pytest.mark.parametrize("port", ["65536", "100000", "99999"])
def test_authority_port_out_of_range(port):
    message = oc.request_message("GET", f"https://a.example:{port}/")
    assert _usage(oc.component_value, message, oc.Item("@authority"),
                  error=oc.SignatureBaseError) == "@authority: port out of range"


@pytest.mark.parametrize("url, path", [
    ("https://a.example", "/"),
    ("https://a.example?x=1", "/"),
    ("https://a.example/p/", "/p/"),
])
def test_path(url, path):
    assert oc.component_value(oc.request_message("GET", url), oc.Item("@path")) == path


@pytest.mark.parametrize("query, name, value", [
    ("q=%c3%a7", "q", "%C3%A7"),  # lower-case hex digits decode too
    ("q=%ff", "q", "%EF%BF%BD"),  # invalid UTF-8 becomes U+FFFD
    ("q=%C3%A7&r", "r", ""),
])
def test_query_param_values(query, name, value):
    message = oc.request_message("GET", f"https://a.example/?{query}")
    assert oc.component_value(message, oc.Item("@query-param", {"name": name})) == value


def test_query_param_lone_surrogate_is_u_fffd():
    # a str target URI with a lone surrogate (argv's surrogateescape): WHATWG's USVString makes
    # it U+FFFD before percent-decoding, as a browser would
    message = oc.Message(method="GET", target_uri="https://a.example/?q=\udcff&r=a\ud800b")
    assert oc.component_value(message, oc.Item("@query-param", {"name": "q"})) == "%EF%BF%BD"
    assert oc.component_value(message, oc.Item("@query-param", {"name": "r"})) == "a%EF%BF%BDb"


@pytest.mark.parametrize("url, name, message", [
    ("https://a.example/", "XXXX", "@query-param: the named parameter is not in the query"),
    ("https://a.example/?a=1", "b", "@query-param: the named parameter is not in the query"),
    ("https://a.example/?a=1&a=2", "a",
     "@query-param: the named parameter occurs more than once"),
])
def test_query_param_errors(url, name, message):
    item = oc.Item("@query-param", {"name": name})
    assert _usage(oc.component_value, oc.request_message("GET", url), item,
                  error=oc.SignatureBaseError) == message


NO_URI = oc.Message(method="GET", request_target="/")


@pytest.mark.parametrize("message, item, error", [
    (RESPONSE_XA, oc.Item("@method"), "@method: the message is not a request"),
    (NO_URI, oc.Item("@status"), "@status: the message is a request"),
    (RESPONSE_XA, oc.Item("@authority"), "@authority: the message is a response (use ;req)"),
    (NO_URI, oc.Item("@authority"), "@authority: the request has no target URI (missing Host?)"),
    (RESPONSE_XA, oc.Item("@query-param", {"name": "a"}),
     "@query-param: the message is a response (use ;req)"),
    (NO_URI, oc.Item("@query-param", {"name": "a"}),
     "@query-param: the request has no target URI (missing Host?)"),
    (NO_URI, oc.Item("@method", {"req": True}),
     "req parameter on a component of a request message"),
    (NO_URI, oc.Item("@query-param"), "@query-param: the name parameter is required"),
    (NO_URI, oc.Item("@nope"), "unknown derived component"),
    (NO_URI, oc.Item("x-a", {"foo": True}), "x-a: unknown component parameter"),
    (RESPONSE_XA, oc.Item("x-a", {"tr": True}), "tr: trailer fields are not supported"),
    (RESPONSE_XA, oc.Item("x-a", {"bs": True, "sf": True}),
     "x-a: bs cannot be combined with sf or key"),
    (RESPONSE_XA, oc.Item("x-a", {"bs": True, "key": "a"}),
     "x-a: bs cannot be combined with sf or key"),
    (oc.Message(status=200, fields=(("x-a", "v\n"),)), oc.Item("x-a"),
     "x-a: value has a newline or non-ASCII character"),
])
def test_component_errors(message, item, error):
    assert _usage(oc.component_value, message, item, error=oc.SignatureBaseError) == error


def test_dictionary_member_missing():
    message = oc.Message(status=200, fields=(("x-d", "a=1"),))
    item = oc.Item("x-d", {"key": "b"})
    assert _usage(oc.component_value, message, item, None, {"x-d": "dictionary"},
                  error=oc.SignatureBaseError) == "x-d: the dictionary has no member named by key"
    assert oc.component_value(message, oc.Item("x-d", {"key": "a"}), None,
                              {"x-d": "dictionary"}) == "1"


def test_field_values_strip_only_sp_and_htab():
    message = oc.Message(status=200, fields=(("x-a", " \tXvX\t "), ("x-a", "X")))
    assert oc.component_value(message, oc.Item("x-a")) == "XvX, X"


@pytest.mark.parametrize("item, value", [
    (oc.Item("@query-param", {"name": "a", "req": True}), "1"),
    (oc.Item("@path", {"req": True}), "/p"),
    (oc.Item("@status"), "200"),
])
def test_req_components_of_a_response(item, value):
    request = oc.request_message("GET", "https://a.example/p?a=1")
    assert oc.component_value(RESPONSE_XA, item, request) == value

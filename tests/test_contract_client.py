"""Contract details of the client (section 11) and the command line (section 12) that the
broader tests leave loose (found by mutation testing): --created reaching every signature,
argument validation messages, the transport mapping, response limits, the GnapAuth class and
exact CLI output."""
import json
import os
import time

import pytest
import requests
from conftest import KID, FakeAdapter, FakeResponse, fake_transport, run, write
from local_as import TENANT_ID

import op_continue as oc

FINISH_URI = "https://client.example/finish"
OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],
             "identifier": "https://wallet.example/alice",
             "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}}]
# a non-ASCII identifier: JSON output must carry it as UTF-8, not \u escapes
CAFE = [{"type": "incoming-payment", "actions": ["create", "read"],
         "identifier": "https://wallet.example/café"}]


def created_of(entry):
    """The created parameter of a request as the AS received it (RFC 9421 §2.3)."""
    return int(entry["headers"]["signature-input"].rsplit(";created=", 1)[1])


@pytest.fixture
def client(key):
    return oc.Client(key, KID, allow_http=True, timeout=5)


@pytest.fixture
def env(monkeypatch, keyfile):
    for name in ("CONTINUE_URI", "CONTINUE_ACCESS_TOKEN", "INTERACT_REF", "MANAGE_URL",
                 "ACCESS_TOKEN", "WALLET_ADDRESS", "FINISH_REDIRECT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def fake_client(key, response, **kwargs):
    client = oc.Client(key, KID, allow_http=True, **kwargs)
    return client, fake_transport(client, response)


# --- Client arguments (section 11) -----------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"key": "not a key"}, "key: expected a PrivateKey, not str; use load_private_key(path), "
                           "or PrivateKey.from_pem(text)"),
    ({"timeout": 0}, "timeout: expected seconds in (0, 600]"),
    ({"timeout": 600.5}, "timeout: expected seconds in (0, 600]"),
    ({"timeout": "5"}, "timeout: expected seconds in (0, 600]"),
    ({"timeout": True}, "timeout: expected seconds in (0, 600]"),  # a bool is no duration
    ({"max_response_bytes": 0}, "max_response_bytes: expected a positive integer"),
    ({"max_response_bytes": True}, "max_response_bytes: expected a positive integer"),
    ({"max_response_bytes": 2.0}, "max_response_bytes: expected a positive integer"),
])
def test_client_argument_messages(key, kwargs, message):
    args = {"key": key, **kwargs}
    with pytest.raises(oc.UsageError) as info:
        oc.Client(args.pop("key"), KID, **args)
    assert str(info.value) == message


def test_client_argument_bounds_and_defaults(key):
    assert oc.Client(key, KID, timeout=600).timeout == 600.0  # the bound is inclusive
    assert oc.Client(key, KID, max_response_bytes=1).max_response_bytes == 1
    client = oc.Client(key, KID)
    assert client.sleep is time.sleep and client.clock is time.monotonic
    with pytest.raises(oc.UsageError) as info:  # https only unless allow_http is given
        client.sign("POST", "http://127.0.0.1:9/x")
    assert str(info.value) == "URL: must use https (plain http only with allow_http)"


def test_poll_wait_defaults():
    # RFC 9635 §3.1: no wait -> 5 s; never a busy loop on "wait": 0
    assert [oc._poll_wait(w) for w in (None, 0, 1, 7)] == [5, 1, 1, 7]


# --- created reaches every signature (RFC 9421 §2.3), every method reaches the AS ---------------

def test_client_operations_sign_with_the_given_created(client, las):
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI, nonce=oc.new_nonce()),
        created=1_700_000_001)
    ref = oc.parse_finish_redirect(las.approve(grant.continue_.uri)).interact_ref
    done = client.continue_grant(grant.continue_.uri, grant.continue_.access_token, ref,
                                 created=1_700_000_002)
    new = client.rotate(done.access_token.manage, done.access_token.value,
                        created=1_700_000_003)
    client.revoke(new.manage, new.value, created=1_700_000_004)
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING)
    body["interact"] = {"start": ["redirect"]}
    pending = client.request_grant(las.grant_endpoint, body)
    assert client.poll(pending.continue_.uri, pending.continue_.access_token,
                       created=1_700_000_005).continue_ is not None
    client.cancel(pending.continue_.uri, pending.continue_.access_token, created=1_700_000_006)
    log = [e for e in las.requests_log if e["verification"]["checked"]]
    assert [(e["method"], e["status"]) for e in log] == [
        ("POST", 200), ("POST", 200), ("POST", 200), ("DELETE", 204), ("POST", 200),
        ("POST", 200), ("DELETE", 204)]
    assert [created_of(e) for i, e in enumerate(log) if i != 4] == [
        1_700_000_001, 1_700_000_002, 1_700_000_003, 1_700_000_004, 1_700_000_005,
        1_700_000_006]
    assert all(e["verification"]["ok"] for e in log)


def test_grant_errors_are_reported_not_crashed(client, key, las):
    # the secrets passed for redaction must be iterable for every operation (RFC 9635 §3.6)
    with pytest.raises(oc.GrantError) as info:
        oc.Client(key, "no-such-key", allow_http=True).request_grant(
            las.grant_endpoint, oc.grant_request_body(client=las.wallet, access=CAFE))
    assert (info.value.status, info.value.code) == (400, "invalid_client")
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI, nonce=oc.new_nonce()))
    with pytest.raises(oc.GrantError) as info:
        client.cancel(grant.continue_.uri, "WRONG" + grant.continue_.access_token)
    assert (info.value.status, info.value.code) == (401, "invalid_continuation")


# --- transport and response limits ----------------------------------------------------------

def test_transport_error_mapping():
    exchange = oc._Exchange()
    err = oc._transport_error(requests.exceptions.ConnectionError(), exchange)
    assert (err.request_sent, str(err)) == (False, "ConnectionError: could not connect; "
                                            "nothing was sent")
    exchange.sent = True  # a byte of the request left: whatever failed, it may have arrived
    err = oc._transport_error(requests.exceptions.SSLError(), exchange)
    assert (err.request_sent, str(err)) == (True, "SSLError: the request may have reached the "
                                            "server; an interact_ref sent with it may be spent")


def test_error_after_the_response_started_counts_as_sent(key):
    client, _ = fake_client(key, FakeResponse([b"{", requests.exceptions.SSLError()]))
    with pytest.raises(oc.TransportError) as info:
        client.poll("http://127.0.0.1:9/continue/1", "TOKEN")
    assert info.value.request_sent is True
    assert str(info.value) == ("SSLError: the request may have reached the server; an "
                               "interact_ref sent with it may be spent")


def test_body_size_limit_is_inclusive(key):
    body = b'{"access_token":{"value":"T","manage":"http://127.0.0.1:9/m","access":[]}}'
    client, session = fake_client(key, FakeResponse([body]), max_response_bytes=len(body),
                                  timeout=2.5)
    assert client.rotate("http://127.0.0.1:9/token/1", "OLD").value == "T"
    assert session.calls[0][0] == "POST" and session.calls[0][2]["timeout"] == 2.5
    client, _ = fake_client(key, FakeResponse([body]), max_response_bytes=len(body) - 1)
    with pytest.raises(oc.ResponseError) as info:
        client.rotate("http://127.0.0.1:9/token/1", "OLD")
    assert (info.value.path, info.value.status) == ("$", 200)
    assert str(info.value) == f"$: body exceeds {len(body) - 1} bytes"


@pytest.mark.parametrize("response, path, message", [
    (FakeResponse([b"[]"]), "$", "$: expected an object"),
    (FakeResponse([b'{"access_token":{"value":5}}']), "$.access_token.value",
     "$.access_token.value: expected a non-empty printable ASCII token"),
])
def test_rotate_response_paths(key, response, path, message):
    client, _ = fake_client(key, response)
    with pytest.raises(oc.ResponseError) as info:
        client.rotate("http://127.0.0.1:9/token/1", "OLD")
    assert (info.value.path, str(info.value)) == (path, message)


def test_grant_response_paths(key):
    client, _ = fake_client(key, FakeResponse([b'{"continue":5}']))
    with pytest.raises(oc.ResponseError) as info:
        client.poll("http://127.0.0.1:9/continue/1", "TOKEN")
    assert (info.value.path, str(info.value)) == ("$.continue", "$.continue: expected an object")


def test_error_without_content_type(key):
    client, _ = fake_client(key, FakeResponse([b"oops"], status=500, content_type=None))
    with pytest.raises(oc.ResponseError) as info:
        client.poll("http://127.0.0.1:9/continue/1", "TOKEN")
    assert str(info.value) == "HTTP 500 without a GNAP error object (unknown content)"


def test_error_description_is_printable_ascii(key):
    body = json.dumps({"error": {"code": "invalid_request",
                                 "description": "see ~alice\u00e9\n"}}).encode()
    client, _ = fake_client(key, FakeResponse([body], status=400))
    with pytest.raises(oc.GrantError) as info:
        client.poll("http://127.0.0.1:9/continue/1", "TOKEN")
    assert info.value.description == "see ~alice??"




# --- GnapAuth: an ordinary class, any callable being a requests auth ---------------------------

def test_gnapauth_is_an_ordinary_class_that_requests_calls():
    cls = vars(oc)["GnapAuth"]  # in the module's namespace from import, for dir() and pydoc
    assert (cls.__name__, cls.__qualname__, cls.__module__) == ("GnapAuth", "GnapAuth",
                                                                "op_continue")
    assert cls.__doc__.startswith("requests auth: ") and cls.__mro__ == (cls, object)
    prepared = requests.Request("GET", "https://rs.example/x", auth=cls(oc.PrivateKey.generate(),
                                                                        KID, "T")).prepare()
    assert prepared.headers["Authorization"] == "GNAP T"  # requests called it as the auth


@pytest.mark.parametrize("make, message", [
    (lambda key: requests.Request("GET", "http://127.0.0.1:9/x",
                                  auth=oc.GnapAuth(key, KID, "T")),
     "URL: must use https (plain http only with allow_http)"),
    (lambda key: requests.Request("POST", "https://rs.example/x", data="not json",
                                  auth=oc.GnapAuth(key, KID, "T")),
     "GnapAuth: the body must be JSON"),
    (lambda key: oc.GnapAuth(key, KID, "two words"),
     "access token: must be printable ASCII without spaces or control characters"),
])
def test_gnapauth_messages(key, make, message):
    with pytest.raises(oc.UsageError) as info:
        make(key).prepare()
    assert str(info.value) == message


def test_gnapauth_drops_a_stale_transfer_encoding(key):
    prepared = requests.Request("POST", "https://rs.example/x", data=b'{ "a": 1 }',
                                headers={"Transfer-Encoding": "chunked"},
                                auth=oc.GnapAuth(key, KID, "T")).prepare()
    assert "Transfer-Encoding" not in prepared.headers  # RFC 9112 §6.3: not with Content-Length
    assert (prepared.body, prepared.headers["Content-Length"]) == (b'{"a":1}', "7")


# --- the command line against the local AS (section 12) --------------------------------------

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
    env.setenv("CONTINUE_ACCESS_TOKEN", pending.continue_.access_token)
    assert run(capsys, "poll", "--allow-http", "--created", "1700000015")[0] == oc.EXIT_PENDING
    assert run(capsys, "cancel", "--allow-http", "--created", "1700000016") == (
        0, f"cancelled: the grant request at {pending.continue_.uri}\n", "")
    log = [e for e in las.requests_log if e["verification"]["checked"]]
    assert [(e["method"], e["status"]) for e in log] == [
        ("POST", 200), ("POST", 200), ("POST", 200), ("DELETE", 204), ("POST", 200),
        ("POST", 200), ("DELETE", 204)]
    assert [created_of(e) for i, e in enumerate(log) if i != 4] == [
        1700000011, 1700000012, 1700000013, 1700000014, 1700000015, 1700000016]


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
               str(bad)) == (2, "", "op-continue: error: access token: must be printable ASCII "
                                    "without spaces or control characters\n")


def test_cli_finish_redirect_file_and_hash_method(env, tmp_path, capsys):
    # RFC 9635 §4.2.3 with another hash method
    args = ["--client-nonce", "CN", "--server-nonce", "SN", "--grant-endpoint",
            "https://as.example/"]
    digest = oc.interaction_hash("CN", "SN", "REF-1", "https://as.example/", "sha-512")
    path = tmp_path / "redirect"
    path.write_text(f"{FINISH_URI}?hash={digest}&interact_ref=REF-1\n")
    assert run(capsys, "finish", "--redirect-file", str(path), *args,
               "--hash-method", "sha-512") == (0, "INTERACT_REF = REF-1\n", "")
    assert run(capsys, "finish", "--redirect-file", str(path), *args)[0] == oc.EXIT_INVALID


# --- offline commands: --scheme, --request, --label, --field-type ---------------------------

REQUEST = "POST /foo?a=1 HTTP/1.1\nHost: example.com\nX-Item:   \"abc\"  \n\n"
RESPONSE = "HTTP/1.1 200 OK\nContent-Type: text/plain\n\nhi"


@pytest.mark.parametrize("message, request_, params, expected", [
    (REQUEST, None, 'sig=("@target-uri");created=1',
     '"@target-uri": http://example.com/foo?a=1'),
    (RESPONSE, REQUEST, 'sig=("@target-uri";req);created=1',
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
    (RESPONSE, REQUEST, 'b=("@status" "@target-uri";req);created=1;keyid="k"',
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
    verify = ["verify", "--message", signed, "--key", jwks, *extra]
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

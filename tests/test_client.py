"""Section 12 of op_continue.py, the client (the only I/O): Client's arguments and operations
against the local Rafiki-like AS (tests/local_as.py) on loopback, every row of the Rafiki table
in the Open Payments notes, polling, the transport and its errors, reading an answer (status,
Content-Type, body limits, GNAP errors, secrets an AS echoes) and GnapAuth."""
import json
import subprocess
import sys
import time
from urllib.parse import quote, quote_plus

import pytest
import requests
from conftest import (
    CAFE,
    FINISH_URI,
    KEY,
    KID,
    NOW,
    OUTGOING,
    QUOTED,
    REF,
    ROOT,
    TOKEN,
    URI,
    FakeResponse,
    approve,
    canned,
    created_of,
    described,
    exact,
    fake_transport,
    no_secret,
    raised,
    start_grant,
)
from local_as import LocalAS

import op_continue as oc

INCOMING = [{"type": "incoming-payment", "actions": ["create", "read"]}]


class Clock:
    """A clock that moves only when set or slept on (its sleeps recorded)."""

    def __init__(self):
        self.now, self.sleeps = 1_700_000_000.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

# key and las (the local AS with a wallet for KID) come from conftest.py


def test_interactive_flow_end_to_end(client, las):
    grant, nonce = start_grant(client, las)
    assert grant.is_pending and not grant.is_finalized
    assert grant.interact.redirect.startswith(las.url + "/interact/")
    redirect = las.approve(grant.continue_.uri)
    finish = oc.parse_finish_redirect(redirect)
    assert "=" in finish.hash or "+" in finish.hash or "/" in finish.hash or len(finish.hash) == 44
    oc.verify_interaction_hash(finish.hash, nonce, grant.interact.finish, finish.interact_ref,
                               las.grant_endpoint)  # Rafiki's padded base64 is accepted
    done = client.continue_grant(grant.continue_.uri, grant.continue_.access_token_value,
                                 finish.interact_ref)
    assert done.is_finalized
    token = done.access_token
    assert token.access[0].type == "outgoing-payment"
    assert token.access[0].limits.debitAmount == oc.Amount("500", "USD", 2)
    assert token.manage.startswith(las.url + "/token/")
    assert token.expires_in == 600
    for entry in las.requests_log:
        assert entry["verification"]["ok"], entry["verification"]
        assert entry["verification"]["problems"] == []


def test_non_interactive_grant_is_finalized_at_once(client, las):
    grant, _ = start_grant(client, las, access=INCOMING, finish=False)
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=INCOMING))
    assert grant.is_finalized and grant.access_token.access[0].type == "incoming-payment"


@pytest.mark.req("RFC9635-4.2.3-2")
def test_hash_mismatch_refuses_to_continue(client, las):
    grant, nonce = start_grant(client, las)
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    with pytest.raises(oc.VerificationError, match="refusing"):
        oc.verify_interaction_hash(finish.hash, nonce + "x", grant.interact.finish,
                                   finish.interact_ref, las.grant_endpoint)


@pytest.mark.req("RFC9635-4.2.1-1")
def test_rejected_interaction(client, las):
    grant, _ = start_grant(client, las)
    with pytest.raises(oc.GrantError) as info:
        oc.parse_finish_redirect(las.reject(grant.continue_.uri))
    assert info.value.code == "grant_rejected"


@pytest.mark.parametrize("case, status, code", [
    ("reused interact_ref", 401, "request_denied"),
    ("unknown interact_ref", 404, "invalid_continuation"),
    ("wrong continue token", 401, "invalid_continuation"),
    ("cancelled grant", 401, "invalid_continuation"),
    ("key not in the JWKS", 401, "invalid_client"),
    ("unknown keyid", 400, "invalid_client"),
    ("poll a grant with finish", 401, "request_denied"),
])
@pytest.mark.req("RFC9635-5.4-2")
def test_rafiki_table(client, las, key, case, status, code):
    grant, ref = approve(client, las)
    uri, token = grant.continue_.uri, grant.continue_.access_token_value
    if case == "reused interact_ref":
        client.continue_grant(uri, token, ref)
        later = client.clock() + oc.DEFAULT_WAIT  # the answer gave no wait: 5 s (RFC 9635 §3.1)
        client.clock = lambda: later
    elif case == "unknown interact_ref":
        ref = "not-" + ref
    elif case == "wrong continue token":
        token = "WRONG" + token
    elif case == "cancelled grant":
        client.cancel(uri, token)
    elif case == "key not in the JWKS":
        client = oc.Client(oc.PrivateKey.generate(), KID, allow_http=True)
    elif case == "unknown keyid":
        client = oc.Client(key, "no-such-key", allow_http=True)
    with pytest.raises(oc.GrantError) as info:
        if case == "poll a grant with finish":
            client.poll(uri, token)
        else:
            client.continue_grant(uri, token, ref)
    assert (info.value.status, info.value.code) == (status, code)


@pytest.mark.req("RFC9635-3.6-2")
def test_too_fast_then_continue_after_wait(key):
    clock = Clock()
    with LocalAS(wait=5, clock=clock).start() as las:
        las.wallet = las.add_wallet("alice", oc.jwks({KID: key.public_key}))
        client = oc.Client(key, KID, allow_http=True)
        grant, ref = approve(client, las)
        assert grant.continue_.wait == 5
        with pytest.raises(oc.TooSoonError):  # this client saw the wait: it sends nothing
            client.continue_grant(grant.continue_.uri, grant.continue_.access_token_value, ref)
        other = oc.Client(key, KID, allow_http=True)  # one that did not see it (another process)
        with pytest.raises(oc.GrantError) as info:
            other.continue_grant(grant.continue_.uri, grant.continue_.access_token_value, ref)
        assert (info.value.status, info.value.code) == (400, "too_fast")
        clock.now += 5  # the interact_ref was not spent by the too_fast answer
        assert other.continue_grant(grant.continue_.uri, grant.continue_.access_token_value,
                                    ref).is_finalized


def test_poll_pending_grant_then_finalized(client, las):
    grant, _ = start_grant(client, las, finish=False)
    pending = client.poll(grant.continue_.uri, grant.continue_.access_token_value)
    assert not pending.is_finalized and not pending.is_pending
    assert pending.continue_.wait == 0
    las.approve(grant.continue_.uri)
    sleeps = []
    client.sleep = sleeps.append
    done = client.poll_until_done(pending.continue_, timeout=10)
    assert done.is_finalized and sleeps == [1]  # wait 0 is floored to MIN_POLL_INTERVAL


@pytest.mark.req("RFC9635-5-8")
def test_poll_until_done_returns_pending_at_deadline(client, las):
    grant, _ = start_grant(client, las, finish=False)
    now = [0.0]
    client.clock = lambda: now[0]

    def fake_sleep(seconds):
        now[0] += seconds

    client.sleep = fake_sleep
    cont = oc.Continue(grant.continue_.access_token_value, grant.continue_.uri, 3)
    before = len(las.requests_log)
    result = client.poll_until_done(cont, timeout=10)
    # first poll after the 3 s wait; the AS then says wait 0, floored to 1 s: t = 3, 4, ..., 10
    assert not result.is_finalized and now[0] == 10
    assert len(las.requests_log) - before == 8


def test_rejected_grant_poll_is_denied(client, las):
    grant, _ = start_grant(client, las, finish=False)
    las.reject(grant.continue_.uri)
    with pytest.raises(oc.GrantError) as info:
        client.poll(grant.continue_.uri, grant.continue_.access_token_value)
    assert info.value.code == "request_denied"


# --- the AS's wait and the end of the poll loop, against canned answers ------------------------

# a pending answer to a continuation at URI, as RFC 9635 §5.2's example: a new continuation
# token (the example's) and "wait": 30
NEXT = "33OMUKMKSKU80UPRY5NM"
PENDING = {"continue": {"access_token": {"value": NEXT}, "uri": URI, "wait": 30}}
TOO_FAST = {"error": {"code": "too_fast", "description": 'polled grant faster than "wait" period'}}
# RFC 9635 §6.1's access token, in the Open Payments shape (manage is a URL, on the origin of
# the continuation as the client requires; access is required)
TOKEN_JSON = {"value": "OS9M2PMHKUR64TB8N6BW7OZB8CDFONP219RP1LT0",
              "manage": "https://auth.example/token/PRY5NM33O", "access": OUTGOING}


@pytest.fixture
def clocked_client(client):
    """conftest's client on a Clock that moves only when set or slept on."""
    client.clock = Clock()
    client.sleep = client.clock.sleep
    return client


# RFC 9635 §5: no continuation request after an answer without a new continue
@pytest.mark.req("RFC9635-3.6-2", "RFC9635-5-9")
def test_poll_until_done_ends_at_too_fast(clocked_client, monkeypatch):
    client = clocked_client
    sent = canned(monkeypatch, (400, TOO_FAST), (200, PENDING), (200, PENDING))
    cont = oc.Continue(TOKEN, URI, 5)
    with pytest.raises(oc.GrantError) as info:
        client.poll_until_done(cont, timeout=100)
    assert (info.value.status, info.value.code) == (400, "too_fast")
    assert len(sent) == 1 and client.clock.sleeps == [5]  # one poll, after the wait, no more


# RFC 9635 §3.1, §5: the client waits the AS's wait before calling the continue URI again
@pytest.mark.parametrize("call", ["poll", "continue_grant", "cancel"])
@pytest.mark.req("RFC9635-5-5")
def test_a_client_does_not_call_a_continue_uri_before_the_wait(clocked_client, monkeypatch,
                                                               call):
    client = clocked_client
    sent = canned(monkeypatch, (200, PENDING), (200, PENDING), (204, None))
    client.poll(URI, TOKEN)
    calls = {"poll": lambda: client.poll(URI, NEXT),
             "continue_grant": lambda: client.continue_grant(URI, NEXT, "4IFWWIKYBC2PQ6U56NL1"),
             "cancel": lambda: client.cancel(URI, NEXT)}
    client.clock.now += 29.5
    with pytest.raises(oc.TooSoonError) as info:
        calls[call]()
    assert isinstance(info.value, oc.UsageError) and info.value.seconds == 0.5
    assert str(info.value) == ("continue URI: the AS's wait has 1 s left; nothing was sent "
                               "(RFC 9635 section 5: the client MUST NOT call the continuation "
                               "URI before waiting)")  # our wording, pinned
    assert NEXT not in str(info.value) and len(sent) == 1
    client.clock.now += 0.5
    calls[call]()
    assert len(sent) == 2


@pytest.mark.req("RFC9635-5-6")
def test_an_omitted_wait_is_five_seconds(clocked_client, monkeypatch):
    """RFC 9635 §3.1 (the answer of Rafiki's finalized continuation has no wait)."""
    client = clocked_client
    canned(monkeypatch, (200, {"continue": {"access_token": {"value": NEXT}, "uri": URI}}),
           (200, PENDING))
    client.poll(URI, TOKEN)
    with pytest.raises(oc.TooSoonError) as info:
        client.poll(URI, NEXT)
    assert info.value.seconds == oc.DEFAULT_WAIT == 5
    client.clock.now += 5
    assert client.poll(URI, NEXT).continue_.wait == 30


def test_a_wait_of_one_second_is_kept(clocked_client, monkeypatch):
    # pins the smallest wait the client keeps: 1 s (RFC 9635 §3.1: an integer number of seconds)
    client = clocked_client
    canned(monkeypatch, (200, {"continue": {"access_token": {"value": NEXT}, "uri": URI,
                                            "wait": 1}}), (200, PENDING))
    client.poll(URI, TOKEN)
    with pytest.raises(oc.TooSoonError) as info:
        client.poll(URI, NEXT)
    assert info.value.seconds == 1
    client.clock.now += 1
    assert client.poll(URI, NEXT).continue_.wait == 30


@pytest.mark.req("RFC9635-5-5")
def test_the_wait_belongs_to_the_uri_and_its_token(clocked_client, monkeypatch):
    """RFC 9635 §5: the AS tells grants apart by "the continuation URI and the continuation
    access token"; another grant on the same stable URI is not held back."""
    client = clocked_client
    sent = canned(monkeypatch, (200, PENDING), (200, PENDING))
    client.poll(URI, TOKEN)
    client.poll(URI, "another-grant-token")
    with pytest.raises(oc.TooSoonError):  # the grant the wait was given for
        client.poll(URI, NEXT)
    assert len(sent) == 2


@pytest.mark.req("RFC9635-5-5")
def test_poll_until_done_sleeps_the_wait_the_client_was_given(clocked_client, monkeypatch):
    """RFC 9635 §5: given a Continue with a shorter wait than the AS's answer said, it still
    waits the AS's."""
    client = clocked_client
    sent = canned(monkeypatch, (200, PENDING),
                  (200, {"access_token": TOKEN_JSON, "continue": PENDING["continue"]}))
    client.poll(URI, TOKEN)
    grant = client.poll_until_done(oc.Continue(NEXT, URI, 1), timeout=100)
    assert grant.is_finalized and client.clock.sleeps == [30] and len(sent) == 2


def test_poll_until_done_names_a_bad_continue_uri_while_a_wait_is_kept(clocked_client,
                                                                       monkeypatch):
    # pins the name of the URI in the refusal when a kept wait is looked up for a Continue
    # built by hand (a kept wait is looked up by the continue URI's normal form)
    client = clocked_client
    sent = canned(monkeypatch, (200, PENDING))
    client.poll(URI, TOKEN)
    with pytest.raises(oc.UsageError) as info:
        client.poll_until_done(oc.Continue(NEXT, URI + "#f", 1), timeout=100)
    assert str(info.value) == "continue URI: must not contain a fragment"
    assert len(sent) == 1 and client.clock.sleeps == []


@pytest.mark.req("RFC9635-6.1-3")
def test_rotate_and_revoke(client, las):
    grant, ref = approve(client, las)
    token = client.continue_grant(grant.continue_.uri, grant.continue_.access_token_value,
                                  ref).access_token
    new = client.rotate(token.manage, token.value)
    assert new.value != token.value and new.manage != token.manage
    with pytest.raises(oc.GrantError) as info:
        client.rotate(token.manage, token.value)
    assert (info.value.status, info.value.code) == (401, "invalid_client")
    assert client.revoke(new.manage, new.value) is None
    with pytest.raises(oc.GrantError):
        client.revoke(new.manage, new.value)


def test_gnap_auth_signs_any_request(key, las, client):
    import requests
    grant, ref = approve(client, las)
    auth = oc.GnapAuth(key, KID, grant.continue_.access_token_value, allow_http=True)
    assert not isinstance(auth, requests.auth.AuthBase)  # requests calls any callable auth
    # requests' own json= uses ", " separators: GnapAuth re-serializes compactly before signing
    response = requests.post(grant.continue_.uri, json={"interact_ref": ref}, auth=auth,
                             timeout=5)
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()
    assert las.requests_log[-1]["body"] == oc.continue_body(ref)


# --- the command line against the local AS ------------------------------------------------


@pytest.mark.req("RFC9635-5.1-1")
def test_continue_grant_without_interact_ref_refuses_before_any_io(key, monkeypatch):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    monkeypatch.delenv("INTERACT_REF", raising=False)
    message = str(raised(oc.UsageError, client.continue_grant, URI, TOKEN,
                         oc.os.environ.get("INTERACT_REF")))
    assert message == ("interact_ref: missing (None); continuing without one is polling: "
                       "use poll_request or Client.poll")
    assert adapter.calls == []  # nothing was sent, not even a poll
    assert TOKEN not in message


def test_import_leaves_requests_pynacl_and_argparse_unimported_and_gnapauth_visible(tmp_path):
    """GnapAuth is defined by the import itself (no PEP 562 __getattr__), so dir() and pydoc
    list it; requests, PyNaCl and argparse are still imported only when needed."""
    code = ("import sys, op_continue as oc\n"
            "loaded = {'requests', 'nacl', 'argparse'} & {m.split('.')[0] for m in sys.modules}\n"
            "assert not loaded, loaded\n"
            "import pydoc\n"
            "assert 'GnapAuth' in dir(oc) and 'GnapAuth' in vars(oc)\n"
            "assert 'class GnapAuth' in pydoc.render_doc(oc, renderer=pydoc.plaintext)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_gnapauth_given_a_key_path_says_to_load_it(tmp_path):
    path = tmp_path / "private.key"
    oc.PrivateKey.generate().write_pem(path)
    for wrong in (str(path), path, oc.PrivateKey.generate().to_pem()):
        assert str(raised(oc.UsageError, oc.GnapAuth, wrong, KID, TOKEN)) == (
            f"key: expected a PrivateKey, not {type(wrong).__name__}; use load_private_key(path), "
            "or PrivateKey.from_pem(text)")
    assert str(raised(oc.UsageError, oc.Client, str(path), KID)).startswith(
        "key: expected a PrivateKey, not str; ")


@pytest.mark.parametrize("args, kwargs, message", [
    ((KID, "two words"), {},
     "access token: must be printable ASCII without spaces or control characters"),
    (("a;b", TOKEN), {}, "key id must be printable ASCII without ';', '\"' or '\\'"),
    ((KID, TOKEN), {"origin": "https://rs.example/path"},
     "allowed origin: expected scheme://host[:port] only"),
    ((KID, TOKEN), {"origin": "http://rs.example"},
     "allowed origin: must use https (plain http only with allow_http)"),
    ((KID, TOKEN), {"allow_http": "yes"}, "allow_http: expected True or False"),
])
def test_gnapauth_checks_every_argument_when_made(key, args, kwargs, message):
    assert str(raised(oc.UsageError, oc.GnapAuth, key, *args, **kwargs)) == message


@pytest.mark.parametrize("quoted", [f'"{TOKEN}"', f"'{TOKEN}'", f'"{TOKEN}', f"{TOKEN}'"])
def test_a_quoted_token_is_refused_without_echoing_it(key, quoted):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    calls = [
        (lambda: client.continue_grant(URI, quoted, REF), "continue access token"),
        (lambda: client.poll(URI, quoted), "continue access token"),
        (lambda: client.cancel(URI, quoted), "continue access token"),
        (lambda: client.rotate("https://auth.example/token/1", quoted), "access token"),
        (lambda: client.revoke("https://auth.example/token/1", quoted), "access token"),
        (lambda: client.sign("POST", URI, access_token=quoted), "access token"),
        (lambda: oc.GnapAuth(key, KID, quoted), "access token"),
        (lambda: client.continue_grant(URI, TOKEN, quoted.replace(TOKEN, REF)), "interact_ref"),
        (lambda: oc.continue_body(quoted.replace(TOKEN, REF)), "interact_ref"),
    ]
    for call, what in calls:
        message = str(raised(oc.UsageError, call))
        assert message == f"{what}: {QUOTED}"
        assert TOKEN not in message and REF not in message
    assert adapter.calls == []


@pytest.mark.parametrize("value", ["X" + REF + "X", 'a"b', "a'b"])
def test_only_a_quote_mark_at_an_end_makes_a_value_quoted(value):
    assert json.loads(oc.continue_body(value)) == {"interact_ref": value}


def test_gnap_auth_is_a_named_class_of_this_module():
    cls = oc.GnapAuth
    assert (cls.__name__, cls.__module__) == ("GnapAuth", "op_continue")
    assert cls.__doc__ and "requests auth" in cls.__doc__
    assert vars(oc)["GnapAuth"] is cls and "GnapAuth" in dir(oc)  # defined, not built on use
    with pytest.raises(AttributeError, match="module 'op_continue' has no attribute 'Nope'"):
        oc.Nope  # noqa: B018


# a non-ASCII identifier: JSON output must carry it as UTF-8, not \u escapes


def fake_client(key, response, **kwargs):
    client = oc.Client(key, KID, allow_http=True, **kwargs)
    return client, fake_transport(client, response)


@pytest.mark.req("RFC9635-5-6")
def test_poll_wait_defaults():
    # RFC 9635 §3.1: no wait -> 5 s; never a busy loop on "wait": 0
    # private _poll_wait: the wait poll_until_done sleeps; the public loop shows only its sum
    assert [oc._poll_wait(w) for w in (None, 0, 1, 7)] == [5, 1, 1, 7]


def test_grant_errors_are_reported_not_crashed(client, key, las):
    # the secrets passed for redaction must be iterable for every operation (RFC 9635 §3.6)
    with pytest.raises(oc.GrantError) as info:
        oc.Client(key, "no-such-key", allow_http=True).request_grant(
            las.grant_endpoint, oc.grant_request_body(client=las.wallet, access=CAFE))
    assert (info.value.status, info.value.code) == (400, "invalid_client")
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI, nonce=oc.new_nonce()))
    with pytest.raises(oc.GrantError) as info:
        client.cancel(grant.continue_.uri, "WRONG" + grant.continue_.access_token_value)
    assert (info.value.status, info.value.code) == (401, "invalid_continuation")


def test_transport_error_mapping():
    # private _Exchange: the state _transport_error and the adapter read; no public way builds one
    exchange = oc._Exchange()
    # private _transport_error: maps each requests exception; a live one is not raised at will
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
@pytest.mark.req("RFC9635-3.2.1-1", "RFC9635-6.1-3")
def test_rotate_response_paths(key, response, path, message):
    client, _ = fake_client(key, response)
    with pytest.raises(oc.ResponseError) as info:
        client.rotate("http://127.0.0.1:9/token/1", "OLD")
    assert (info.value.path, str(info.value)) == (path, message)


@pytest.mark.req("RFC9635-6.1-5")
def test_invalid_rotation_returns_no_new_token(key):
    # RFC 9635 §6.1: the AS that will not rotate "responds with an invalid_rotation error", and
    # "the client instance MUST consider the access token to not have changed its state": rotate
    # raises that error and returns no token that could take the old one's place
    body = b'{"error": {"code": "invalid_rotation"}}'
    client, session = fake_client(key, FakeResponse([body], status=400))
    with pytest.raises(oc.GrantError) as info:
        client.rotate("http://127.0.0.1:9/token/1", "OLD")
    assert info.value.code == "invalid_rotation"
    assert [call[0] for call in session.calls] == ["POST"]


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


SECRET = "tok-SECRET"


JSON = "application/json"


GOOD = b'{"continue": 1}'


@pytest.mark.parametrize("status, ctype, data, empty, result", [
    (200, JSON, GOOD, False, {"continue": 1}),
    (200, "Application/JSON; charset=utf-8; x=y", GOOD, False, {"continue": 1}),
    (200, "application/problem+json", GOOD, False, {"continue": 1}),
    (200, " application/json ;charset=utf-8", b"[1]", False, [1]),
    (200, JSON, b"", True, None),         # RFC 9635 §5.4, §6.2: DELETE answers without a body
    (202, JSON, b"", True, None),
    (204, "", b"", True, None),
    (200, JSON, GOOD, True, None),         # the body of a DELETE answer is not needed
    (204, JSON, GOOD, True, None),
])
@pytest.mark.req("RFC9635-5.4-2", "RFC9635-6.2-2")
def test_interpret_success(status, ctype, data, empty, result):
    # private _interpret: reads every Client answer; alone, a case needs no transport
    assert oc._interpret(status, ctype, data, (SECRET,), empty) == result


@pytest.mark.parametrize("status, ctype, data, empty, expected", [
    # 3xx: never followed, whatever the body
    (300, JSON, GOOD, False, "unexpected redirect (HTTP 300); redirects are never followed"),
    (303, "text/html", b"<a>", True,
     "unexpected redirect (HTTP 303); redirects are never followed"),
    (399, JSON, b"", False, "unexpected redirect (HTTP 399); redirects are never followed"),
    # other 2xx and 1xx
    (299, JSON, GOOD, False, "unexpected HTTP status 299"),
    (201, JSON, GOOD, False, "unexpected HTTP status 201"),
    (201, JSON, b"", True, "unexpected HTTP status 201"),
    (203, JSON, b"", True, "unexpected HTTP status 203"),
    (202, JSON, GOOD, False, "unexpected HTTP status 202"),
    (199, JSON, GOOD, False, "unexpected HTTP status 199"),
    # 4xx/5xx without a GNAP error object: what the body was
    (400, JSON, b"{not json", False, "HTTP 400 without a GNAP error object (application/json)"),
    (500, "application/problem+json; charset=utf-8", b"{", False,
     "HTTP 500 without a GNAP error object (application/problem+json)"),
    (400, "text/html", b"<html>", False, "HTTP 400 without a GNAP error object (text/html)"),
    (401, JSON, b'{"foo": 1}', False, "HTTP 401 without a GNAP error object (JSON)"),
    (400, JSON, b'{"error": 5}', False, "HTTP 400 without a GNAP error object (JSON)"),
    (404, JSON, b"[]", True, "HTTP 404 without a GNAP error object (JSON)"),
    (503, "", b"", False, "HTTP 503 without a GNAP error object (unknown content)"),
    (500, "Text/Weird Type", b"x", False,
     "HTTP 500 without a GNAP error object (unknown content)"),
    (500, "text/tok-secret", b"x", False,
     "HTTP 500 without a GNAP error object (unknown content)"),  # a secret is never echoed
    # a 200 that carries an error member but no valid error object
    (200, JSON, b'{"error": {"code": "bad code!"}}', False,
     "HTTP 200 without a GNAP error object (JSON)"),
])
def test_interpret_refusals_name_the_status(status, ctype, data, empty, expected):
    # private _interpret: reads every Client answer; alone, a case needs no transport
    error = raised(oc.ResponseError, oc._interpret, status, ctype, data, (SECRET,), empty)
    assert described(error) == (expected, None, status)


@pytest.mark.parametrize("ctype, data, expected", [
    ("text/html; charset=utf-8", b"<html></html>",
     ("$: body is not JSON (Content-Type is not application/json)", "$", 200)),
    ("application/json; charset=utf-8; x=y; z", b"", ("$: empty body", "$", 200)),
    (JSON, b"{", ("$: body is not valid JSON", "$", None)),
    (JSON, b'{"a": 1, "a": 2}', ("$: body is not valid JSON: a member name occurs twice", "$",
                                 None)),
])
def test_interpret_body_refusals(ctype, data, expected):
    # private _interpret: reads every Client answer; alone, a case needs no transport
    assert described(raised(oc.ResponseError, oc._interpret, 200, ctype, data, (), False)) == \
        expected


@pytest.mark.parametrize("status, data, code, description", [
    (400, b'{"error": {"code": "invalid_request", "description": "no"}}',
     "invalid_request", "no"),
    (401, b'{"error": "invalid_client"}', "invalid_client", None),
    (200, b'{"error": {"code": "user_denied"}}', "user_denied", None),
    (400, b'{"error": {"description": "body.access_token is required"}}', "unknown",
     "body.access_token is required"),
    (403, b'{"error": {"code": "a-tok-SECRET-b", "description": "x tok-SECRET y"}}', "unknown",
     "x [secure] y"),
])
@pytest.mark.req("RFC9635-3.6-1", "RFC9635-5-4", "RFC9635-6.1-5")
def test_interpret_gnap_errors(status, data, code, description):
    with pytest.raises(oc.GrantError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(status, "application/json; charset=utf-8", data, (SECRET,), False)
    error = info.value
    assert (error.status, error.code, error.description) == (status, code, description)
    text = f"HTTP {status}: {code}" + (f": {description}" if description else "")
    assert str(error) == text


# An AS or proxy may echo what it received in another form: our secret must not get through in
# any letter case, nor percent-encoded as urllib's quote and quote_plus write it.
ECHO_SECRET = "Tok/en+x~Q"  # "/" "+" are encoded by quote_plus, "+" by quote, "~" by neither


ECHOES = [str.lower, str.upper, quote, quote_plus, lambda s: quote(s).lower(),
          lambda s: quote_plus(s).upper(), lambda s: quote(s, safe="")]


ECHO_IDS = ["lower", "upper", "quote", "quote_plus", "quote-lower", "quote_plus-upper",
            "quote-safe-none"]


@pytest.mark.parametrize("echo", ECHOES, ids=ECHO_IDS)
def test_redact_blanks_echoed_forms_of_a_secret(echo):
    assert echo(ECHO_SECRET) != ECHO_SECRET
    text = f"bad token {echo(ECHO_SECRET)}, ref {echo('ref-1')}."
    # private _redact: the redaction itself (an error shows it: test_interpret_blanks_...)
    assert oc._redact(text, ["", ECHO_SECRET, "ref-1"]) == "bad token [secure], ref [secure]."


def test_redact_blanks_the_longer_of_two_overlapping_secrets_whole():
    # private _redact: the redaction itself (an error shows it: test_interpret_blanks_...)
    assert oc._redact("x abcdef y", ["abc", "ABCDEF"]) == "x [secure] y"


@pytest.mark.parametrize("echo", ECHOES, ids=ECHO_IDS)
@pytest.mark.req("RFC9635-3.6-1")
def test_interpret_blanks_echoed_forms_of_a_secret(echo):
    body = json.dumps({"error": {"code": "invalid_client",
                                 "description": f"no grant for {echo(ECHO_SECRET)}"}})
    with pytest.raises(oc.GrantError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(401, JSON, body.encode(), ("ref-1", ECHO_SECRET), False)
    assert str(info.value) == "HTTP 401: invalid_client: no grant for [secure]"


@pytest.mark.parametrize("echo", [str.lower, str.upper])
def test_interpret_refuses_an_echoed_secret_as_code_or_media_type(echo):
    secret = "Ref-9x"  # what the code and media type patterns let through
    body = json.dumps({"error": {"code": f"bad-{echo(secret)}"}}).encode()
    with pytest.raises(oc.GrantError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(401, JSON, body, (secret,), False)
    assert str(info.value) == "HTTP 401: unknown"
    error = raised(oc.ResponseError, oc._interpret, 500, f"text/{echo(secret)}", b"x", (secret,),
                   False)
    assert described(error) \
        == ("HTTP 500 without a GNAP error object (unknown content)", None, 500)


@pytest.mark.parametrize("data, why", [
    (b"{", ""), (b"\xff", ""), (b"", ""), (b"[" * 100000, ""),
    (b'{"a":1,"a":2}', ": a member name occurs twice"),
    (b'{"x":{"a":1,"b":{},"a":2}}', ": a member name occurs twice"),
    (b"NaN", ": NaN is no JSON number"),
    (b"[1, -Infinity]", ": -Infinity is no JSON number"),
    (b'{"a": Infinity}', ": Infinity is no JSON number"),
])
def test_parse_json_refusals(data, why):
    assert described(raised(oc.ResponseError, oc.parse_json, data)) == \
        (f"$: body is not valid JSON{why}", "$", None)


def test_redact_skips_empty_secrets():
    # "".replace("", x) would insert x between every character; an empty secret is skipped.
    # private _redact: the redaction itself (an error shows it: test_interpret_blanks_...)
    assert oc._redact("a SECRET b", ["", "SECRET"]) == "a [secure] b"
    assert oc._redact("x" * 300 + "\n", []) == "x" * 200


def test_poll_until_done_reraises_other_grant_errors(client, las):
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI,
                                 nonce=oc.new_nonce())
    grant = client.request_grant(las.grant_endpoint, body)
    sleeps = []
    client.clock, client.sleep = (lambda: 0.0), sleeps.append
    with pytest.raises(oc.GrantError,
                       match=exact("HTTP 401: request_denied: grant cannot be polled")):
        client.poll_until_done(grant.continue_, timeout=10)
    assert sleeps == [1]  # wait 0 is floored at MIN_POLL_INTERVAL, then one poll, no retry


@pytest.mark.req("RFC9635-5-1", "RFC9635-7.2-3")
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


def _verify_prepared(prepared, required):
    msg = oc.request_message(prepared.method, prepared.url, prepared.headers.items(),
                             prepared.body or b"")
    return oc.verify_message(msg, KEY.public_key, required=required)


@pytest.mark.req("RFC9421-2.3-1", "RFC9421-2.5-s3")
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


@pytest.mark.parametrize("call, message", [
    (lambda c: c.request_grant("http://auth.example/", {}),
     "grant endpoint: must use https (plain http only with allow_http)"),
    (lambda c: c.continue_grant("https://auth.example/c/../x", TOKEN, REF),
     "continue URI: must be normalized (no dot segments, valid %-escapes)"),
    (lambda c: c.poll("auth.example/continue", TOKEN),
     "continue URI: must be an absolute URL with a host"),
    (lambda c: c.cancel(URI, None), "continue access token: must be a non-empty string"),
    (lambda c: c.continue_grant(URI, None, REF),
     "continue access token: must be a non-empty string"),
    (lambda c: c.rotate("https://auth.example/token#1", TOKEN),
     "manage URL: must not contain a fragment"),
    (lambda c: c.revoke("https://auth.example/token/1", ""), "access token: must be a non-empty "
                                                             "string"),
])
def test_client_operations_name_their_inputs(key, call, message):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    assert str(raised(oc.UsageError, call, client)) == message
    assert adapter.calls == []  # refused before any I/O: no token-less request either


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


def test_client_sign_passes_its_allow_http_and_the_given_created(key):
    # pins that Client.sign hands both to sign_request (a dropped one falls back to its default)
    signed = oc.Client(key, KID, allow_http=True).sign("POST", "http://127.0.0.1:9/x",
                                                        body=b"{}", created=1_700_000_000)
    assert signed.url == "http://127.0.0.1:9/x"
    signature_input = dict(signed.headers)["Signature-Input"]
    assert oc.parse_dictionary(signature_input)["sig1"].params["created"] == 1_700_000_000


@pytest.mark.req("RFC9421-2.3-2", "RFC9421-3.1-6", "RFC9635-5.4-1", "RFC9635-6.2-1",
                 "RFC9635-7.3.1-8")
def test_client_operations_sign_with_the_given_created(client, las):
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=OUTGOING, finish_uri=FINISH_URI, nonce=oc.new_nonce()),
        created=1_700_000_001)
    ref = oc.parse_finish_redirect(las.approve(grant.continue_.uri)).interact_ref
    done = client.continue_grant(grant.continue_.uri, grant.continue_.access_token_value, ref,
                                 created=1_700_000_002)
    new = client.rotate(done.access_token.manage, done.access_token.value,
                        created=1_700_000_003)
    client.revoke(new.manage, new.value, created=1_700_000_004)
    body = oc.grant_request_body(client=las.wallet, access=OUTGOING)
    body["interact"] = {"start": ["redirect"]}
    pending = client.request_grant(las.grant_endpoint, body)
    assert client.poll(pending.continue_.uri, pending.continue_.access_token_value,
                       created=1_700_000_005).continue_ is not None
    client.cancel(pending.continue_.uri, pending.continue_.access_token_value,
                  created=1_700_000_006)
    log = [e for e in las.requests_log if e["verification"]["checked"]]
    assert [(e["method"], e["status"]) for e in log] == [
        ("POST", 200), ("POST", 200), ("POST", 200), ("DELETE", 204), ("POST", 200),
        ("POST", 200), ("DELETE", 204)]
    assert [created_of(e) for i, e in enumerate(log) if i != 4] == [
        1_700_000_001, 1_700_000_002, 1_700_000_003, 1_700_000_004, 1_700_000_005,
        1_700_000_006]
    assert all(e["verification"]["ok"] for e in log)


# Pins a requirements-matrix row (tests/requirements.md) that no other test caught.
@pytest.mark.req("RFC9635-5-9")
def test_rfc9635_5_no_new_continue_means_no_more_polling():
    """RFC9635-5-9: "If the AS does not return a new continue response, the client instance MUST
    NOT make an additional continuation request". The answer is RFC 9635 §5.1's example without
    its access token (subject information only, no continue): one poll, then it is returned."""
    answer = b'{"subject": {"sub_ids": [{"format": "opaque", "id": "J2G8G8O4AZ"}]}}'
    client = oc.Client(KEY, "gap-key")
    adapter = fake_transport(client, FakeResponse([answer]))
    sleeps = []
    client.clock, client.sleep = (lambda: sum(sleeps)), sleeps.append
    cont = oc.Continue("80UPRY5NM33OMUKMKSKU", "https://server.example.com/continue", 5)
    grant = client.poll_until_done(cont, timeout=60)
    assert grant.subject == ("J2G8G8O4AZ",) and grant.continue_ is None
    assert len(adapter.calls) == 1 and sleeps == [5]

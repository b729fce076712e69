"""Fault injection against the local AS (tests/local_as.py) on 127.0.0.1 only, plus the bad
inputs this file adds to tests/test_errors.py (under "bad inputs beyond tests/test_errors.py").

For every fault: the right error type, the ``TransportError.request_sent`` flag (may an
interact_ref have been spent?), exactly one POST per continue_grant call (nothing is retried,
also with a caller-supplied requests.Session), and no secret (continue token, interact_ref) in
str/repr/args. Timeouts are small and every loop is bounded.

Tests headed "Regression (fixed)" pin bugs these tests found in op_continue.py, since fixed.
"""
import json
import socket
import threading
import time

import local_as
import pytest
import requests
from conftest import KID, no_secret, start_grant
from local_as import LocalAS

import op_continue as oc

TIMEOUT = 1.5  # the client's timeout in these tests, seconds (generous: CI machines are loaded)
QUOTE = [{"type": "quote", "actions": ["create", "read"]}]
TOKEN = "SECRET-CONTINUE-TOKEN-7"
REF = "SECRET-INTERACT-REF-7"


class FakeTime:
    """A clock that only moves when slept on; sleeping too often is a test failure, so a
    loop that never ends fails fast instead of hanging."""

    def __init__(self, start=None, max_sleeps=1000):
        self.now = time.time() if start is None else start
        self.sleeps = []
        self.max_sleeps = max_sleeps

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        assert len(self.sleeps) <= self.max_sleeps, "unbounded poll loop"
        self.now += seconds

# key and las (the local AS with a wallet for KID) come from conftest.py


def make_client(key, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return oc.Client(key, KID, allow_http=True, **kw)


def approved(client, las):
    """An interactive grant the user approved: (continue, interact_ref)."""
    grant = start_grant(client, las, QUOTE)[0]
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    return grant.continue_, finish.interact_ref


def posts_to(las, uri):
    path = uri.split(las.url, 1)[1]
    return [e for e in las.requests_log if e["method"] == "POST" and e["path"] == path]


# --- connection refused ---------------------------------------------------------------------

@pytest.mark.parametrize("with_session", [False, True])
def test_connection_refused_sends_nothing(key, with_session):
    # A bound but not listening socket: connect() is refused, and nobody else can take the port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        session = requests.Session() if with_session else None
        client = make_client(key, session=session)
        with pytest.raises(oc.TransportError) as info:
            client.continue_grant(f"http://127.0.0.1:{port}/continue/x", TOKEN, REF)
    assert info.value.request_sent is False
    assert "nothing was sent" in str(info.value)
    no_secret(info.value, TOKEN, REF)
    assert info.value.__cause__ is None and info.value.__context__ is None  # no request kept


# --- faults while the continuation is in flight ------------------------------------------------

# fault -> (error class, request_sent or None for "not a TransportError", message fragment)
FAULTS = {
    "reset": (oc.TransportError, True, "may have reached the server"),
    "reset_after": (oc.TransportError, True, "may have reached the server"),
    "hang": (oc.TransportError, True, "ReadTimeout"),
    "hang_after": (oc.TransportError, True, "ReadTimeout"),
    "500": (oc.ResponseError, None, "HTTP 500 without a GNAP error object (text/html)"),
    "html": (oc.ResponseError, None, "not JSON"),
    "redirect": (oc.ResponseError, None, "redirects are never followed"),
    "gzip_bomb": (oc.ResponseError, None, "compressed body refused"),
}


@pytest.mark.parametrize("with_session", [False, True], ids=["default-session", "own-session"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_continue_fault(key, las, fault, with_session):
    session = requests.Session() if with_session else None
    # the AS builds its 20 MB bomb on first use: more time there
    client = make_client(key, session=session, timeout=10 if fault == "gzip_bomb" else TIMEOUT)
    cont, ref = approved(client, las)
    secrets = (cont.access_token_value, ref)
    error, sent, fragment = FAULTS[fault]
    las.fault = fault
    start = time.monotonic()
    with pytest.raises(error) as info:
        client.continue_grant(cont.uri, cont.access_token_value, ref)
    elapsed = time.monotonic() - start
    assert fragment in str(info.value)
    no_secret(info.value, *secrets)
    assert info.value.__cause__ is None
    if sent is not None:
        assert info.value.request_sent is sent
    else:
        assert not isinstance(info.value, oc.TransportError)
    if fault.startswith("hang"):
        assert TIMEOUT * 0.9 <= elapsed < TIMEOUT + 2  # the read timeout, not the 60 s server
    else:
        assert elapsed < 5
    # exactly one POST reached the AS for this call: nothing was retried or redirected
    entries = posts_to(las, cont.uri)
    assert len(entries) == 1 and entries[0]["fault"] == fault
    assert not [e for e in las.requests_log if e["path"].startswith("/redirected")]
    if fault == "gzip_bomb":  # refused for its Content-Encoding, though far below the cap
        assert len(local_as._gzip_bomb_cache[0]) < client.max_response_bytes
    if sent:  # the AS finalized before resetting/hanging: the reference really is spent
        expect_spent = fault.endswith("_after")
        assert (las.grant(cont.uri).state == "finalized") is expect_spent
    if session is not None:
        session.close()


@pytest.mark.req("RFC9635-5.1-2", "RFC9635-5.1-3")
def test_spent_reference_is_reported_not_retried(key, las):
    """reset_after: the AS finalized the grant and then dropped the connection. The client says
    request_sent=True; a caller who retries anyway gets request_denied, never a second grant."""
    client = make_client(key)
    cont, ref = approved(client, las)
    las.fault = "reset_after"
    with pytest.raises(oc.TransportError) as info:
        client.continue_grant(cont.uri, cont.access_token_value, ref)
    assert info.value.request_sent is True
    with pytest.raises(oc.GrantError) as again:
        client.continue_grant(cont.uri, cont.access_token_value, ref)
    assert (again.value.status, again.value.code) == (401, "request_denied")
    no_secret(again.value, cont.access_token_value, ref)
    assert len(posts_to(las, cont.uri)) == 2  # one per call


@pytest.mark.parametrize("with_session", [False, True], ids=["default-session", "own-session"])
@pytest.mark.req("RFC9635-5.1-2")
def test_successful_continue_is_one_post(key, las, with_session):
    session = requests.Session() if with_session else None
    client = make_client(key, session=session)
    cont, ref = approved(client, las)
    grant = client.continue_grant(cont.uri, cont.access_token_value, ref)
    assert grant.is_finalized
    assert len(posts_to(las, cont.uri)) == 1
    assert posts_to(las, cont.uri)[0]["verification"]["ok"]


# Regression (fixed): used to fail: op_continue.Client.send: no overall deadline. requests' timeout
# bounds each socket read only and the deadline check runs after a whole 64 KiB chunk, so a server
# dripping a byte every 0.2 s holds the caller ~40 s with timeout=0.5
def test_drip_hits_the_overall_deadline(key, las):
    client = make_client(key)
    cont, ref = approved(client, las)
    outcome = []

    def call():
        try:
            client.continue_grant(cont.uri, cont.access_token_value, ref)
            outcome.append(None)
        except Exception as exc:  # collected for the assertions below
            outcome.append(exc)

    las.fault = "drip"
    start = time.monotonic()
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(TIMEOUT + 2.5)
    finished_in_time = not worker.is_alive()
    elapsed = time.monotonic() - start
    las.stop()  # ends the drip, so the worker ends too (bounded either way)
    worker.join(10)
    assert finished_in_time, f"still reading after {elapsed:.1f} s (timeout {TIMEOUT} s)"
    exc = outcome[0]
    assert isinstance(exc, oc.TransportError) and exc.request_sent is True
    no_secret(exc, cont.access_token_value, ref)
    assert len(posts_to(las, cont.uri)) == 1


# Regression (fixed): used to fail: op_continue.Client.send: a caller-supplied Session whose
# adapter retries POST (urllib3 Retry(allowed_methods=None)) re-sends the interact_ref; after
# reset_after the caller then sees request_denied instead of TransportError(request_sent=True).
# Now a Client never sends through a session's adapters, only with its verify/cert/proxies.
def test_session_that_retries_posts_is_not_used_to_send(key, las):
    from conftest import retry_policy
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry_policy(3, None)))
    client = make_client(key, session=session)
    cont, ref = approved(make_client(key), las)
    las.fault = "reset_after"
    try:
        with pytest.raises(oc.TransportError) as info:
            client.continue_grant(cont.uri, cont.access_token_value, ref)
        assert info.value.request_sent is True
        assert len(posts_to(las, cont.uri)) == 1
    finally:
        session.close()


# --- response size caps -----------------------------------------------------------------------

def test_plain_body_over_the_cap(key, las):
    client = make_client(key, max_response_bytes=64)
    with pytest.raises(oc.ResponseError, match="body exceeds 64 bytes"):
        start_grant(client, las, QUOTE)[0]
    assert len(las.requests_log) == 1


# --- too_fast storms and the poll loop ----------------------------------------------------------

def _recording_polls(client, ft):
    times = []
    poll = client.poll

    def recording(uri, token, created=None):
        times.append(ft.clock())
        return poll(uri, token, created)

    client.poll = recording
    return times


@pytest.mark.req("RFC9635-3.6-2", "RFC9635-5-9")
def test_too_fast_ends_the_poll_loop(key):
    """The AS's clock never moves, so the first poll is too_fast: an error answer carries no new
    continue, so the loop ends with that GrantError after one POST (RFC 9635 §5: "the client
    instance MUST NOT make an additional continuation request")."""
    ft = FakeTime()
    frozen = ft.now
    with LocalAS(wait=5, clock=lambda: frozen) as las:
        las.wallet = las.add_wallet("alice", oc.jwks({KID: key.public_key}))
        client = make_client(key)
        grant = start_grant(client, las, QUOTE, finish=False)[0]
        client.clock, client.sleep = ft.clock, ft.sleep
        times = _recording_polls(client, ft)
        t0 = ft.now
        with pytest.raises(oc.GrantError) as info:
            client.poll_until_done(grant.continue_, timeout=100)
        assert (info.value.status, info.value.code) == (400, "too_fast")
        assert ft.sleeps == [5] and [round(t - t0) for t in times] == [5]
        entries = posts_to(las, grant.continue_.uri)
        assert len(entries) == 1 and entries[0]["status"] == 400


@pytest.mark.req("RFC9635-3.6-2")
def test_a_wait_shorter_than_the_as_s_ends_at_its_too_fast(key):
    """The client starts with a wait shorter than the AS's (wait=1 vs 5): the one poll it sends
    is too_fast, and nothing follows it, not even after the AS's wait."""
    ft = FakeTime()
    with LocalAS(wait=5, clock=ft.clock) as las:
        las.wallet = las.add_wallet("alice", oc.jwks({KID: key.public_key}))
        client = make_client(key)
        grant = start_grant(client, las, QUOTE, finish=False)[0]
        client.clock, client.sleep = ft.clock, ft.sleep
        short = oc.Continue(grant.continue_.access_token_value, grant.continue_.uri, 1)
        with pytest.raises(oc.GrantError, match="too_fast"):
            client.poll_until_done(short, timeout=60)
        assert ft.sleeps == [1]
        assert [e["status"] for e in posts_to(las, grant.continue_.uri)] == [400]


def test_poll_deadline_shorter_than_wait_sends_nothing(key, las):
    client = make_client(key)
    grant = start_grant(client, las, QUOTE, finish=False)[0]
    ft = FakeTime()
    client.clock, client.sleep = ft.clock, ft.sleep
    cont = oc.Continue(grant.continue_.access_token_value, grant.continue_.uri, 30)
    result = client.poll_until_done(cont, timeout=29)
    assert result.continue_ == cont and ft.sleeps == []
    assert posts_to(las, grant.continue_.uri) == []


def test_poll_loop_is_bounded_when_the_as_says_wait_0(key, las):
    client = make_client(key)
    grant = start_grant(client, las, QUOTE, finish=False)[0]
    ft = FakeTime(max_sleeps=50)
    client.clock, client.sleep = ft.clock, ft.sleep
    result = client.poll_until_done(grant.continue_, timeout=20)  # the AS keeps saying wait 0
    assert not result.is_finalized
    assert ft.sleeps and min(ft.sleeps) >= 1 and len(ft.sleeps) <= 20
    assert len(posts_to(las, grant.continue_.uri)) == len(ft.sleeps)


def test_poll_fault_propagates_without_retry(key, las):
    client = make_client(key)
    grant = start_grant(client, las, QUOTE, finish=False)[0]
    ft = FakeTime()
    client.clock, client.sleep = ft.clock, ft.sleep
    las.fault = "reset"
    with pytest.raises(oc.TransportError) as info:
        client.poll_until_done(grant.continue_, timeout=60)
    assert info.value.request_sent is True
    no_secret(info.value, grant.continue_.access_token_value)
    assert len(posts_to(las, grant.continue_.uri)) == 1


# --- bad inputs beyond tests/test_errors.py -----------------------------------------------------

BIG_PORT = "1" * 5000  # more digits than int() converts (Python >= 3.11 int_max_str_digits)


# Regression (fixed): used to fail: op_continue._normalized_authority: int(port) on a >4300-digit
# port raises a bare ValueError, not UsageError
def test_huge_port_in_a_url_we_call(key):
    with pytest.raises(oc.UsageError):
        make_client(key).sign("POST", f"https://as.example:{BIG_PORT}/continue/1",
                              access_token=TOKEN)


# Regression (fixed): used to fail: op_continue._normalized_authority via _url: a huge port in a
# response URL escapes Grant.from_json as a bare ValueError, not ResponseError
def test_huge_port_in_a_response_url():
    doc = {"continue": {"access_token": {"value": "T"},
                        "uri": f"https://as.example:{BIG_PORT}/continue/1"}}
    with pytest.raises(oc.ResponseError, match=r"\$\.continue\.uri"):
        oc.Grant.from_json(doc)


# Regression (fixed): used to fail: op_continue._normalized_authority: a huge port makes
# verify_message raise a bare ValueError instead of VerificationError
def test_huge_port_in_a_verified_authority():
    private = oc.PrivateKey.generate()
    signed = oc.request_message("GET", "https://as.example/x")
    params = oc.signature_params(["@authority"], [("created", 1)])
    sig_input, sig = oc.sign_message(signed, private, params)
    received = oc.request_message("GET", f"https://as.example:{BIG_PORT}/x",
                                  [("Signature-Input", sig_input), ("Signature", sig)])
    with pytest.raises(oc.VerificationError):
        oc.verify_message(received, private.public_key)


# Regression (fixed): used to fail: op_continue.parse_message: str input with a lone surrogate
# raises UnicodeEncodeError, not UsageError
def test_parse_message_lone_surrogate():
    with pytest.raises(oc.UsageError):
        oc.parse_message("GET / HTTP/1.1\nHost: a\ud800\n\n")


# Regression (fixed): used to fail: op_continue.serialize_bare_item: float('nan') serializes as
# 'nan', which parses back as a Token
@pytest.mark.req("RFC8941-4.1.5-s1")
def test_serialize_nan_is_refused():
    with pytest.raises(oc.UsageError):
        oc.serialize_item(oc.Item(float("nan")))


@pytest.mark.req("RFC8941-4.1.5-s1")
def test_serialize_infinity_is_refused():
    for value in (float("inf"), float("-inf"), 1e12, -1e12):
        with pytest.raises(oc.UsageError, match="out of range"):
            oc.serialize_item(oc.Item(value))


# Regression (fixed): used to fail: op_continue._interpret: a GNAP error code is not redacted; an
# AS (or proxy) echoing the continue token as the code puts it in str(GrantError)
def test_error_code_echoing_the_token_is_redacted():
    body = json.dumps({"error": {"code": TOKEN}}).encode()
    with pytest.raises(oc.GrantError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(401, "application/json", body, (TOKEN, REF), False)
    no_secret(info.value, TOKEN, REF)


# Regression (fixed): used to fail: op_continue._interpret: the media type of a non-JSON error
# answer is shown unredacted; a lower-case secret sent back as Content-Type reaches
# str(ResponseError)
def test_content_type_echoing_a_secret_is_redacted():
    ref = "0b7e3c1a-5d2f-4e8a-9c6b-1f2e3d4c5b6a"  # what an interact_ref looks like (a UUID)
    with pytest.raises(oc.ResponseError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(500, ref, b"<html>", (TOKEN, ref), False)
    no_secret(info.value, ref)


@pytest.mark.parametrize("bad", [None, -1, 0, "1024", 1.5, True])
# Regression (fixed): used to fail: op_continue.Client.__init__: max_response_bytes is not
# validated (None fails later with TypeError, -1/0 refuse every body)
def test_bad_max_response_bytes(key, bad):
    with pytest.raises(oc.UsageError, match="max_response_bytes"):
        make_client(key, max_response_bytes=bad)


@pytest.mark.parametrize("bad", [0, -1, 601, float("nan"), float("inf"), "5", None])
def test_bad_client_timeouts(key, bad):
    with pytest.raises(oc.UsageError, match="timeout"):
        make_client(key, timeout=bad)


@pytest.mark.parametrize("bad", [None, "not a key", b"\x00" * 32])
def test_client_needs_a_private_key(bad):
    with pytest.raises(oc.UsageError, match="PrivateKey"):
        oc.Client(bad, KID)


# Regression (fixed): used to fail: op_continue.verify_message: a received Signature-Input with
# another alg raises UsageError (via _check_alg), though the docstring promises VerificationError
# on any failure
@pytest.mark.req("RFC9421-3.2-4")
def test_verify_foreign_alg_is_a_verification_error():
    private = oc.PrivateKey.generate()
    msg = oc.request_message("GET", "https://as.example/x")
    params = oc.signature_params(["@method"], [("created", 1)])
    sig_input, sig = oc.sign_message(msg, private, params)
    sig_input = sig_input.replace(";created=1", ';created=1;alg="hmac-sha256"')
    received = msg.with_fields([("Signature-Input", sig_input), ("Signature", sig)])
    with pytest.raises(oc.VerificationError):
        oc.verify_message(received, private.public_key)


@pytest.mark.parametrize("status, ctype, body, error, fragment", [
    (204, "application/json", b"", oc.ResponseError, "unexpected HTTP status 204"),
    (200, "application/json", b"[]", oc.ResponseError, "expected an object"),
    (200, "application/json", b'"just a string"', oc.ResponseError, "expected an object"),
    (200, "application/json; charset=utf-8", b"{}", oc.ResponseError, "expected access_token"),
    (200, "application/problem+json", b'{"error":"too_fast"}', oc.GrantError, "too_fast"),
    (503, "", b"", oc.ResponseError, "unknown content"),
    (500, "application/json", b"{broken", oc.ResponseError, "without a GNAP error object"),
    (200, "application/json", b'{"continue":{"access_token":{"value":"T"},'
     b'"uri":"https://as.example/c","wait":3601}}', oc.ResponseError, "0..3600"),
    (200, "application/json", b'{"continue":{"access_token":{"value":"T"},'
     b'"uri":"https://as.example/c","wait":1.5}}', oc.ResponseError, "integer"),
    (200, "application/json", b'{"continue":{"access_token":{"value":""},'
     b'"uri":"https://as.example/c"}}', oc.ResponseError, "non-empty"),
    (200, "application/json", b'{"interact":{"redirect":"https://as.example/i","finish":"n"}}',
     oc.ResponseError, "expected access_token"),
])
@pytest.mark.req("RFC9635-3.1-1")
def test_more_bad_responses(status, ctype, body, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        grant = oc._interpret(status, ctype, body, (TOKEN, REF), False)
        oc.Grant.from_json(grant)
    no_secret(info.value, TOKEN, REF)

"""The README's security claims against a hostile AS and a hostile environment, one test (or
group) per claim. Servers run on 127.0.0.1 only (tests/hostile.py, tests/local_as.py); the
floor-version leg of .ci/run runs this file too, with the oldest requests and urllib3 the
floors allow.

Each test names the claim it backs, as the README's "Security" section words it.
"""
import gzip
import os
import threading
import time

import pytest
import requests
from conftest import KID, exact
from hostile import CERT, HostileAS

import op_continue as oc

TOKEN = "SECRET-CONTINUE-TOKEN-9"
REF = "SECRET-INTERACT-REF-9"
TIMEOUT = 1.0
# what a still-pending continuation answer looks like (RFC 9635 §3.1); {uri} is filled in
PENDING = '{{"continue":{{"access_token":{{"value":"NEXT"}},"uri":"{uri}","wait":1}}}}'


def client(key, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    kwargs.setdefault("allow_http", True)
    return oc.Client(key, KID, **kwargs)


def clean_chain(exc):
    """No exception hangs on ours: the requests one would carry the request (token, body)."""
    assert exc.__context__ is None and exc.__cause__ is None
    for secret in (TOKEN, REF):
        assert secret not in f"{exc}|{exc!r}|{exc.args!r}|{vars(exc)!r}"


def https_proxy(monkeypatch, url):
    """The environment names ``url`` as the https proxy, with no NO_PROXY exception."""
    monkeypatch.setenv("HTTPS_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


def wait_for(condition, seconds):
    """Poll ``condition`` every 0.05 s until it holds or ``seconds`` pass; the caller asserts."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def tls_session():
    """A session that trusts the hostile AS's self-signed certificate (tests/tls)."""
    session = requests.Session()
    session.verify = CERT
    yield session
    session.close()


# --- "The overall deadline holds in every phase" ---------------------------------------------

@pytest.mark.parametrize("behaviour", ["drip_headers", "drip_body"])
def test_a_drip_ends_at_the_deadline_and_leaves_nothing_behind(key, behaviour):
    """A server that sends a byte every 0.1 s (in the headers, or in a body it announced at
    once) is cut off at the deadline: the call returns, its socket is closed (the server sees
    the hang-up), and no thread or file descriptor stays behind, call after call."""
    calls = 4
    with HostileAS(behaviour, pace=0.1) as server:
        c = client(key)
        threads, fds = threading.active_count(), open_fds()
        for _ in range(calls):
            start = time.monotonic()
            with pytest.raises(oc.TransportError) as info:
                c.continue_grant(server.url(), TOKEN, REF)
            elapsed = time.monotonic() - start
            assert TIMEOUT <= elapsed < TIMEOUT + 1.5
            assert str(info.value) == ("response too slow: deadline passed; the request may have "
                                       "reached the server; an interact_ref sent with it may be "
                                       "spent")
            assert info.value.request_sent is True
            clean_chain(info.value)
        # the server notices each hang-up at its next byte (0.1 s)
        wait_for(lambda: len(server.closed_by_client) == calls and server.serving == 0, 2.5)
        assert len(server.closed_by_client) == calls == server.connections
        assert threading.active_count() == threads
        assert open_fds() <= fds


def test_a_stalled_tls_handshake_ends_at_the_deadline(key, tls_session):
    with HostileAS("stall_tls", tls=True) as server:
        start = time.monotonic()
        with pytest.raises(oc.TransportError) as info:
            client(key, session=tls_session).continue_grant(server.url(), TOKEN, REF)
        assert time.monotonic() - start < TIMEOUT + 1.5
        assert info.value.request_sent is False  # no byte of the request left
        assert server.requests == []
        clean_chain(info.value)


# --- "request_sent is honest; nothing is ever re-sent" ---------------------------------------

@pytest.mark.parametrize("retry", [None, {"GET"}, {"GET", "POST"}])
def test_a_tls_failure_after_the_request_is_reported_as_possibly_sent(key, tls_session, retry):
    """The AS reads the whole request, then answers with bytes that are no TLS record. The
    request reached it, so request_sent is True; and whatever Retry the caller's session
    mounts (urllib3 counts this failure under "other"), the interact_ref is sent once."""
    from conftest import retry_policy
    from requests.adapters import HTTPAdapter

    if retry is not None:
        tls_session.mount("https://", HTTPAdapter(max_retries=retry_policy(3, retry)))
    with HostileAS("garbage_after_request", tls=True) as server:
        with pytest.raises(oc.TransportError) as info:
            client(key, session=tls_session).continue_grant(server.url(), TOKEN, REF)
        assert info.value.request_sent is True
        assert "may have reached the server" in str(info.value)
        assert len(server.requests) == 1 and server.connections == 1
        assert b'"interact_ref"' in server.requests[0]
        clean_chain(info.value)


def test_an_untrusted_certificate_sends_nothing(key):
    with HostileAS("ok", tls=True) as server:
        with pytest.raises(oc.TransportError) as info:
            client(key).continue_grant(server.url(), TOKEN, REF)
        assert info.value.request_sent is False
        assert str(info.value) == "SSLError: could not connect; nothing was sent"
        assert server.requests == []
        clean_chain(info.value)


# --- "URLs in a response are bound to the AS" ------------------------------------------------

def answer_with(server, body):
    server.answer = body.encode()


@pytest.mark.parametrize("elsewhere", [
    "https://169.254.169.254/latest/meta-data",  # a cloud metadata address
    "https://attacker.example/continue/1",
    "http://127.0.0.1:{other}/continue/1",  # the same host, another port: another origin
])
@pytest.mark.req("RFC9635-3.1-2")
def test_a_continue_uri_on_another_origin_is_refused(key, elsewhere):
    with HostileAS("ok") as server, HostileAS("ok") as other:
        uri = elsewhere.format(other=other.origin.rsplit(":", 1)[1])
        answer_with(server, PENDING.format(uri=uri))
        with pytest.raises(oc.ResponseError) as info:
            client(key).poll(server.url(), TOKEN)
        assert info.value.path == "$.continue.uri"
        assert str(info.value) == (f"$.continue.uri: expected a URL on the origin "
                                   f"{server.origin} (or an allowed origin)")
        assert uri not in str(info.value)
        assert other.connections == 0


def test_an_allowed_origin_is_accepted(key):
    with HostileAS("ok") as server:
        answer_with(server, PENDING.format(uri="https://as2.example/continue/9"))
        grant = client(key, allowed_origins=["https://as2.example"]).poll(server.url(), TOKEN)
        assert grant.continue_.uri == "https://as2.example/continue/9"
        same = PENDING.format(uri=server.url("/continue/2"))
        answer_with(server, same)
        assert client(key).poll(server.url(), TOKEN).continue_.uri == server.url("/continue/2")


@pytest.mark.parametrize("bad", ["https://as.example/path", "https://as.example/?q", "as.example",
                                 "http://as.example", "https://as.example#f"])
def test_allowed_origins_are_origins(key, bad):
    with pytest.raises(oc.UsageError):
        client(key, allow_http=False, allowed_origins=[bad])
    with pytest.raises(oc.UsageError, match=exact(
            "allowed_origins: expected a list of origins, not one string")):
        client(key, allowed_origins="https://as.example")


def test_a_loopback_http_origin_is_allowed_with_allow_http(key):
    assert client(key, allow_http=True, allowed_origins=["http://127.0.0.1:8000"]
                  ).allowed_origins == ("http://127.0.0.1:8000",)


@pytest.mark.req("RFC9635-3.1-2", "RFC9635-3.2.1-2")
def test_a_manage_url_on_another_origin_is_refused(key):
    token = ('{{"access_token":{{"value":"AT","manage":"{manage}","access":[]}}}}')
    with HostileAS("ok") as server:
        answer_with(server, token.format(manage="https://attacker.example/token/1"))
        with pytest.raises(oc.ResponseError) as info:
            client(key).continue_grant(server.url(), TOKEN, REF)
        assert info.value.path == "$.access_token.manage"
        with pytest.raises(oc.ResponseError) as info:  # and the manage URL of a rotated token
            client(key).rotate(server.url("/token/1"), TOKEN)
        assert info.value.path == "$.access_token.manage"
        answer_with(server, token.format(manage=server.url("/token/2")))
        assert client(key).rotate(server.url("/token/1"), TOKEN).manage == server.url("/token/2")
        # the origin is read up to the first "://": one in the path changes nothing
        answer_with(server, token.format(manage=server.url("/token/3/http://x")))
        assert client(key).rotate(server.url("/token/1"), TOKEN).manage == \
            server.url("/token/3/http://x")


@pytest.mark.parametrize("finish_uri", ["javascript:alert(1)", "http://client.example/finish",
                                        "https://client.example/finish#x", "ftp://a/b", ""])
@pytest.mark.req("RFC9635-2.5.2-1")
def test_a_finish_uri_is_checked_like_every_url(finish_uri):
    with pytest.raises(oc.UsageError, match="finish URI"):
        oc.grant_request_body(client="https://wallet.example/alice", access=[],
                              finish_uri=finish_uri, nonce="N")


def test_a_loopback_finish_uri_needs_allow_http():
    body = oc.grant_request_body(client="https://wallet.example/alice", access=[],
                                 finish_uri="http://localhost:3000/cb", nonce="N",
                                 allow_http=True)
    assert body["interact"]["finish"]["uri"] == "http://localhost:3000/cb"  # sent as given


# --- "The environment cannot weaken the client" ----------------------------------------------

@pytest.mark.parametrize("variable, value", [("CURL_CA_BUNDLE", ""),
                                             ("REQUESTS_CA_BUNDLE", ""),
                                             ("REQUESTS_CA_BUNDLE", CERT),
                                             ("CURL_CA_BUNDLE", CERT)])
def test_ca_variables_never_change_verification(key, monkeypatch, variable, value):
    """requests <= 2.27 turns verification off for CURL_CA_BUNDLE="" (the floor leg runs
    2.25); any version lets the variables replace the trust store. The Client reads neither."""
    monkeypatch.setenv(variable, value)
    with HostileAS("ok", tls=True) as server:
        with pytest.raises(oc.TransportError) as info:
            client(key).continue_grant(server.url(), TOKEN, REF)
        assert info.value.request_sent is False and server.requests == []


def test_a_sessions_verify_wins_over_the_environment(key, monkeypatch, tls_session):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", os.devnull)
    monkeypatch.setenv("CURL_CA_BUNDLE", os.devnull)
    with HostileAS("ok", tls=True) as server:
        answer_with(server, PENDING.format(uri=server.url("/continue/2")))
        grant = client(key, session=tls_session).poll(server.url(), TOKEN)
        assert grant.continue_.access_token_value == "NEXT"
        assert len(server.requests) == 1


def test_netrc_never_replaces_the_gnap_authorization(key, las, monkeypatch, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("default login alice password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    grant = client(key).request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=[{"type": "quote", "actions": ["read"]}],
        finish_uri="https://client.example/finish", nonce=oc.new_nonce()))
    client(key).cancel(grant.continue_.uri, grant.continue_.access_token_value)  # signed, with GNAP
    assert [e["status"] for e in las.requests_log] == [200, 204]
    authorizations = [e["headers"].get("authorization") for e in las.requests_log]
    assert authorizations[0] is None  # a grant request carries no token (RFC 9635 §7.3.1)
    assert all(a.startswith("GNAP ") for a in authorizations[1:])
    assert not any("Basic" in (a or "") for a in authorizations)


def test_no_cookie_is_kept_or_shared(key):
    with HostileAS("raw") as server:
        answer = PENDING.format(uri=server.url("/continue/2")).encode()
        # The raw server hangs up after each answer, so the answer says so: a pooled
        # connection whose close is still in flight would fail the next poll by a race.
        server.raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Connection: close\r\n"
                      b"Set-Cookie: sid=tracking; Path=/\r\nContent-Length: "
                      + str(len(answer)).encode() + b"\r\n\r\n" + answer)
        first, second = client(key), client(key)
        first.poll(server.url(), TOKEN)
        first.poll(server.url(), TOKEN)
        second.poll(server.url(), TOKEN)
        assert len(server.requests) == 3 and server.connections == 3
        assert not any(b"\r\ncookie:" in r.lower() for r in server.requests)


def test_a_proxy_variable_never_sees_a_loopback_http_request(key, las, monkeypatch):
    with HostileAS("ok") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.origin)
        monkeypatch.setenv("http_proxy", proxy.origin)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        grant = client(key).request_grant(las.grant_endpoint, oc.grant_request_body(
            client=las.wallet, access=[{"type": "quote", "actions": ["read"]}]))
        assert grant.continue_ is not None or grant.access_token is not None
        assert proxy.connections == 0


def test_proxy_settings_follow_the_session(monkeypatch):
    """For https, a session's proxies are used, and the environment's when it trusts it."""
    https_proxy(monkeypatch, "http://env-proxy.example:3128")
    url = "https://as.example/continue/1"
    # private _connection_settings: what the transport is given; a request would need a proxy
    assert oc._connection_settings(None, url)["proxies"]["https"] == \
        "http://env-proxy.example:3128"
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"https": "http://mine.example:8080"}
    session.cert = ("c.pem", "k.pem")
    assert oc._connection_settings(session, url) == {
        "verify": True, "cert": ("c.pem", "k.pem"),
        "proxies": {"https": "http://mine.example:8080"}}
    # a session trusting the environment keeps its own no_proxy, as requests does
    session = requests.Session()
    session.proxies = {"no_proxy": "as.example"}
    assert oc._connection_settings(session, url)["proxies"] == {"no_proxy": "as.example"}
    assert oc._connection_settings(session, "https://other.example/")["proxies"] == {
        "no_proxy": "as.example", "https": "http://env-proxy.example:3128"}


def test_a_call_in_progress_never_keeps_the_program_from_exiting(tmp_path):
    """The deadline's timer is a daemon thread: a program whose worker thread is in the middle
    of a call (a minute's timeout, against an AS that drips) exits when its main thread ends."""
    import subprocess
    import sys

    with HostileAS("drip_headers", pace=0.1, max_seconds=60) as server:
        script = tmp_path / "worker.py"
        script.write_text(
            "import threading, time\n"
            "import op_continue as oc\n"
            "c = oc.Client(oc.PrivateKey.generate(), 'k', timeout=60, allow_http=True)\n"
            f"call = lambda: c.continue_grant({server.url()!r}, 'token', 'ref')\n"
            "threading.Thread(target=call, daemon=True).start()\n"
            "time.sleep(0.5)\n")
        start = time.monotonic()
        here = os.path.dirname(oc.__file__)  # the op_continue this test imported
        done = subprocess.run([sys.executable, str(script)], timeout=30, capture_output=True,
                              env={**os.environ, "PYTHONPATH": here})
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - start < 10
        assert server.connections == 1


# --- "Decompression is bounded: a compressed answer is refused, never inflated" ---------------

def test_a_double_gzip_bomb_is_refused_unread(key):
    bomb = gzip.compress(gzip.compress(b"0" * (64 << 20)))  # 64 MiB behind a few hundred bytes
    with HostileAS("raw") as server:
        server.raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      b"Content-Encoding: gzip, gzip\r\nContent-Length: "
                      + str(len(bomb)).encode() + b"\r\n\r\n" + bomb)
        with pytest.raises(oc.ResponseError) as info:
            client(key).continue_grant(server.url(), TOKEN, REF)
        assert str(info.value) == ("$: compressed body refused (Content-Encoding; we asked for "
                                   "identity)")
        assert info.value.status == 200
        assert b"\r\nAccept-Encoding: identity\r\n" in server.requests[0]
        clean_chain(info.value)


@pytest.mark.parametrize("coding", [b"", b" Identity "])
def test_an_empty_or_identity_content_encoding_is_read_as_is(key, coding):
    with HostileAS("raw") as server:
        answer = PENDING.format(uri=server.url()).encode()
        server.raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding:"
                      + coding + b"\r\nContent-Length: " + str(len(answer)).encode()
                      + b"\r\n\r\n" + answer)
        grant = client(key).continue_grant(server.url(), TOKEN, REF)
        assert grant.continue_ is not None and grant.continue_.access_token_value == "NEXT"


def test_a_body_past_the_cap_is_refused_before_the_rest_arrives(key):
    """The body is read in bounded pieces: past max_response_bytes the client stops and hangs
    up, with the server still holding the rest back (it is never waited for, nor held whole)."""
    with HostileAS("burst") as server:
        start = time.monotonic()
        with pytest.raises(oc.ResponseError) as info:
            client(key, max_response_bytes=1000).continue_grant(server.url(), TOKEN, REF)
        assert time.monotonic() - start < TIMEOUT
        assert str(info.value) == "$: body exceeds 1000 bytes"
        assert info.value.status == 200
        clean_chain(info.value)
        wait_for(lambda: server.closed_by_client, 2.0)  # the server sees it at its next read
        assert len(server.closed_by_client) == 1


# --- "GnapAuth signs for one origin and never follows a redirect" ----------------------------

def test_gnapauth_refuses_another_origin(key):
    with HostileAS("ok") as mine, HostileAS("ok") as other:
        auth = oc.GnapAuth(key, KID, TOKEN, origin=mine.origin, allow_http=True)
        with pytest.raises(oc.UsageError) as info:
            requests.get(other.url("/x"), auth=auth, timeout=5)
        assert str(info.value) == (f"GnapAuth: bound to {mine.origin}; refusing to sign a "
                                   "request to another origin")
        assert other.connections == 0
        requests.get(mine.url("/x"), auth=auth, timeout=5)
        assert len(mine.requests) == 1


def test_gnapauth_as_session_auth_binds_to_its_first_origin(key):
    with HostileAS("ok") as mine, HostileAS("ok") as other, requests.Session() as session:
        session.auth = oc.GnapAuth(key, KID, TOKEN, allow_http=True)
        session.get(mine.url("/x"), timeout=5)
        assert session.auth.origin == mine.origin
        with pytest.raises(oc.UsageError):
            session.get(other.url("/x"), timeout=5)
        assert other.connections == 0


def test_gnapauth_never_follows_a_redirect(key):
    with HostileAS("raw") as mine, HostileAS("ok") as other:
        mine.raw = (b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + other.url("/x").encode()
                    + b"\r\nContent-Length: 0\r\n\r\n")
        auth = oc.GnapAuth(key, KID, TOKEN, allow_http=True)
        with pytest.raises(oc.ResponseError) as info:
            requests.post(mine.url("/x"), json={"a": 1}, auth=auth, timeout=5)
        assert info.value.status == 307
        assert str(info.value) == ("unexpected redirect (HTTP 307); a signed request is never "
                                   "re-sent")
        assert other.connections == 0


def test_an_https_proxy_from_the_environment_sees_only_connect(key, monkeypatch):
    """HTTPS_PROXY is honoured for https (documented): the proxy is asked to CONNECT and never
    sees the request, its token or its body; a refused tunnel means nothing was sent."""
    with HostileAS("raw") as proxy:
        proxy.raw = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
        https_proxy(monkeypatch, proxy.origin)
        c = client(key)
        for _ in range(2):  # the second request reuses the Client's proxy manager
            with pytest.raises(oc.TransportError) as info:
                c.continue_grant("https://as.example/continue/1", TOKEN, REF)
            assert info.value.request_sent is False
            clean_chain(info.value)
        assert [r.split(b" ")[:2] for r in proxy.requests] == [[b"CONNECT",
                                                                b"as.example:443"]] * 2
        assert not any(TOKEN.encode() in r or REF.encode() in r for r in proxy.requests)


def test_a_proxy_dripping_its_connect_answer_is_cut_off_at_the_deadline(key, monkeypatch):
    """The proxy's answer to CONNECT comes a byte every 0.1 s, each well within the socket
    timeout, so only the deadline can end it: the socket is handed to the exchange as soon as it
    is made, before the tunnel (pins _TrackedConnection._new_conn's report)."""
    with HostileAS("drip_connect", pace=0.1) as proxy:
        https_proxy(monkeypatch, proxy.origin)
        start = time.monotonic()
        with pytest.raises(oc.TransportError) as info:
            client(key).continue_grant("https://as.example/continue/1", TOKEN, REF)
        assert TIMEOUT <= time.monotonic() - start < TIMEOUT + 1.5  # the answer takes 3.9 s
        assert str(info.value) == "response too slow: deadline passed; nothing was sent"
        assert info.value.request_sent is False
        assert [r.split(b" ")[:2] for r in proxy.requests] == [[b"CONNECT", b"as.example:443"]]
        clean_chain(info.value)


def test_a_request_sent_through_a_proxy_tunnel_is_reported_as_possibly_sent(key, monkeypatch,
                                                                             tls_session):
    """Through an HTTPS_PROXY's tunnel, the CONNECT is not the request, but the request sent
    through the tunnel after it is: when the AS then hangs up unanswered, request_sent is True."""
    # pins that the CONNECT's bytes stop counting as the proxy's once the tunnel is up
    with HostileAS("tunnel") as proxy:
        https_proxy(monkeypatch, proxy.origin)
        with pytest.raises(oc.TransportError) as info:
            client(key, session=tls_session).continue_grant("https://localhost/continue/1",
                                                            TOKEN, REF)
        assert info.value.request_sent is True
        assert "may have reached the server" in str(info.value)
        assert [r.split(b" ")[:2] for r in proxy.requests] == [[b"CONNECT", b"localhost:443"],
                                                               [b"POST", b"/continue/1"]]
        clean_chain(info.value)


def test_a_client_closes_its_connections(key, las):
    with client(key) as c:
        c.request_grant(las.grant_endpoint, oc.grant_request_body(
            client=las.wallet, access=[{"type": "quote", "actions": ["read"]}]))
        assert c._adapter is not None
    assert c._adapter is None  # closed; a new request would open a new pool
    c.close()  # closing twice is fine


def test_a_socket_added_after_the_deadline_is_shut_at_once():
    import socket

    # private _Exchange: the state _transport_error and the adapter read; no public way builds one
    exchange = oc._Exchange()
    exchange.expire()
    mine, peer = socket.socketpair()
    with mine, peer:
        exchange.add(type("Connection", (), {"_op_socket": mine})())
        assert peer.recv(1) == b""  # shut down: the peer reads the end at once
    # private _shutdown: closing a socket that is already closed; no public path reaches that case
    oc._shutdown(mine)  # a closed socket: nothing to do, and no error


def test_the_adapter_outside_a_client_tracks_nothing(key, las):
    """The connection hooks only report to the exchange of the thread's Client.send; used on
    its own, in a thread that never sent through a Client or in one after a Client's call, the
    adapter is requests' plain one."""
    import requests

    # private _adapter_class: the adapter Client sends through; needed to hand it a socket directly
    adapter = oc._adapter_class()()
    prepared = requests.Request("GET", las.url + "/nothing").prepare()
    statuses = []
    thread = threading.Thread(target=lambda: statuses.append(
        adapter.send(prepared, timeout=5).status_code))
    thread.start()
    thread.join(10)
    assert statuses == [404]
    with pytest.raises(oc.GrantError):  # a Client's call in this thread, answered 404
        client(key).poll(las.url + "/nothing", TOKEN)
    assert adapter.send(prepared, timeout=5).status_code == 404
    adapter.close()


@pytest.mark.req("RFC9635-3.1-2")
def test_the_cli_accepts_another_origin_only_when_named(key, tmp_path, monkeypatch, capsys):
    from conftest import run

    path = tmp_path / "key.pem"
    key.write_pem(path)
    with HostileAS("ok") as server:
        answer_with(server, PENDING.format(uri="https://as2.example/continue/9"))
        monkeypatch.setenv("PRIVATE_KEY_PATH", str(path))
        monkeypatch.setenv("KEY_ID", KID)
        monkeypatch.setenv("CONTINUE_URI", server.url())
        monkeypatch.setenv("CONTINUE_ACCESS_TOKEN", TOKEN)
        code, out, err = run(capsys, "poll", "--allow-http")
        assert (code, out) == (oc.EXIT_RESPONSE_ERROR, "")
        assert "$.continue.uri: expected a URL on the origin" in err
        code, out, _ = run(capsys, "poll", "--allow-http", "--allow-origin", "https://as2.example")
        assert code == oc.EXIT_PENDING
        assert "CONTINUE_URI = https://as2.example/continue/9" in out.splitlines()

"""Tests of tests/local_as.py itself, with a tiny hand-written signer (PyNaCl, not op_continue)."""
import base64
import hashlib
import json
import pathlib
import socket
import sys
import threading
import time
import urllib.parse

import nacl.signing
import pytest
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "interop"))
from local_as import LocalAS, finish_hash
from peers import require_node, run_peer

FINISH_URI = "https://client.example/finish"
CLIENT_NONCE = "client-nonce-123"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Client:
    """Signs requests the way the official SDK does (keyid then created, sig1, sha-512)."""

    def __init__(self, wallet: str, key: nacl.signing.SigningKey, kid: str) -> None:
        self.wallet, self.key, self.kid = wallet, key, kid
        self.http = requests.Session()

    def send(self, method, url, *, body=None, token=None, raw=None, created=None, key=None,
             kid=None, components=None, digest_over=None, drop=(), timeout=5):
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        comps = ["@method", "@target-uri"]
        if token is not None:
            headers["Authorization"] = f"GNAP {token}"
            comps.append("authorization")
        data = raw
        if data is None and body is not None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        if data is not None:
            digest_input = data if digest_over is None else digest_over
            headers["Content-Digest"] = f"sha-512=:{b64(hashlib.sha512(digest_input).digest())}:"
            headers["Content-Length"] = str(len(data))
            comps += ["content-digest", "content-length", "content-type"]
        comps = components or comps
        created = int(time.time()) if created is None else created
        params = f'({" ".join(chr(34) + c + chr(34) for c in comps)});keyid="{kid or self.kid}"' \
                 f";created={created}"
        values = {"@method": method, "@target-uri": url}
        values.update((k.lower(), v) for k, v in headers.items())
        lines = [f'"{c}": {values[c]}' for c in comps]
        lines.append(f'"@signature-params": {params}')
        sig = (key or self.key).sign("\n".join(lines).encode()).signature
        headers["Signature-Input"] = f"sig1={params}"
        headers["Signature"] = f"sig1=:{b64(sig)}:"
        for name in drop:
            headers.pop(name, None)
        return self.http.request(method, url, headers=headers, data=data, timeout=timeout,
                                 allow_redirects=False)


def jwk_of(key: nacl.signing.SigningKey, kid: str) -> dict:
    return {"alg": "EdDSA", "kid": kid, "kty": "OKP", "crv": "Ed25519",
            "x": b64url(bytes(key.verify_key))}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def srv(clock):
    with LocalAS(clock=clock) as s:
        yield s


@pytest.fixture
def client(srv):
    key = nacl.signing.SigningKey.generate()
    wallet = srv.add_wallet("alice", {"keys": [jwk_of(key, "k1")]})
    c = Client(wallet, key, "k1")
    yield c
    c.http.close()


def grant_body(client, *, finish=True, kind="outgoing-payment", interact=True):
    access = {"type": kind, "actions": ["create", "read"], "identifier": client.wallet}
    if kind == "outgoing-payment":
        access["limits"] = {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}
    body = {"access_token": {"access": [access]}, "client": client.wallet}
    if interact:
        body["interact"] = {"start": ["redirect"]}
        if finish:
            body["interact"]["finish"] = {"method": "redirect", "uri": FINISH_URI,
                                          "nonce": CLIENT_NONCE}
    return body


def new_grant(srv, client, **kw):
    r = client.send("POST", srv.grant_endpoint, body=grant_body(client, **kw))
    assert r.status_code == 200, r.text
    return r.json()


def ref_from(redirect: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)["interact_ref"][0]


def err(r):
    assert r.headers["Content-Type"] == "application/json"
    return r.status_code, r.json()["error"].get("code")


# ---------------------------------------------------------------------------------------------

def test_wallet_documents(srv, client):
    doc = requests.get(client.wallet, timeout=5).json()
    assert doc == {"id": client.wallet, "publicName": "alice", "assetCode": "USD",
                   "assetScale": 2, "authServer": srv.grant_endpoint,
                   "resourceServer": srv.url + "/rs"}
    assert requests.get(client.wallet + "/jwks.json", timeout=5).json()["keys"][0]["kid"] == "k1"
    assert srv.grant_endpoint == f"{srv.url}/{srv.tenant_id}"


def test_grant_request_interactive_and_not(srv, client):
    g = new_grant(srv, client)
    gid = g["continue"]["uri"].rsplit("/", 1)[1]
    assert g["continue"]["uri"] == f"{srv.url}/continue/{gid}"
    assert g["continue"]["wait"] == 0
    assert g["interact"]["redirect"] == f"{srv.url}/interact/{gid}/{g['interact']['finish']}"
    assert set(g) == {"interact", "continue"}
    entry = srv.requests_log[-1]
    assert entry["verification"]["ok"] and entry["verification"]["problems"] == []
    assert entry["verification"]["components"] == [
        "@method", "@target-uri", "content-digest", "content-length", "content-type"]

    quote = new_grant(srv, client, kind="quote", interact=False)
    assert set(quote) == {"access_token", "continue"}
    assert quote["access_token"]["manage"].startswith(srv.url + "/token/")
    assert quote["access_token"]["access"][0]["type"] == "quote"

    r = client.send("POST", srv.grant_endpoint, body=grant_body(client, interact=False))
    assert err(r) == (400, "invalid_request")


def test_approve_continue_and_reuse(srv, client):
    g = new_grant(srv, client)
    redirect = srv.approve(g["continue"]["uri"])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)
    assert redirect.startswith(FINISH_URI + "?hash=")
    ref = q["interact_ref"][0]
    assert q["hash"][0] == finish_hash(CLIENT_NONCE, g["interact"]["finish"], ref,
                                       srv.grant_endpoint)
    expected = hashlib.sha256(f"{CLIENT_NONCE}\n{g['interact']['finish']}\n{ref}\n"
                              f"{srv.grant_endpoint}".encode()).digest()
    assert q["hash"][0] == base64.b64encode(expected).decode()  # padded standard base64

    token = g["continue"]["access_token"]["value"]
    r = client.send("POST", g["continue"]["uri"], body={"interact_ref": ref}, token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    at = body["access_token"]
    assert at["expires_in"] == 600 and at["manage"].startswith(srv.url + "/token/")
    assert at["access"] == grant_body(client)["access_token"]["access"]
    assert body["continue"] == {"access_token": {"value": token}, "uri": g["continue"]["uri"]}
    assert srv.requests_log[-1]["verification"]["problems"] == []

    r = client.send("POST", g["continue"]["uri"], body={"interact_ref": ref}, token=token)
    assert err(r) == (401, "request_denied")


def test_too_fast_and_unknown_ref(clock, client, srv):
    srv.wait = 5
    g = new_grant(srv, client)
    ref = ref_from(srv.approve(g["continue"]["uri"]))
    uri, token = g["continue"]["uri"], g["continue"]["access_token"]["value"]
    assert err(client.send("POST", uri, body={"interact_ref": "nope"}, token=token)) == \
        (404, "invalid_continuation")  # checked before the wait
    clock.now += 4
    assert err(client.send("POST", uri, body={"interact_ref": ref}, token=token)) == \
        (400, "too_fast")
    clock.now += 1  # too_fast did not restart the wait
    assert client.send("POST", uri, body={"interact_ref": ref}, token=token).status_code == 200


def test_wrong_token_and_signature_failures(srv, client):
    g = new_grant(srv, client)
    ref = ref_from(srv.approve(g["continue"]["uri"]))
    uri, token = g["continue"]["uri"], g["continue"]["access_token"]["value"]
    body = {"interact_ref": ref}
    assert err(client.send("POST", uri, body=body, token="WRONG")) == \
        (401, "invalid_continuation")
    other = nacl.signing.SigningKey.generate()
    assert err(client.send("POST", uri, body=body, token=token, key=other)) == \
        (401, "invalid_client")  # kid known, but not this key
    assert err(client.send("POST", uri, body=body, token=token, kid="k9")) == \
        (400, "invalid_client")  # unknown keyid
    assert err(client.send("POST", uri, body=body, token=token, drop=("Signature",))) == \
        (401, "invalid_client")
    no_auth = ["@method", "@target-uri", "content-digest", "content-length", "content-type"]
    assert err(client.send("POST", uri, body=body, token=token, components=no_auth)) == \
        (401, "invalid_client")
    assert srv.requests_log[-1]["verification"]["reason"] == \
        "authorization is sent but not covered"
    assert err(client.send("POST", uri, body=body, token=token, created="1.5")) == \
        (401, "invalid_client")
    assert "created" in srv.requests_log[-1]["verification"]["reason"]
    # none of the failures consumed anything
    assert client.send("POST", uri, body=body, token=token).status_code == 200


def test_digest_of_non_compact_body(srv, client):
    g = new_grant(srv, client)
    ref = ref_from(srv.approve(g["continue"]["uri"]))
    uri, token = g["continue"]["uri"], g["continue"]["access_token"]["value"]
    spaced = json.dumps({"interact_ref": ref}).encode()  # ", " and ": " separators
    assert err(client.send("POST", uri, raw=spaced, token=token)) == (401, "invalid_client")
    assert "content-digest" in srv.requests_log[-1]["verification"]["reason"]
    # Rafiki accepts spaced bytes whose digest is of the compact form; we accept and note it
    compact = json.dumps({"interact_ref": ref}, separators=(",", ":")).encode()
    r = client.send("POST", uri, raw=spaced, token=token, digest_over=compact)
    assert r.status_code == 200, r.text
    assert any("Content-Digest" in p for p in srv.requests_log[-1]["verification"]["problems"])


def test_poll(srv, client):
    with_finish = new_grant(srv, client)
    r = client.send("POST", with_finish["continue"]["uri"],
                    token=with_finish["continue"]["access_token"]["value"])
    assert err(r) == (401, "request_denied")
    assert srv.requests_log[-1]["verification"]["components"] == \
        ["@method", "@target-uri", "authorization"]

    g = new_grant(srv, client, finish=False)
    uri, token = g["continue"]["uri"], g["continue"]["access_token"]["value"]
    for body in (None, {}):
        r = client.send("POST", uri, body=body, token=token)
        assert r.status_code == 200 and r.json() == {
            "continue": {"access_token": {"value": token}, "uri": uri, "wait": 0}}
    assert srv.approve(uri) == ""
    r = client.send("POST", uri, token=token)
    assert r.status_code == 200 and r.json()["access_token"]["value"]
    assert err(client.send("POST", uri, token=token)) == (401, "request_denied")

    rejected = new_grant(srv, client, finish=False)
    srv.reject(rejected["continue"]["uri"])
    assert err(client.send("POST", rejected["continue"]["uri"],
                           token=rejected["continue"]["access_token"]["value"])) == \
        (401, "request_denied")


def test_cancel(srv, client):
    g = new_grant(srv, client)
    uri, token = g["continue"]["uri"], g["continue"]["access_token"]["value"]
    r = client.send("DELETE", uri, token=token)
    assert r.status_code == 204 and r.content == b""
    assert err(client.send("POST", uri, token=token)) == (401, "invalid_continuation")
    with pytest.raises(ValueError, match="revoked"):
        srv.reject(uri)


def test_rotate_and_revoke(srv, client):
    g = new_grant(srv, client)
    ref = ref_from(srv.approve(g["continue"]["uri"]))
    at = client.send("POST", g["continue"]["uri"], body={"interact_ref": ref},
                     token=g["continue"]["access_token"]["value"]).json()["access_token"]
    r = client.send("POST", at["manage"], token=at["value"])
    assert r.status_code == 200, r.text
    new = r.json()["access_token"]
    assert new["value"] != at["value"] and new["manage"] != at["manage"]
    assert err(client.send("POST", at["manage"], token=at["value"])) == (401, "invalid_client")
    assert client.send("DELETE", new["manage"], token=new["value"]).status_code == 204
    assert err(client.send("DELETE", new["manage"], token=new["value"])) == \
        (401, "invalid_client")


def test_browser_interaction_routes(srv, client):
    g = new_grant(srv, client)
    page = requests.get(g["interact"]["redirect"], timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    r = requests.get(g["interact"]["redirect"] + "/finish?decision=accept", timeout=5,
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith(FINISH_URI + "?hash=")
    g2 = new_grant(srv, client)
    r = requests.get(g2["interact"]["redirect"] + "/finish?decision=reject", timeout=5,
                     allow_redirects=False)
    assert r.headers["Location"] == FINISH_URI + "?result=grant_rejected"
    with pytest.raises(ValueError, match="not pending"):
        srv.approve(g2["continue"]["uri"])


def test_approve_and_reject_from_the_command_line(srv, client, capsys):
    """`python tests/local_as.py approve|reject INTERACT_REDIRECT` plays the user and prints
    the finish redirect (the README's shell flow uses it)."""
    import local_as

    g = new_grant(srv, client)
    assert local_as.main(["approve", g["interact"]["redirect"]]) == 0
    redirect = capsys.readouterr().out.strip()
    assert redirect.startswith(FINISH_URI + "?hash=") and srv.grant(g["continue"]["uri"]).state \
        == "approved"
    assert ref_from(redirect) == srv.grant(g["continue"]["uri"]).interact_ref
    assert local_as.main(["approve", g["interact"]["redirect"]]) == 1  # finished: no page
    assert "no interaction page" in capsys.readouterr().err
    g2 = new_grant(srv, client)
    assert local_as.main(["reject", g2["interact"]["redirect"]]) == 0
    assert capsys.readouterr().out == FINISH_URI + "?result=grant_rejected\n"
    assert local_as.main(["approve"]) == 2
    assert local_as.main(["approve", "https://as.example/interact/1"]) == 1


def test_faults(srv, client):
    url = client.wallet
    srv.fault = "reset"
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)
    srv.fault = "500"
    r = requests.get(url, timeout=2)
    assert r.status_code == 500 and r.headers["Content-Type"] == "text/html"
    srv.fault = "html"
    assert requests.get(url, timeout=2).headers["Content-Type"] == "text/html"
    srv.fault = "redirect"
    assert requests.get(url, timeout=2, allow_redirects=False).status_code == 302
    srv.fault = "gzip_bomb"
    with requests.get(url, timeout=5, stream=True) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert int(r.headers["Content-Length"]) < 1_000_000
    srv.fault = "hang"
    with pytest.raises(requests.Timeout):
        requests.get(url, timeout=0.3)
    srv.fault = "drip"
    host, port = srv.url[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.sendall(f"GET /alice HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        time.sleep(0.5)
        got = s.recv(100)
        assert 1 <= len(got) <= 4 and b"HTTP/1.1".startswith(got)
    assert requests.get(url, timeout=2).status_code == 200  # faults are one-shot
    assert [e["fault"] for e in srv.requests_log[-8:]] == \
        ["reset", "500", "html", "redirect", "gzip_bomb", "hang", "drip", None]


def test_stop_ends_threads(clock):
    s = LocalAS(clock=clock).start()
    s.add_wallet("bob", {"keys": []})
    s.fault = "hang"
    def hung_request():
        try:
            requests.get(s.url + "/bob", timeout=5)
        except requests.RequestException:
            pass

    threading.Thread(target=hung_request, daemon=True).start()
    deadline = time.time() + 2
    while time.time() < deadline and not s.requests_log:
        time.sleep(0.01)
    keepalive = requests.Session()
    assert keepalive.get(s.url + "/bob", timeout=2).status_code == 200
    time.sleep(0.1)
    s.stop()
    deadline = time.time() + 2
    while time.time() < deadline and any(
            "process_request" in t.name or t.name == "LocalAS" for t in threading.enumerate()):
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate()
                if "process_request" in t.name or t.name == "LocalAS"]
    keepalive.close()


def test_official_sdk_is_accepted(srv, client):
    """The official SDK's signer and grant.continue() pass LocalAS, and LocalAS's answers pass
    the SDK's OpenAPI response validation (issue 4, item 4: validateResponses is on)."""
    require_node()  # fails under OP_CONTINUE_REQUIRE_PEERS=1, skips otherwise
    seed = bytes(client.key)
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    pem = "-----BEGIN PRIVATE KEY-----\n" + b64(der) + "\n-----END PRIVATE KEY-----\n"
    g = new_grant(srv, client)
    ref = ref_from(srv.approve(g["continue"]["uri"]))
    rejected = new_grant(srv, client)
    srv.reject(rejected["continue"]["uri"])
    common = {"privateKeyPem": pem, "keyId": "k1", "walletAddressUrl": client.wallet,
              "useHttp": True, "validateResponses": True}
    ok, denied = run_peer([
        dict(common, op="grantContinue", url=g["continue"]["uri"],
             accessToken=g["continue"]["access_token"]["value"], body={"interact_ref": ref}),
        dict(common, op="grantContinue", url=rejected["continue"]["uri"],
             accessToken=rejected["continue"]["access_token"]["value"]),
    ])
    assert ok["result"]["access_token"]["access"][0]["type"] == "outgoing-payment", ok
    assert (denied.get("status"), denied.get("code")) == (401, "request_denied"), denied
    continue_entries = [e for e in srv.requests_log if e["path"].startswith("/continue/")]
    assert continue_entries[-2]["verification"]["ok"]
    assert continue_entries[-2]["verification"]["problems"] == []

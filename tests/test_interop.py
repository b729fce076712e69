"""Issue 4, the interop tier: third-party implementations agree with op_continue.

Peers (pinned; a missing one FAILS under OP_CONTINUE_REQUIRE_PEERS=1, as .ci/run sets, and
skips with the install command otherwise -- see tests/interop/peers.py):

* "official": @interledger/http-signature-utils 2.0.3 (createHeaders; validateSignatureHeaders +
  validateSignature fed the Rafiki way) through tests/interop/peer.mjs, ONE node process for
  the whole signature group (the batch op);
* "pyhms": http-message-signatures 3.0.0 from PyPI (HTTPMessageSigner / HTTPMessageVerifier,
  Content-Digest checked against the raw body bytes);
* the auth-server OpenAPI spec shipped in @interledger/open-payments 7.4.0, read with PyYAML and
  checked with jsonschema (Draft 2020-12), and hypothesis-jsonschema to generate bodies from it.

The official grant.continue() run against LocalAS is test_local_as.py::
test_official_sdk_is_accepted (not duplicated here).

Counts are the parametrization ids: test_accepted[<verifier>-<request>] (6 requests x 2
verifiers) and test_tampered_rejected[<verifier>-<request>-<tampering>] (25 x 2).
"""
import base64
import copy
import datetime
import json
import os
import pathlib
import random
import re
import secrets
import sys
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "interop"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from local_as import LocalAS
from peers import AUTH_SERVER_SPEC, missing_peer, require_module, require_node, run_peer

import op_continue

KID = "interop-" + secrets.token_hex(4)
NOW = int(time.time())
CREATED = NOW - 30  # the verification requests: recent, in the past
REQUESTS = ("continue", "poll", "cancel", "rotate", "revoke", "grant")
TAMPERINGS = ("body", "authorization", "uri", "method", "created")
AS = "https://auth.interop.test"
CONTINUE_URI = f"{AS}/continue/{secrets.token_hex(8)}"
MANAGE_URL = f"{AS}:8443/token/{secrets.token_hex(8)}"
GRANT_ENDPOINT = f"{AS}/4f0b8c3e-5a1d-4c7e-9b2a-6d8e0f1a2b3c"
WALLET = "https://ilp.interop.test/alice"


# --------------------------------------------------------------------------------------------
# What op_continue sends: captured from the real Client operations through a stand-in adapter
# --------------------------------------------------------------------------------------------

class Sent:
    """One request as it left op_continue.Client: method, URL, headers, body bytes."""

    def __init__(self, method: str, url: str, headers: Dict[str, str], body: bytes) -> None:
        self.method, self.url, self.headers, self.body = method, url, dict(headers), body

    def header(self, name: str) -> Optional[str]:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def set_header(self, name: str, value: str) -> "Sent":
        headers = {k: v for k, v in self.headers.items() if k.lower() != name.lower()}
        headers[name] = value
        return Sent(self.method, self.url, headers, self.body)

    def covered(self) -> List[str]:
        """What the SDK covers for this request (createSignatureHeaders)."""
        names = ["@method", "@target-uri"]
        if self.header("authorization"):
            names.append("authorization")
        if self.body:
            names += ["content-digest", "content-length", "content-type"]
        return names


class _CannedResponse:
    def __init__(self, status: int, obj: Any) -> None:
        self.status_code = status
        self._data = b"" if obj is None else json.dumps(obj).encode()
        self.headers = {"Content-Type": "application/json"}

    def iter_content(self, size: int):
        yield self._data

    def close(self) -> None:
        pass


GRANT_ANSWER = {"continue": {"access_token": {"value": "c0ntinue"}, "uri": CONTINUE_URI,
                             "wait": 0}}
TOKEN_ANSWER = {"access_token": {"value": "t0ken", "manage": MANAGE_URL, "access": []}}


class _CapturingAdapter:
    """Stands in for the requests adapter a Client sends through: records each request."""

    def __init__(self) -> None:
        self.sent: List[Sent] = []

    def send(self, request, **_kw):
        # what the Client signed: without the unsigned headers the transport adds (requests'
        # Content-Length: 0 on a bodiless POST or DELETE; Accept-Encoding: identity)
        added = {"accept-encoding"} | (set() if request.body else {"content-length"})
        headers = {k: v for k, v in request.headers.items() if k.lower() not in added}
        self.sent.append(Sent(request.method, request.url, headers, request.body or b""))
        if request.method == "DELETE":
            return _CannedResponse(204, None)
        return _CannedResponse(200, TOKEN_ANSWER if "/token/" in request.url else GRANT_ANSWER)

    def close(self) -> None:
        pass


def grant_body() -> Dict[str, Any]:
    return op_continue.grant_request_body(
        client=WALLET, finish_uri="https://client.interop.test/finish?x=1",
        nonce=secrets.token_urlsafe(12),
        access=[{"type": "outgoing-payment", "actions": ["create", "read"], "identifier": WALLET,
                 "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2},
                            "interval": "R/2026-01-01T00:00:00Z/P1M"}}])


def capture(key: op_continue.PrivateKey, created: int, tokens: Dict[str, str]) -> Dict[str, Sent]:
    """Run each Client operation once against a stand-in adapter; return what it sent."""
    session = _CapturingAdapter()
    client = op_continue.Client(key, KID)
    client._adapter = session
    client.continue_grant(CONTINUE_URI, tokens["continue"], tokens["ref"], created=created)
    client.poll(CONTINUE_URI, tokens["continue"], created=created)
    client.cancel(CONTINUE_URI, tokens["continue"], created=created)
    client.rotate(MANAGE_URL, tokens["access"], created=created)
    client.revoke(MANAGE_URL, tokens["access"], created=created)
    client.request_grant(GRANT_ENDPOINT, grant_body(), created=created)
    assert len(session.sent) == len(REQUESTS)
    return dict(zip(REQUESTS, session.sent))


def _flip(text: str, index: int) -> str:
    ch = text[index]
    new = {"z": "y", "Z": "Y", "9": "8"}.get(ch, chr(ord(ch) + 1))
    return text[:index] + new + text[index + 1:]


def _last_alnum(text: str, stop: Optional[int] = None) -> int:
    end = len(text) if stop is None else stop
    return max(i for i in range(end) if text[i].isalnum())


def tamper(req: Sent, kind: str) -> Optional[Sent]:
    """One byte changed, or None where the request has no such part."""
    if kind == "body":
        if not req.body:
            return None
        text = req.body.decode("utf-8")  # JSON stays valid: a letter inside the last string
        return Sent(req.method, req.url, req.headers, _flip(text, _last_alnum(text)).encode())
    if kind == "authorization":
        auth = req.header("authorization")
        return None if auth is None else req.set_header("Authorization",
                                                         _flip(auth, _last_alnum(auth)))
    if kind == "uri":
        return Sent(req.method, _flip(req.url, _last_alnum(req.url)), req.headers, req.body)
    if kind == "method":
        return Sent(_flip(req.method, len(req.method) - 1), req.url, req.headers, req.body)
    assert kind == "created"
    sig_input = req.header("signature-input")
    assert sig_input is not None
    m = re.search(r";created=([0-9]+)", sig_input)
    assert m
    i = m.end(1) - 1
    digit = str((int(sig_input[i]) + 9) % 10)  # one digit down (0 -> 9: +9 s, still past)
    return req.set_header("Signature-Input", sig_input[:i] + digit + sig_input[i + 1:])


def tampered_cases() -> List[Tuple[str, str]]:
    probe = {name: bool(name in ("continue", "grant")) for name in REQUESTS}
    cases = []
    for name in REQUESTS:
        for kind in TAMPERINGS:
            if kind == "body" and not probe[name]:
                continue
            if kind == "authorization" and name == "grant":
                continue
            cases.append((name, kind))
    return cases


TAMPERED = tampered_cases()
assert len(TAMPERED) == 25  # 6 x 5 less 4 body-less and 1 token-less: keep the count visible


def official_request(req: Sent) -> Dict[str, Any]:
    out: Dict[str, Any] = {"method": req.method, "url": req.url, "headers": req.headers}
    if req.body:
        out["body"] = req.body.decode("utf-8")
    return out


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------------------------
# Fixtures: one key per session, one node process for the whole signature group
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def world() -> Dict[str, Any]:
    seed = os.urandom(32)
    key = op_continue.PrivateKey.from_seed(seed)
    tokens = {"continue": secrets.token_urlsafe(16), "access": secrets.token_hex(20),
              "ref": secrets.token_urlsafe(12)}
    sent = capture(key, CREATED, tokens)
    rng = random.Random()
    createds = [NOW, rng.randrange(1, 10**9), rng.randrange(10**9, 4102444800)]
    compared = {c: capture(key, c, tokens) for c in createds}
    return {"seed": seed, "key": key, "jwk": key.public_key.jwk(KID), "tokens": tokens,
            "sent": sent, "compared": compared, "pem": key.to_pem()}


def sdk_headers(req: Sent) -> Dict[str, str]:
    """The headers the official client hands to createHeaders (no content headers yet)."""
    out = {"Accept": "application/json", "Content-Type": "application/json"}
    auth = req.header("authorization")
    if auth is not None:
        out["Authorization"] = auth
    return out


@pytest.fixture(scope="module")
def official(world) -> Dict[str, Any]:
    """Everything the official tooling has to say, from one node process."""
    require_node()
    items: List[Dict[str, Any]] = []
    index: Dict[Tuple[str, ...], int] = {}

    def add(tag: Tuple[str, ...], item: Dict[str, Any]) -> None:
        index[tag] = len(items)
        items.append(item)

    for name, req in world["sent"].items():
        add(("validate", name, "ok"), {"op": "validate", "jwk": world["jwk"],
                                       "request": official_request(req)})
    for name, kind in TAMPERED:
        bad = tamper(world["sent"][name], kind)
        assert bad is not None
        add(("validate", name, kind), {"op": "validate", "jwk": world["jwk"],
                                       "request": official_request(bad)})
    for created, sent in [*list(world["compared"].items()), (CREATED, world["sent"])]:
        for name, req in sent.items():
            request: Dict[str, Any] = {"method": req.method, "url": req.url,
                                       "headers": sdk_headers(req)}
            if req.body:
                request["body"] = req.body.decode("utf-8")
            add(("createHeaders", name, str(created)),
                {"op": "createHeaders", "privateKeyPem": world["pem"], "keyId": KID,
                 "created": created, "request": request})
    results = run_peer(items)
    return {tag: results[i] for tag, i in index.items()}


@pytest.fixture(scope="module")
def pyhms():
    return require_module("http_message_signatures", "http-message-signatures==3.0.0")


def pyhms_message(req: Sent):
    prepared = requests.PreparedRequest()
    prepared.method = req.method
    prepared.url = req.url  # assigned, not prepare_url()d: the URI is exactly what was sent
    prepared.headers = requests.structures.CaseInsensitiveDict(req.headers)
    prepared.body = req.body
    return prepared


def pyhms_verify(pyhms, world, req: Sent, covered: List[str]):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(world["jwk"]["x"]))
    verifier = pyhms.HTTPMessageVerifier(
        signature_algorithm=pyhms.algorithms.ED25519,
        key_resolver=pyhms.MappingKeyResolver(public_keys={KID: public}, private_keys={}))
    return verifier.verify(pyhms_message(req), require_components=covered, body=req.body,
                           max_age=datetime.timedelta(minutes=10))


def verify_official(official, name: str, case: str) -> Dict[str, Any]:
    return official[("validate", name, case)]


# --------------------------------------------------------------------------------------------
# 1. Every request op_continue builds is accepted by both verifiers; tampered ones are not
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("verifier", ["official", "pyhms"])
def test_accepted(verifier, name, world, request):
    req = world["sent"][name]
    if verifier == "official":
        got = verify_official(request.getfixturevalue("official"), name, "ok")
        assert got == {"validHeaders": True, "valid": True, "keyId": KID}, got
    else:
        pyhms = request.getfixturevalue("pyhms")
        (result,) = pyhms_verify(pyhms, world, req, req.covered())
        assert result.label == "sig1"
        assert result.parameters == {"keyid": KID, "created": CREATED}
        assert [json.loads(k) for k in result.covered_components][:-1] == req.covered()
        assert result.body == (req.body or None)


@pytest.mark.parametrize("name,kind", TAMPERED, ids=[f"{n}-{k}" for n, k in TAMPERED])
@pytest.mark.parametrize("verifier", ["official", "pyhms"])
def test_tampered_rejected(verifier, name, kind, world, request):
    original = world["sent"][name]
    bad = tamper(original, kind)
    assert bad is not None
    changed = [(a, b) for a, b in [(original.method, bad.method), (original.url, bad.url),
                                   (original.body, bad.body),
                                   (original.headers, bad.headers)] if a != b]
    assert len(changed) == 1  # exactly one part changed ...
    if verifier == "official":
        got = verify_official(request.getfixturevalue("official"), name, kind)
        assert got["valid"] is False, got
    else:
        pyhms = request.getfixturevalue("pyhms")
        with pytest.raises(pyhms.InvalidSignature):
            pyhms_verify(pyhms, world, bad, original.covered())


def test_tampering_changes_one_byte(world):
    for name, kind in TAMPERED:
        a, b = world["sent"][name], tamper(world["sent"][name], kind)
        assert b is not None
        pairs = [(a.method, b.method), (a.url, b.url), (a.body.decode(), b.body.decode())]
        pairs += [(a.headers[h], b.headers[h]) for h in a.headers]
        diffs = sum(sum(x != y for x, y in zip(p, q)) + abs(len(p) - len(q)) for p, q in pairs)
        assert diffs == 1, (name, kind)


# --------------------------------------------------------------------------------------------
# 2. Byte-for-byte equal to the official createHeaders
# --------------------------------------------------------------------------------------------

COMPARED_HEADERS = ("Signature-Input", "Signature", "Content-Digest", "Content-Length")


@pytest.mark.parametrize("slot", [0, 1, 2], ids=["created-now", "created-small",
                                                   "created-large"])
@pytest.mark.parametrize("name", REQUESTS)
def test_same_headers_as_create_headers(name, slot, world, official):
    created = list(world["compared"])[slot]
    ours = world["compared"][created][name]
    theirs = official[("createHeaders", name, str(created))]["headers"]
    expected_names = set(COMPARED_HEADERS[:2]) | (
        {"Content-Digest", "Content-Length", "Content-Type"} if ours.body else set())
    assert set(theirs) == expected_names
    for header in COMPARED_HEADERS:
        assert ours.header(header) == theirs.get(header), header
    assert f";created={created}" in theirs["Signature-Input"]


# --------------------------------------------------------------------------------------------
# 3. Our verifier accepts what the official and the pyhms signers sign, and not tampered
# --------------------------------------------------------------------------------------------

def our_verify(world, req: Sent, required: List[str]) -> op_continue.VerifiedSignature:
    message = op_continue.request_message(req.method, req.url, req.headers.items(), req.body)
    keys = {KID: op_continue.PublicKey(b64url_decode(world["jwk"]["x"]))}
    return op_continue.verify_message(message, keys, label="sig1",
                                      required=[json.dumps(c) for c in required],
                                      max_age=600, now=time.time())


def signed_by(signer: str, world, name: str, request) -> Sent:
    """The same request, signed by a third party instead of op_continue."""
    ours = world["sent"][name]
    headers = sdk_headers(ours)
    if signer == "official":
        theirs = request.getfixturevalue("official")[("createHeaders", name, str(CREATED))]
        headers.update(theirs["headers"])
        return Sent(ours.method, ours.url, headers, ours.body)
    pyhms = request.getfixturevalue("pyhms")
    from cryptography.hazmat.primitives.asymmetric import ed25519

    class Sha512Digest(pyhms.ContentDigest):
        algorithm = "sha-512"

    class Signer(pyhms.HTTPMessageSigner):
        content_digest_class = Sha512Digest

    signer_ = Signer(signature_algorithm=pyhms.algorithms.ED25519,
                     key_resolver=pyhms.MappingKeyResolver(
                         public_keys={},
                         private_keys={KID: ed25519.Ed25519PrivateKey.from_private_bytes(
                             world["seed"])}))
    if ours.body:
        headers["Content-Length"] = str(len(ours.body))
    message = pyhms_message(Sent(ours.method, ours.url, headers, ours.body))
    signer_.sign(message, key_id=KID, label="sig1", include_alg=False,
                 created=datetime.datetime.fromtimestamp(CREATED, datetime.timezone.utc),
                 covered_component_ids=ours.covered(), body=ours.body or None)
    return Sent(ours.method, ours.url, dict(message.headers), ours.body)


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("signer", ["official", "pyhms"])
def test_we_accept_their_signatures(signer, name, world, request):
    req = signed_by(signer, world, name, request)
    got = our_verify(world, req, req.covered())
    assert got.keyid == KID and got.params["created"] == CREATED
    assert got.covered == tuple(json.dumps(c) for c in req.covered())
    if signer == "pyhms":  # pyhms writes created before keyid: parameter order is free
        assert list(got.params) == ["created", "keyid"]


@pytest.mark.parametrize("name,kind", TAMPERED, ids=[f"{n}-{k}" for n, k in TAMPERED])
@pytest.mark.parametrize("signer", ["official", "pyhms"])
def test_we_reject_their_tampered_signatures(signer, name, kind, world, request):
    req = signed_by(signer, world, name, request)
    bad = tamper(req, kind)
    assert bad is not None
    with pytest.raises(op_continue.VerificationError):
        our_verify(world, bad, req.covered())


# --------------------------------------------------------------------------------------------
# 5a. Every body LocalAS returns validates against the official auth-server OpenAPI spec
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec() -> Dict[str, Any]:
    yaml = require_module("yaml", "pyyaml")
    require_module("jsonschema", "jsonschema")
    if not AUTH_SERVER_SPEC.is_file():
        missing_peer(f"{AUTH_SERVER_SPEC.name} (npm ci --prefix tests/interop)")
    return yaml.safe_load(AUTH_SERVER_SPEC.read_text(encoding="utf-8"))


def resolve(node: Any, root: Dict[str, Any]) -> Any:
    """Inline every local $ref (the spec has no recursive schema)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            merged = resolve(target, root)
            return {**merged, **resolve(rest, root)} if rest else merged
        return {k: resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, root) for v in node]
    return node


def response_schema(spec, path: str, method: str, status: int) -> Optional[Dict[str, Any]]:
    """The spec's schema for that answer; None for a documented empty answer (204)."""
    responses = spec["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} {status} is not documented"
    content = responses[str(status)].get("content")
    if content is None:
        return None
    return resolve(content["application/json"]["schema"], spec)


_VALIDATORS: Dict[int, Any] = {}


def spec_errors(schema: Dict[str, Any], body: Any) -> List[str]:
    """jsonschema (Draft 2020-12, what OpenAPI 3.1 uses) errors of ``body``; [] when valid."""
    import jsonschema

    if id(schema) not in _VALIDATORS:
        _VALIDATORS[id(schema)] = (schema, jsonschema.Draft202012Validator(schema))
    validator = _VALIDATORS[id(schema)][1]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


LOCAL_AS_ANSWERS = (
    "grant-interactive-200", "grant-non-interactive-200", "grant-invalid-request-400",
    "grant-bad-signature-401", "grant-unknown-keyid-400", "poll-pending-200",
    "poll-finish-grant-401", "continue-finalized-200", "continue-reused-401",
    "continue-wrong-token-401", "continue-unknown-ref-404", "continue-too-fast-400",
    "poll-finalized-200", "rotate-200", "rotate-old-token-401", "revoke-204",
    "revoke-again-401", "cancel-204", "continue-cancelled-401",
)


def _ref(redirect: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(redirect).query)["interact_ref"][0]


@pytest.fixture(scope="module")
def local_as_answers() -> Dict[str, Tuple[str, str, int, Any]]:
    """Drive LocalAS with op_continue.Client; record every answer under a label."""
    key = op_continue.PrivateKey.generate()
    other = op_continue.PrivateKey.generate()
    out: Dict[str, Tuple[str, str, int, Any]] = {}
    with LocalAS(wait=0) as srv:
        wallet = srv.add_wallet("alice", op_continue.jwks({"k1": key.public_key}))
        client = op_continue.Client(key, "k1", allow_http=True)
        # a Client that did not see the AS's wait (another process, say): it provokes the AS's
        # answers to a call inside the wait, which ``client`` refuses to send (TooSoonError)
        early = op_continue.Client(key, "k1", allow_http=True)
        log = srv.requests_log  # what the AS received and answered

        def record(label: str, call) -> Any:
            before = len(log)
            try:
                result = call()
            except op_continue.GrantError as exc:
                result = exc
            assert len(log) == before + 1, label
            entry = log[-1]
            data = entry["response"]
            out[label] = (entry["method"], srv.url + entry["path"], entry["status"],
                          json.loads(data) if data else None)
            return result

        def body(kind="outgoing-payment", finish=True, interact=True):
            access = {"type": kind, "actions": ["create", "read"], "identifier": wallet}
            if kind == "outgoing-payment":
                access["limits"] = {"debitAmount": {"value": "500", "assetCode": "USD",
                                                    "assetScale": 2}}
            if not interact:
                return {"access_token": {"access": [access]}, "client": wallet}
            return op_continue.grant_request_body(
                client=wallet, access=[access],
                finish_uri="https://client.interop.test/finish" if finish else None,
                nonce=op_continue.new_nonce())

        ep = srv.grant_endpoint
        g = record("grant-interactive-200", lambda: client.request_grant(ep, body()))
        record("grant-non-interactive-200",
               lambda: client.request_grant(ep, body("incoming-payment", interact=False)))
        record("grant-invalid-request-400",
               lambda: client.request_grant(ep, body(interact=False)))
        bad = op_continue.Client(other, "k1", allow_http=True)
        record("grant-bad-signature-401", lambda: bad.request_grant(ep, body()))
        unknown = op_continue.Client(key, "k9", allow_http=True)
        record("grant-unknown-keyid-400", lambda: unknown.request_grant(ep, body()))

        nf = client.request_grant(ep, {**body(finish=False),
                                       "interact": {"start": ["redirect"]}})
        nf_uri, nf_tok = nf.continue_.uri, nf.continue_.access_token_value
        record("poll-pending-200", lambda: client.poll(nf_uri, nf_tok))
        uri, tok = g.continue_.uri, g.continue_.access_token_value
        record("poll-finish-grant-401", lambda: client.poll(uri, tok))
        ref = _ref(srv.approve(uri))
        done = record("continue-finalized-200", lambda: client.continue_grant(uri, tok, ref))
        record("continue-reused-401", lambda: early.continue_grant(uri, tok, ref))
        g2 = client.request_grant(ep, body())
        u2, t2 = g2.continue_.uri, g2.continue_.access_token_value
        record("continue-wrong-token-401", lambda: client.continue_grant(u2, "WRONG", "x"))
        record("continue-unknown-ref-404", lambda: client.continue_grant(u2, t2, "nope"))
        srv.wait = 60
        g3 = client.request_grant(ep, body())
        ref3 = _ref(srv.approve(g3.continue_.uri))
        record("continue-too-fast-400", lambda: early.continue_grant(
            g3.continue_.uri, g3.continue_.access_token_value, ref3))
        srv.wait = 0
        srv.approve(nf_uri)
        record("poll-finalized-200", lambda: client.poll(nf_uri, nf_tok))
        at = done.access_token
        new = record("rotate-200", lambda: client.rotate(at.manage, at.value))
        record("rotate-old-token-401", lambda: client.rotate(at.manage, at.value))
        record("revoke-204", lambda: client.revoke(new.manage, new.value))
        record("revoke-again-401", lambda: client.revoke(new.manage, new.value))
        record("cancel-204", lambda: client.cancel(u2, t2))
        record("continue-cancelled-401", lambda: client.poll(u2, t2))
        client.close()
        early.close()
    assert set(out) == set(LOCAL_AS_ANSWERS)
    return out


def spec_path(url: str) -> str:
    segs = urllib.parse.urlsplit(url).path.strip("/").split("/")
    if len(segs) == 2 and segs[0] in ("continue", "token"):
        return f"/{segs[0]}/{{id}}"
    assert len(segs) == 1  # the tenant's grant endpoint is the spec's "/"
    return "/"


@pytest.mark.parametrize("label", LOCAL_AS_ANSWERS)
def test_local_as_answer_matches_spec(label, local_as_answers, spec):
    method, url, status, body = local_as_answers[label]
    assert str(status) == label.rsplit("-", 1)[1]
    schema = response_schema(spec, spec_path(url), method.lower(), status)
    if schema is None:
        assert body is None
        return
    assert body is not None
    assert spec_errors(schema, body) == [], body


# --------------------------------------------------------------------------------------------
# 5b. Grant.from_json against bodies generated from the spec's schemas
# --------------------------------------------------------------------------------------------

def _hypothesis():
    hypothesis = require_module("hypothesis", "hypothesis")
    hj = require_module("hypothesis_jsonschema", "hypothesis-jsonschema")
    return hypothesis, hj


def hypothesis_settings(hypothesis) -> Dict[str, Any]:
    """Bounded and quick: no example database, no shrinking (a failure is reported as drawn),
    so the tier stays fast even when it fails."""
    phases = [hypothesis.Phase.explicit, hypothesis.Phase.generate]
    return {"max_examples": 50, "deadline": None, "database": None, "phases": phases,
            "suppress_health_check": list(hypothesis.HealthCheck)}


def url_strategy(st, allow_http: bool):
    """Absolute https URLs (and http loopback, which allow_http admits): what op_continue
    deliberately accepts out of format "uri" (see test_deliberately_stricter)."""
    label = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,14}[a-z0-9])?\Z")
    host = st.builds(lambda parts, tld: ".".join([*parts, tld]),
                     st.lists(label, min_size=1, max_size=3), st.sampled_from(["dev", "test",
                                                                              "example"]))
    port = st.one_of(st.just(""), st.integers(1, 65535).map(lambda p: f":{p}"))
    segment = st.from_regex(r"\A(?:[A-Za-z0-9_~-]|%[0-9A-F]{2}){1,12}\Z")
    path = st.lists(segment, max_size=4).map(lambda s: "/" + "/".join(s))
    query = st.one_of(st.just(""), st.from_regex(r"\A\?[A-Za-z0-9=&_-]{0,16}\Z"))
    https = st.builds(lambda h, p, pa, q: f"https://{h}{p}{pa}{q}", host, port, path, query)
    if not allow_http:
        return https
    loop = st.builds(lambda p, pa: f"http://127.0.0.1:{p}{pa}", st.integers(1, 65535), path)
    return st.one_of(https, loop)


def uint64_strategy(st):
    return st.integers(0, 2**64 - 1).map(str)


def narrowed(schema: Any) -> Any:
    """A copy of a spec schema with op_continue's documented stricter choices overlaid (see
    DELIBERATE): tokens are printable ASCII, 0 <= wait <= 3600, expires_in >= 0, the
    interact finish nonce is printable ASCII. URLs are narrowed by url_strategy."""
    if isinstance(schema, list):
        return [narrowed(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: narrowed(v) for k, v in schema.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        value = props.get("value")
        if isinstance(value, dict) and value.get("format") != "uint64":  # not an amount
            props["value"] = dict(value, pattern=r"^[!-~]+$")
        if "wait" in props:
            props["wait"] = dict(props["wait"], minimum=0, maximum=3600)
        if "expires_in" in props:
            props["expires_in"] = dict(props["expires_in"], minimum=0)
        if "redirect" in props and "finish" in props:
            props["finish"] = dict(props["finish"], pattern=r"^[ -~]+$")
    return out


def for_generation(schema: Any) -> Any:
    """hypothesis-jsonschema does not know unevaluatedProperties (access-item); the spec's
    branches are plain objects, so the same constraint is additionalProperties on each."""
    if isinstance(schema, dict):
        out = {k: for_generation(v) for k, v in schema.items()
               if k not in ("unevaluatedProperties", "examples", "deprecated")}
        if schema.get("unevaluatedProperties") is False and "oneOf" in schema:
            out["oneOf"] = [dict(b, additionalProperties=False) for b in out["oneOf"]]
        return out
    if isinstance(schema, list):
        return [for_generation(v) for v in schema]
    return schema


GENERATED = {  # operation -> (spec path, method, parser)
    "post-continue": ("/continue/{id}", "post", "grant"),
    "post-request": ("/", "post", "grant"),
    "post-token": ("/token/{id}", "post", "token"),
}


def parse(kind: str, body: Any, allow_http: bool = True):
    ctx = op_continue._Ctx(allow_http)
    if kind == "grant":
        return op_continue.Grant.from_json(body, "$", ctx)
    return op_continue.AccessToken.from_json(
        op_continue._obj(body, "$").get("access_token"), "$.access_token", ctx)


def check_parsed(kind: str, body: Dict[str, Any], parsed: Any) -> None:
    token = body.get("access_token")
    at = parsed if kind == "token" else parsed.access_token
    if token is None:
        assert at is None
    else:
        assert (at.value, at.manage, at.expires_in) == (
            token["value"], token["manage"], token.get("expires_in"))
        assert [a.type for a in at.access] == [a["type"] for a in token["access"]]
        assert [list(a.actions) for a in at.access] == [a["actions"] for a in token["access"]]
    if kind == "grant" and "continue" in body:
        c = body["continue"]
        cont = parsed.continue_
        assert (cont.uri, cont.access_token_value, cont.wait) == \
            (c["uri"], c["access_token"]["value"], c.get("wait"))


@pytest.mark.filterwarnings("ignore:Overriding standard format")
@pytest.mark.parametrize("operation", list(GENERATED))
def test_parser_accepts_spec_valid_bodies(operation, spec):
    """Bodies drawn from the spec's 200 schema, within op_continue's documented stricter
    choices, are spec-valid (checked) and parsed faithfully."""
    hypothesis, hj = _hypothesis()
    st = hypothesis.strategies
    path, method, kind = GENERATED[operation]
    schema = response_schema(spec, path, method, 200)
    assert schema is not None
    strategy = hj.from_schema(for_generation(narrowed(schema)), custom_formats={
        "uri": url_strategy(st, allow_http=True), "uint64": uint64_strategy(st)})
    seen = []

    @hypothesis.settings(**hypothesis_settings(hypothesis))
    @hypothesis.given(strategy)
    def run(body):
        assert spec_errors(schema, body) == [], body
        check_parsed(kind, body, parse(kind, body))
        seen.append(body)

    run()
    assert len(seen) >= 30


# The rejections op_continue makes on purpose, by (JSON path suffix, message). A spec-valid body
# rejected for any other reason is a finding.
DELIBERATE = (
    (".value", "expected a non-empty printable ASCII token"),  # it goes into a header line
    (".wait", "expected 0..3600 seconds"),  # MAX_WAIT_SECONDS
    (".expires_in", "expected a non-negative integer"),
    (".uri", "expected an https URL"),  # https only (http: loopback with allow_http)
    (".manage", "expected an https URL"),
    (".redirect", "expected an https URL"),
    (".finish", "expected non-empty printable ASCII"),  # interact.finish goes into a hash
)
# (limits amounts are also checked where the spec does not: see STRICTER "limit-amount-*"; the
# generator never produces an amount outside the amount schema, so they are not listed here)


@pytest.mark.filterwarnings("ignore:Overriding standard format")
@pytest.mark.parametrize("operation", list(GENERATED))
def test_parser_rejects_spec_valid_bodies_only_deliberately(operation, spec):
    """Bodies from the UNNARROWED spec schema (any "uri", any string, any integer): every
    one op_continue rejects must be rejected for a documented deliberate reason."""
    hypothesis, hj = _hypothesis()
    st = hypothesis.strategies
    path, method, kind = GENERATED[operation]
    schema = response_schema(spec, path, method, 200)
    assert schema is not None
    any_uri = st.one_of(url_strategy(st, allow_http=True),
                        st.from_regex(r"\A(?:https?|ftp|urn):[!-~]{0,30}\Z"))
    strategy = hj.from_schema(for_generation(schema), custom_formats={
        "uri": any_uri, "uint64": uint64_strategy(st)})
    outcomes = {"accepted": 0, "rejected": 0}

    @hypothesis.settings(**hypothesis_settings(hypothesis))
    @hypothesis.given(strategy)
    def run(body):
        assert spec_errors(schema, body) == [], body
        try:
            check_parsed(kind, body, parse(kind, body))
            outcomes["accepted"] += 1
        except op_continue.ResponseError as exc:
            reason = (exc.path, str(exc))
            assert any(exc.path.endswith(p) and m in str(exc) for p, m in DELIBERATE), \
                (reason, body)
            outcomes["rejected"] += 1

    run()
    assert outcomes["accepted"] + outcomes["rejected"] >= 30


CONTINUE_OK = {
    "access_token": {
        "value": "OS9M2PMHKUR64TB8N6BW7OZB8CDFONP219RP1LT0",
        "manage": "https://auth.interledger-test.dev/token/dd17a202",
        "expires_in": 3600,
        "access": [{"type": "outgoing-payment", "actions": ["create", "read"],
                    "identifier": "https://ilp.interledger-test.dev/alice",
                    "limits": {"debitAmount": {"value": "500", "assetCode": "USD",
                                               "assetScale": 2}}}]},
    "continue": {"access_token": {"value": "33OMUKMKSKU80UPRY5NM"},
                 "uri": "https://auth.interledger-test.dev/continue/4CF492MLVMSW9MKMXKHQ",
                 "wait": 30},
}


def _without(path: str):
    def edit(body):
        *parents, last = path.split(".")
        node = body
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        del node[last]
    return edit


def _setter(path: str, value: Any):
    def edit(body):
        *parents, last = path.split(".")
        node = body
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        node[int(last) if isinstance(node, list) else last] = value
    return edit


INVALID = {
    "continue-no-uri": _without("continue.uri"),
    "continue-no-token": _without("continue.access_token"),
    "continue-token-no-value": _without("continue.access_token.value"),
    "continue-token-not-object": _setter("continue.access_token", "33OMUKMKSKU80UPRY5NM"),
    "continue-uri-number": _setter("continue.uri", 42),
    "wait-string": _setter("continue.wait", "30"),
    "wait-float": _setter("continue.wait", 1.5),
    "continue-not-object": _setter("continue", []),
    "token-no-value": _without("access_token.value"),
    "token-no-manage": _without("access_token.manage"),
    "token-no-access": _without("access_token.access"),
    "token-value-number": _setter("access_token.value", 7),
    "expires-in-string": _setter("access_token.expires_in", "3600"),
    "access-not-array": _setter("access_token.access", {"type": "quote"}),
    "access-unknown-type": _setter("access_token.access.0.type", "payment"),
    "access-unknown-action": _setter("access_token.access.0.actions", ["create", "delete"]),
    "access-actions-string": _setter("access_token.access.0.actions", "create"),
    "outgoing-no-identifier": _without("access_token.access.0.identifier"),
    "subject-empty": _setter("subject", {"sub_ids": []}),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_parser_rejects_spec_invalid_bodies(case, spec):
    body = copy.deepcopy(CONTINUE_OK)
    INVALID[case](body)
    schema = response_schema(spec, "/continue/{id}", "post", 200)
    assert schema is not None
    assert spec_errors(schema, CONTINUE_OK) == []
    assert spec_errors(schema, body) != [], "the mutation must break the spec"
    with pytest.raises(op_continue.ResponseError):
        op_continue.Grant.from_json(body, "$", op_continue._Ctx(True))


@pytest.mark.parametrize("value", [None, True, 3, "x", [], [CONTINUE_OK], {}],
                         ids=["null", "bool", "int", "str", "list", "list-of-body", "empty"])
def test_parser_rejects_non_grant_json(value, spec):
    schema = response_schema(spec, "/continue/{id}", "post", 200)
    assert schema is not None and spec_errors(schema, value) != []
    with pytest.raises(op_continue.ResponseError):
        op_continue.Grant.from_json(value, "$", op_continue._Ctx(True))


STRICTER = {  # spec-valid, rejected on purpose: keep these visible as strict xfails
    "empty-continue-token": _setter("continue.access_token.value", ""),
    "token-with-space": _setter("access_token.value", "two words"),
    "non-ascii-token": _setter("access_token.value", "jeton-\u00e9"),
    "negative-wait": _setter("continue.wait", -1),
    "wait-over-an-hour": _setter("continue.wait", 86400),
    "negative-expires-in": _setter("access_token.expires_in", -1),
    "http-manage-url": _setter("access_token.manage", "http://auth.example/token/1"),
    "manage-url-with-fragment": _setter("access_token.manage", "https://a.example/t#x"),
    "continue-uri-dot-segment": _setter("continue.uri", "https://a.example/x/../continue/1"),
    # limits-outgoing is an anyOf whose first branch (receiver/interval, nothing required,
    # extra members allowed) matches any object, so the spec never checks a limit's amount:
    "limit-amount-negative": _setter("access_token.access.0.limits.debitAmount.value", "-5"),
    "limit-amount-no-scale": _without("access_token.access.0.limits.debitAmount.assetScale"),
    "limit-amount-scale-256": _setter("access_token.access.0.limits.debitAmount.assetScale", 256),
}


@pytest.mark.parametrize("case", list(STRICTER))
@pytest.mark.xfail(strict=True, raises=op_continue.ResponseError,
                   reason="deliberately stricter than the spec: tokens are header-safe ASCII, "
                          "wait/expires_in are sane, URLs are normalized https, amounts are "
                          "uint64/0..255 even where the spec's anyOf lets them through")
def test_deliberately_stricter(case, spec):
    body = copy.deepcopy(CONTINUE_OK)
    STRICTER[case](body)
    schema = response_schema(spec, "/continue/{id}", "post", 200)
    assert schema is not None and spec_errors(schema, body) == []
    op_continue.Grant.from_json(body, "$", op_continue._Ctx(True))


def test_lock_pins_the_node_peers():
    lock = json.loads((pathlib.Path(__file__).resolve().parent / "interop"
                       / "package-lock.json").read_text(encoding="utf-8"))
    from peers import NODE_PACKAGES

    for name, version in NODE_PACKAGES.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


"""A local GNAP authorization server (Open Payments / Rafiki flavour) for tests and the demo.

Standard library + PyNaCl only, and deliberately independent of op_continue: it re-implements,
in its own small way, what the deployed Rafiki auth server does with a client's requests, so it
can act as an independent verifier of them.

What it copies from Rafiki (packages/auth/src: grant/routes.ts, signature/middleware.ts) and
@interledger/http-signature-utils 2.0.3 (validation.ts, headers.ts):

* Signature-Input is read the way http-signature-utils reads it: components are
  ``sig1=`` .. first ``;``, split on spaces, with ``( ) "`` removed; component names must be
  lower case; ``@method`` and ``@target-uri`` are required and ``authorization`` must be covered
  when that header is sent.  ``keyid`` is the ``;``-separated parameter starting ``keyid="``.
  The signature base is ``"<name>": <value>`` lines and ``"@signature-params": `` + the
  Signature-Input value with its first ``sig1=`` removed; the signature is the Signature value
  with ``sig1=`` removed, decoded with Node's lenient base64.
* When ``content-digest`` is covered, it must come with content-length and content-type and every
  digest in it (sha-512 / sha-256) must match the *re-serialized* body,
  ``json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)`` (Rafiki hashes
  ``JSON.stringify(ctx.request.body)``; a missing body is koa-bodyparser's ``{}``).
* The @target-uri is ``http://<Host header><request target>`` (koa's ``ctx.href``).
* Status codes and GNAP error codes of the continuation table in
  notes on the deployed Rafiki AS; the finish hash is SHA-256 over
  ``client nonce \\n server nonce \\n interact_ref \\n grant endpoint`` in standard base64 WITH
  padding (Rafiki's deviation from RFC 9635 section 4.2.3).

Deliberate deviations (stricter than Rafiki, to catch client mistakes): ``created`` must be
present and a plain non-negative integer (Rafiki never looks at it); other departures from what
the official SDK sends (parameter order, component order, Signature not ``sig1=:b64:``, digest
of the bytes actually sent, ...) are not rejected but listed in ``verification["problems"]`` of
each ``requests_log`` entry.  See also ``LocalAS`` below.

Run standalone (README, "The whole flow in a shell"), as the AS and as the user:

    python tests/local_as.py [--port N] [--wait S] [--wallet NAME=JWKS.json ...]
        serves until Ctrl-C, after printing "wallet address: URL" for each --wallet, then
        "LocalAS listening on URL" and "grant endpoint: URL" (--port 0, the default: a free port)
    python tests/local_as.py approve INTERACT_REDIRECT    (or: reject INTERACT_REDIRECT)
        plays the user: opens the interaction page, presses Accept (Reject), and prints the URL
        the AS sends the browser back to, the finish redirect (``?hash=...&interact_ref=...``)
"""

import argparse
import base64
import gzip
import hashlib
import html
import http.client
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import nacl.exceptions
import nacl.signing

TENANT_ID = "4f0b8c3e-5a1d-4c7e-9b2a-6d8e0f1a2b3c"
MAX_BODY = 1 << 20
FAULTS = ("reset", "hang", "drip", "500", "html", "redirect", "gzip_bomb",
          "reset_after", "hang_after")
RESERVED_NAMES = {TENANT_ID, "continue", "token", "interact", "rs", "redirected", ""}

# Fields for which Node's http.IncomingMessage keeps the first value and drops duplicates.
_NODE_FIRST_WINS = {
    "age", "authorization", "content-length", "content-type", "etag", "expires", "from", "host",
    "if-modified-since", "if-unmodified-since", "last-modified", "location", "max-forwards",
    "proxy-authorization", "referer", "retry-after", "server", "user-agent",
}
_REASONS = {200: "OK", 204: "No Content", 302: "Found", 400: "Bad Request",
            401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Payload Too Large", 500: "Internal Server Error"}
_B64_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_gzip_bomb_cache: List[bytes] = []


class GnapError(Exception):
    """An error answer: {"error": {"code": code, "description": description}}."""

    def __init__(self, status: int, code: Optional[str], description: str) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> Dict[str, Any]:
        err: Dict[str, Any] = {}
        if self.code is not None:
            err["code"] = self.code
        err["description"] = self.description
        return {"error": err}


# --------------------------------------------------------------------------------------------
# Small helpers (independent of op_continue)
# --------------------------------------------------------------------------------------------

def node_b64decode(text: str) -> bytes:
    """Buffer.from(text, "base64"): url-safe letters allowed, other junk skipped, stops at '='."""
    chars = []
    for ch in text.replace("-", "+").replace("_", "/"):
        if ch == "=":
            break
        if ch in _B64_ALPHABET:
            chars.append(ch)
    s = "".join(chars)
    if len(s) % 4 == 1:
        s = s[:-1]
    return base64.b64decode(s + "=" * (-len(s) % 4))


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rafiki_body(raw: bytes) -> Tuple[Any, str]:
    """What koa-bodyparser + JSON.stringify give Rafiki: (parsed body, re-serialized string)."""
    if not raw.strip():
        parsed: Any = {}
    else:
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise GnapError(400, "invalid_request", f"invalid JSON body: {exc}") from None
        if not isinstance(parsed, (dict, list)):
            raise GnapError(400, "invalid_request", "invalid JSON body: not an object")
    return parsed, json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)


def content_digest_ok(header: str, body: str) -> bool:
    """httpbis-digest-headers verifyContentDigest: every listed digest must match."""
    members = [m.strip() for m in header.split(",")]
    if not members or members == [""]:
        return False
    data = body.encode("utf-8")
    for member in members:
        m = re.fullmatch(r"([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/=]*):(;.*)?", member)
        if not m:
            return False
        algo, value = m.group(1), m.group(2)
        if algo == "sha-512":
            want = hashlib.sha512(data).digest()
        elif algo == "sha-256":
            want = hashlib.sha256(data).digest()
        else:
            return False  # Node throws "Unsupported digest algorithm" -> not accepted
        try:
            got = base64.b64decode(value, validate=True)
        except ValueError:
            return False
        if got != want:
            return False
    return True


def sig_input_components(sig_input: str) -> Optional[List[str]]:
    """http-signature-utils getSigInputComponents."""
    parts = sig_input.split("sig1=")
    if len(parts) < 2:
        return None
    inner = parts[1].split(";")[0]
    return [re.sub(r'[()"]', "", c) for c in inner.split(" ")]


def sig_input_keyid(sig_input: str) -> Optional[str]:
    """http-signature-utils getKeyId: the ';' part starting with keyid=", minus the last char."""
    for param in sig_input.split(";"):
        if param.startswith('keyid="'):
            return param[len('keyid="'):-1]
    return None


def sig_input_created(sig_input: str) -> Tuple[Optional[int], Optional[str]]:
    """Strict: the `created` parameter of sig1 must be present and a plain integer."""
    parts = sig_input.split("sig1=", 1)
    if len(parts) < 2:
        return None, "no sig1 member"
    values = [p[len("created="):] for p in parts[1].split(";")[1:] if p.startswith("created=")]
    if not values:
        return None, "created parameter missing"
    if len(values) > 1:
        return None, "created parameter repeated"
    value = values[0].split(",")[0].strip()
    if not re.fullmatch(r"[0-9]{1,15}", value):
        return None, f"created is not an integer: {value!r}"
    return int(value), None


_STRICT_SIG_INPUT = re.compile(
    r'sig1=\(((?:"[a-z0-9@_.-]+"(?: "[a-z0-9@_.-]+")*)?)\)'
    r'((?:;[a-z*][a-z0-9_.*-]*=(?:"[^"\\]*"|-?[0-9]+))*)')


def rfc9421_base(method: str, target_uri: str, headers: Dict[str, str],
                 components: List[str], params: str) -> str:
    """A plain RFC 9421 section 2.5 signature base for derived @method/@target-uri + fields."""
    lines = []
    for name in components:
        if name == "@method":
            value = method.upper()
        elif name == "@target-uri":
            value = target_uri
        elif name.startswith("@"):
            raise ValueError(f"unsupported derived component {name}")
        elif name in headers:
            value = headers[name].strip(" \t")
        else:
            raise ValueError(f"covered field {name} is missing")
        lines.append(f'"{name}": {value}')
    inner = " ".join(f'"{c}"' for c in components)
    lines.append(f'"@signature-params": ({inner}){params}')
    return "\n".join(lines)


def expected_components(headers: Dict[str, str], has_body: bool) -> List[str]:
    comps = ["@method", "@target-uri"]
    if "authorization" in headers:
        comps.append("authorization")
    if has_body:
        comps += ["content-digest", "content-length", "content-type"]
    return comps


def strict_problems(req: "_Req", verify_key: Optional[nacl.signing.VerifyKey],
                    now: float) -> List[str]:
    """Things the official SDK would not do; recorded, never rejected (except via created)."""
    method, target_uri, headers, raw_body = req.method, req.target_uri, req.headers, req.raw
    problems: List[str] = []
    sig_input = headers.get("signature-input", "")
    sig = headers.get("signature", "")
    m = _STRICT_SIG_INPUT.fullmatch(sig_input)
    if not m:
        problems.append("Signature-Input is not exactly one well-formed sig1 member: "
                        f"{sig_input!r}")
        components: List[str] = []
        params = ""
    else:
        components = re.findall(r'"([^"]+)"', m.group(1))
        params = m.group(2)
        names = [p.split("=", 1)[0] for p in params.split(";")[1:]]
        if names != ["keyid", "created"]:
            problems.append(f"parameters are {names}, the SDK sends ['keyid', 'created']")
        if components != expected_components(headers, bool(raw_body)):
            problems.append(f"components {components} differ from the SDK's "
                            f"{expected_components(headers, bool(raw_body))}")
        if len(set(components)) != len(components):
            problems.append("a component is covered twice")
    created, _err = sig_input_created(sig_input)
    if created is not None and abs(created - now) > 300:
        problems.append(f"created={created} is more than 300 s away from the server clock")
    sm = re.fullmatch(r"sig1=:([A-Za-z0-9+/]*={0,2}):", sig)
    sig_bytes = b""
    if not sm:
        problems.append(f"Signature is not exactly sig1=:<base64>: ({sig!r})")
    else:
        try:
            sig_bytes = base64.b64decode(sm.group(1), validate=True)
        except ValueError:
            problems.append("Signature value is not valid base64")
        if len(sig_bytes) != 64:
            problems.append(f"Signature is {len(sig_bytes)} bytes, Ed25519 gives 64")
    if raw_body:
        digest = headers.get("content-digest", "")
        want = "sha-512=:" + base64.b64encode(hashlib.sha512(raw_body).digest()).decode() + ":"
        if digest != want:
            problems.append("Content-Digest is not sha-512 of the bytes sent (body not compact "
                            "JSON, or another algorithm)")
        if headers.get("content-length") != str(len(raw_body)):
            problems.append("Content-Length differs from the body length")
        if headers.get("content-type") != "application/json":
            problems.append(f"Content-Type is {headers.get('content-type')!r}")
    if m and verify_key is not None and sig_bytes:
        try:
            base = rfc9421_base(method, target_uri, headers, components, params)
            verify_key.verify(base.encode("utf-8"), sig_bytes)
        except ValueError as exc:
            problems.append(f"RFC 9421 base could not be built: {exc}")
        except nacl.exceptions.BadSignatureError:
            problems.append("signature does not verify over the plain RFC 9421 base")
    return problems


def finish_hash(client_nonce: str, server_nonce: str, interact_ref: str,
                grant_endpoint: str) -> str:
    """Rafiki: SHA-256, standard base64 WITH padding (RFC 9635 says unpadded base64url)."""
    data = f"{client_nonce}\n{server_nonce}\n{interact_ref}\n{grant_endpoint}".encode()
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def add_query(uri: str, params: Dict[str, str]) -> str:
    """URL.searchParams.set(...) for each param, like Rafiki building the finish redirect."""
    parts = urllib.parse.urlsplit(uri)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
             if k not in params]
    query += list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def node_headers(items: List[Tuple[str, str]]) -> Dict[str, str]:
    """Header names lower-cased, values trimmed, duplicates joined like Node's http parser."""
    out: Dict[str, str] = {}
    for name, value in items:
        lc = name.lower()
        v = value.strip(" \t")
        if lc not in out:
            out[lc] = v
        elif lc not in _NODE_FIRST_WINS:
            out[lc] = f"{out[lc]}, {v}"
    return out


def _token() -> str:
    return secrets.token_hex(10).upper()


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------

class _Req:
    """One received request as the checks see it; ``v`` is its verification outcome."""

    def __init__(self, method: str, target_uri: str, headers: Dict[str, str], raw: bytes,
                 v: Dict[str, Any]) -> None:
        self.method = method
        self.target_uri = target_uri
        self.headers = headers
        self.raw = raw
        self.v = v


class _Grant:
    def __init__(self, gid: str, client: str, access: List[Any],
                 interact: Optional[Dict[str, Any]], now: float) -> None:
        self.id = gid
        self.client = client
        self.access = access
        finish = (interact or {}).get("finish") or {}
        self.finish_method: Optional[str] = finish.get("method")
        self.finish_uri: Optional[str] = finish.get("uri")
        self.client_nonce: Optional[str] = finish.get("nonce")
        self.interactive = interact is not None
        self.server_nonce = secrets.token_hex(8).upper()
        self.interact_ref = str(uuid.uuid4()) if self.interactive else None
        self.continue_token = _token()
        self.last_continued_at = now
        self.state = "pending" if self.interactive else "approved"
        self.tokens: List[str] = []  # management ids


class _AccessToken:
    def __init__(self, grant: _Grant) -> None:
        self.value = _token()
        self.mgmt_id = str(uuid.uuid4())
        self.grant = grant
        self.active = True


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

class LocalAS:
    """A Rafiki-like GNAP authorization server on loopback.

    ``wait``: the continue ``wait`` seconds (Rafiki's default is 5; 0 here so tests need not
    sleep).  ``clock``: a ``time.time``-like callable, used for the wait and the ``created``
    sanity note, so tests can step time.  ``fault``: see ``FAULTS``; set ``srv.fault`` at
    runtime, it applies to the next request only.
    """

    tenant_id = TENANT_ID

    def __init__(self, *, wait: int = 0, host: str = "127.0.0.1", port: int = 0,
                 access_token_expires_in: int = 600, clock: Callable[[], float] = time.time,
                 fault: Optional[str] = None) -> None:
        self.wait = wait
        self.access_token_expires_in = access_token_expires_in
        self.clock = clock
        self._fault: Optional[str] = None
        self.fault = fault
        self.requests_log: List[Dict[str, Any]] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wallets: Dict[str, Dict[str, Any]] = {}  # name -> {"url", "jwks"}
        self._grants: Dict[str, _Grant] = {}
        self._refs: Dict[str, str] = {}  # interact_ref -> grant id
        self._tokens: Dict[str, _AccessToken] = {}  # management id -> token
        self._conns: Set[socket.socket] = set()
        self._server = _Server((host, port), _Handler)
        self._server.las = self
        bound_host, bound_port = self._server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        self.url = f"http://{shown}:{bound_port}"
        self.grant_endpoint = f"{self.url}/{TENANT_ID}"
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle -----------------------------------------------------------------------

    @property
    def fault(self) -> Optional[str]:
        return self._fault

    @fault.setter
    def fault(self, value: Optional[str]) -> None:
        if value is not None and value not in FAULTS:
            raise ValueError(f"unknown fault {value!r}; one of {FAULTS}")
        self._fault = value

    def start(self) -> "LocalAS":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="LocalAS", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # wake handler threads blocked on keep-alive reads
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()

    def __enter__(self) -> "LocalAS":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _take_fault(self) -> Optional[str]:
        with self._lock:
            fault, self._fault = self._fault, None
            return fault

    # ---- test-side API -------------------------------------------------------------------

    def add_wallet(self, name: str, jwks: Dict[str, Any]) -> str:
        """Serve GET /<name> and /<name>/jwks.json; the JWKS dict is kept by reference, so a
        test may add or remove keys later.  Calling again with the same name replaces it."""
        name = name.strip("/")
        if name in RESERVED_NAMES or "/" in name or not re.fullmatch(r"[A-Za-z0-9._~-]+", name):
            raise ValueError(f"bad wallet name {name!r}")
        url = f"{self.url}/{name}"
        with self._lock:
            self._wallets[name] = {"url": url, "jwks": jwks}
        return url

    def _grant_for(self, grant_id: str) -> _Grant:
        """Accept a grant id, a continue URI or an interact redirect URL."""
        key = grant_id.rstrip("/")
        if "/" in key:
            segs = urllib.parse.urlsplit(key).path.strip("/").split("/")
            key = segs[1] if len(segs) >= 2 and segs[0] in ("continue", "interact") else segs[-1]
        grant = self._grants.get(key)
        if grant is None:
            raise KeyError(f"no grant {grant_id!r}")
        return grant

    def grant(self, grant_id: str) -> _Grant:
        with self._lock:
            return self._grant_for(grant_id)

    def approve(self, grant_id: str) -> str:
        """The user accepts: returns "<finish uri>?hash=...&interact_ref=..." ("" when the
        grant has no finish method: the client must then poll)."""
        with self._lock:
            grant = self._grant_for(grant_id)
            if grant.state != "pending":
                raise ValueError(f"grant {grant.id} is {grant.state}, not pending")
            grant.state = "approved"
            return self._finish_redirect(grant)

    def reject(self, grant_id: str) -> str:
        """The user rejects: returns "<finish uri>?result=grant_rejected" ("" without finish)."""
        with self._lock:
            grant = self._grant_for(grant_id)
            if grant.state != "pending":
                raise ValueError(f"grant {grant.id} is {grant.state}, not pending")
            grant.state = "rejected"
            return self._finish_redirect(grant)

    def _finish_redirect(self, grant: _Grant) -> str:
        if not grant.finish_uri or grant.finish_method != "redirect":
            return ""
        if grant.state == "rejected":
            return add_query(grant.finish_uri, {"result": "grant_rejected"})
        assert grant.interact_ref is not None
        hash_ = finish_hash(grant.client_nonce or "", grant.server_nonce, grant.interact_ref,
                            self.grant_endpoint)
        return add_query(grant.finish_uri, {"hash": hash_, "interact_ref": grant.interact_ref})

    # ---- request handling (called from handler threads) -----------------------------------

    def _dispatch(self, method: str, target: str, headers: Dict[str, str], raw: bytes,
                  v: Dict[str, Any]) -> Tuple[int, Dict[str, str], bytes]:
        path = urllib.parse.urlsplit(target).path
        segs = [s for s in path.split("/") if s]
        host = headers.get("host") or self.url.split("//", 1)[1]
        req = _Req(method, f"http://{host}{target}", headers, raw, v)
        try:
            with self._lock:
                if segs == [TENANT_ID] and method == "POST":
                    return self._json(200, self._create_grant(req))
                if len(segs) == 2 and segs[0] == "continue" and method in ("POST", "DELETE"):
                    return self._continue(segs[1], req)
                if len(segs) == 2 and segs[0] == "token" and method in ("POST", "DELETE"):
                    return self._manage(segs[1], req)
                if segs and segs[0] == "interact" and method == "GET" and len(segs) in (3, 4):
                    return self._interact(segs, target)
                if method == "GET" and segs and segs[0] in self._wallets:
                    wallet = self._wallets[segs[0]]
                    if len(segs) == 1:
                        return self._json(200, {
                            "id": wallet["url"], "publicName": segs[0], "assetCode": "USD",
                            "assetScale": 2, "authServer": self.grant_endpoint,
                            "resourceServer": f"{self.url}/rs"})
                    if segs[1:] == ["jwks.json"]:
                        return self._json(200, wallet["jwks"])
            raise GnapError(404, "invalid_request", "Not Found")
        except GnapError as err:
            v.setdefault("error", err.code)
            return self._json(err.status, err.body())

    @staticmethod
    def _json(status: int, body: Any) -> Tuple[int, Dict[str, str], bytes]:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return status, {"Content-Type": "application/json"}, data

    # signature checks, in Rafiki's order --------------------------------------------------

    @staticmethod
    def _check_sig_headers(req: _Req, body: str) -> None:
        """validateSignatureHeaders (+ the strict `created` check) -> 401 invalid_client."""
        headers, v = req.headers, req.v
        sig = headers.get("signature")
        sig_input = headers.get("signature-input")
        v.update(checked=True, ok=False, target_uri=req.target_uri, rafiki_body=body)
        if not sig or not sig_input:
            v["reason"] = "Signature or Signature-Input missing"
            raise GnapError(401, "invalid_client", "invalid signature headers")
        comps = sig_input_components(sig_input)
        v["components"] = comps
        v["keyid"] = sig_input_keyid(sig_input)
        reason = None
        if comps is None:
            reason = "no sig1 in Signature-Input"
        elif any(c != c.lower() for c in comps):
            reason = "component names must be lower case"
        elif "content-digest" in comps and not (
                headers.get("content-digest") and headers.get("content-length")
                and headers.get("content-type") and body
                and content_digest_ok(headers["content-digest"], body)):
            reason = "content-digest does not match the re-serialized body (or headers missing)"
        elif "@method" not in comps or "@target-uri" not in comps:
            reason = "@method and @target-uri must be covered"
        elif headers.get("authorization") and "authorization" not in comps:
            reason = "authorization is sent but not covered"
        if reason is None:
            created, created_err = sig_input_created(sig_input)
            v["created"] = created
            if created_err:
                reason = f"strict check (not Rafiki): {created_err}"
        if reason:
            v["reason"] = reason
            raise GnapError(401, "invalid_client", "invalid signature headers")

    def _verify_sig(self, client: str, req: _Req) -> None:
        """verifySigFromClient: keyid -> JWK in the client wallet's JWKS -> Ed25519."""
        headers, v = req.headers, req.v
        sig_input = headers["signature-input"]
        keyid = sig_input_keyid(sig_input)
        if not keyid:
            v["reason"] = "no keyid"
            raise GnapError(401, "invalid_client", "invalid signature input")
        jwk = self._client_key(client, keyid)
        if jwk is None:
            v["reason"] = f"keyid {keyid!r} not in the JWKS of {client!r}"
            raise GnapError(400, "invalid_client", "could not determine client")
        verify_key = None
        try:
            x = b64url_decode(jwk["x"])
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or len(x) != 32:
                raise ValueError("not an Ed25519 JWK")
            verify_key = nacl.signing.VerifyKey(x)
        except (KeyError, ValueError, TypeError) as exc:
            v["reason"] = f"unusable JWK: {exc}"
        v["problems"] = strict_problems(req, verify_key, self.clock())
        if verify_key is None:
            raise GnapError(401, "invalid_client", "invalid signature")
        comps = sig_input_components(sig_input) or []
        lines = []
        for name in comps:
            if name == "@method":
                lines.append(f'"@method": {req.method}')
            elif name == "@target-uri":
                lines.append(f'"@target-uri": {req.target_uri}')
            elif name in headers:
                lines.append(f'"{name}": {headers[name]}')
            else:  # JS would print "undefined"; no honest signer signs that
                v["reason"] = f"covered header {name!r} is missing"
                raise GnapError(401, "invalid_client", "invalid signature")
        lines.append('"@signature-params": ' + sig_input.replace("sig1=", "", 1))
        base = "\n".join(lines)
        v["base"] = base
        try:
            verify_key.verify(base.encode("utf-8"),
                              node_b64decode(headers["signature"].replace("sig1=", "", 1)))
        except (nacl.exceptions.BadSignatureError, ValueError):
            v["reason"] = "signature does not verify"
            raise GnapError(401, "invalid_client", "invalid signature") from None
        v["ok"] = True

    def _client_key(self, client: str, keyid: str) -> Optional[Dict[str, Any]]:
        for wallet in self._wallets.values():
            if wallet["url"] == client:
                for key in wallet["jwks"].get("keys", []):
                    if isinstance(key, dict) and key.get("kid") == keyid:
                        return key
        return None

    # routes -------------------------------------------------------------------------------

    def _create_grant(self, req: _Req) -> Dict[str, Any]:
        parsed, body = rafiki_body(req.raw)
        # OpenAPI request validation runs first in Rafiki: its failures carry no "code".
        if not isinstance(parsed, dict) or not isinstance(parsed.get("client"), str):
            raise GnapError(400, None, "request body must be an object with a string client")
        access_token = parsed.get("access_token")
        access = access_token.get("access") if isinstance(access_token, dict) else None
        if not isinstance(access, list) or not access or not all(
                isinstance(a, dict) and a.get("type") in ("incoming-payment",
                                                          "outgoing-payment", "quote")
                and isinstance(a.get("actions"), list) for a in access):
            raise GnapError(400, None, "access_token.access must list typed access requests")
        interact = parsed.get("interact")
        if interact is not None and not (isinstance(interact, dict)
                                         and isinstance(interact.get("start"), list)):
            raise GnapError(400, None, "interact.start must be a list")
        self._check_sig_headers(req, body)
        self._verify_sig(parsed["client"], req)
        outgoing = any(a["type"] == "outgoing-payment" for a in access)
        if outgoing and not all(a.get("identifier") for a in access
                                if a["type"] == "outgoing-payment"):
            raise GnapError(400, "invalid_request", "identifier required")
        if outgoing and interact is None:
            raise GnapError(400, "invalid_request", "missing required request field 'interact'")
        gid = str(uuid.uuid4())
        grant = _Grant(gid, parsed["client"], access, interact, self.clock())
        self._grants[gid] = grant
        if grant.interact_ref:
            self._refs[grant.interact_ref] = gid
        cont = {"access_token": {"value": grant.continue_token},
                "uri": f"{self.url}/continue/{gid}"}
        if grant.interactive:
            cont["wait"] = self.wait
            return {"interact": {"redirect": f"{self.url}/interact/{gid}/{grant.server_nonce}",
                                 "finish": grant.server_nonce},
                    "continue": cont}
        grant.state = "finalized"
        return {"access_token": self._issue(grant), "continue": cont}

    def _issue(self, grant: _Grant) -> Dict[str, Any]:
        tok = _AccessToken(grant)
        self._tokens[tok.mgmt_id] = tok
        grant.tokens.append(tok.mgmt_id)
        return self._token_body(tok)

    def _token_body(self, tok: _AccessToken) -> Dict[str, Any]:
        return {"access": tok.grant.access, "value": tok.value,
                "manage": f"{self.url}/token/{tok.mgmt_id}",
                "expires_in": self.access_token_expires_in}

    def _continue(self, cid: str, req: _Req) -> Tuple[int, Dict[str, str], bytes]:
        parsed, body = rafiki_body(req.raw)
        # grantContinueHttpsigMiddleware
        self._check_sig_headers(req, body)
        auth = req.headers.get("authorization")
        if not auth:
            req.v["reason"] = "no Authorization header"
            raise GnapError(401, "invalid_client", "invalid signature headers")
        grant = self._grants.get(cid)
        if grant is None or grant.state == "revoked" or \
                grant.continue_token != auth.replace("GNAP ", "", 1):
            raise GnapError(401, "invalid_continuation", "invalid grant")
        self._verify_sig(grant.client, req)
        now = self.clock()
        if req.method == "DELETE":
            grant.state = "revoked"
            for mid in grant.tokens:
                self._tokens[mid].active = False
            return 204, {}, b""
        cont = {"access_token": {"value": grant.continue_token},
                "uri": f"{self.url}/continue/{grant.id}"}
        if len(parsed) == 0:  # poll: no body, {} or []
            if now < grant.last_continued_at + self.wait:
                raise GnapError(400, "too_fast", 'polled grant faster than "wait" period')
            if grant.finish_method:
                raise GnapError(401, "request_denied", "grant cannot be polled")
            if grant.state == "pending":
                grant.last_continued_at = now
                return self._json(200, {"continue": dict(cont, wait=self.wait)})
            if grant.state != "approved":
                raise GnapError(401, "request_denied", "grant cannot be continued")
            grant.state = "finalized"
            return self._json(200, {"access_token": self._issue(grant), "continue": cont})
        ref = parsed.get("interact_ref") if isinstance(parsed, dict) else None
        if not ref:
            raise GnapError(401, "invalid_request", "missing interaction reference")
        owner = self._grants.get(self._refs.get(ref, "") if isinstance(ref, str) else "")
        if owner is not grant:
            raise GnapError(404, "invalid_continuation", "grant not found")
        if grant.state == "rejected":  # Rafiki: 404 invalid_continuation (not continuable)
            raise GnapError(401, "request_denied", "grant interaction rejected")
        if now < grant.last_continued_at + self.wait:
            raise GnapError(400, "too_fast", 'continued grant faster than "wait" period')
        if grant.state != "approved":
            raise GnapError(401, "request_denied", "grant interaction not approved")
        grant.state = "finalized"
        return self._json(200, {"access_token": self._issue(grant), "continue": cont})

    def _manage(self, mid: str, req: _Req) -> Tuple[int, Dict[str, str], bytes]:
        _parsed, body = rafiki_body(req.raw)
        self._check_sig_headers(req, body)  # tokenHttpsigMiddleware
        tok = self._tokens.get(mid)
        if tok is None or not tok.active:
            raise GnapError(401, "invalid_client", "invalid access token")
        self._verify_sig(tok.grant.client, req)
        if (req.headers.get("authorization") or "").replace("GNAP ", "", 1) != tok.value:
            raise GnapError(401, "invalid_client", "access token does not match the manage URL")
        tok.active = False
        if req.method == "DELETE":
            return 204, {}, b""
        new = _AccessToken(tok.grant)
        self._tokens[new.mgmt_id] = new
        tok.grant.tokens.append(new.mgmt_id)
        return self._json(200, {"access_token": self._token_body(new)})

    def _interact(self, segs: List[str], target: str) -> Tuple[int, Dict[str, str], bytes]:
        grant = self._grants.get(segs[1])
        if grant is None or grant.server_nonce != segs[2] or grant.state != "pending":
            raise GnapError(404, "unknown_request", "unknown or finished interaction")
        html_type = {"Content-Type": "text/html; charset=utf-8"}
        if len(segs) == 3:
            base = f"/interact/{grant.id}/{grant.server_nonce}/finish?decision="
            amounts = html.escape(json.dumps(grant.access))
            page = (f"<!doctype html><title>Approve grant</title><h1>Grant request</h1>"
                    f"<p>Client: {html.escape(grant.client)}</p><pre>{amounts}</pre>"
                    f'<p><a id="accept" href="{base}accept">Accept</a> '
                    f'<a id="reject" href="{base}reject">Reject</a></p>')
            return 200, html_type, page.encode("utf-8")
        if segs[3] != "finish":
            raise GnapError(404, "invalid_request", "Not Found")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query))
        decision = query.get("decision")
        if decision not in ("accept", "reject"):
            raise GnapError(400, "invalid_request", "decision must be accept or reject")
        grant.state = "approved" if decision == "accept" else "rejected"
        location = self._finish_redirect(grant)
        if location:
            return 302, {"Location": location, "Content-Type": "text/plain"}, b""
        page = f"<!doctype html><p>Grant {decision}ed. You may close this window.</p>"
        return 200, html_type, page.encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    las: LocalAS

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # resets and broken pipes are expected
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.las._lock:
            self.server.las._conns.add(self.connection)

    def finish(self) -> None:
        with self.server.las._lock:
            self.server.las._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise GnapError(413, "invalid_request", "body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise GnapError(413, "invalid_request", "body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        las = self.server.las
        headers = node_headers(list(self.headers.items()))
        entry: Dict[str, Any] = {"method": method, "path": self.path, "headers": headers,
                                 "body": b"", "verification": {"checked": False},
                                 "status": None, "fault": None, "time": las.clock()}
        with las._lock:
            las.requests_log.append(entry)
        try:
            entry["body"] = self._read_body()
        except (GnapError, ValueError) as exc:
            self.close_connection = True
            status = exc.status if isinstance(exc, GnapError) else 400
            entry["status"] = status
            self._send_bytes(self._raw(status, {"Content-Type": "application/json"},
                                       b'{"error":{"code":"invalid_request","description":'
                                       b'"unreadable body"}}'))
            return
        fault = las._take_fault()
        entry["fault"] = fault
        if fault == "reset":
            self._reset()
            return
        if fault == "hang":
            self._hang()
            return
        if fault in ("500", "html", "redirect", "gzip_bomb"):
            status, hdrs, data = self._fault_response(fault)
        else:
            status, hdrs, data = las._dispatch(method, self.path, headers, entry["body"],
                                               entry["verification"])
        entry["status"] = status
        entry["response"] = data
        if fault == "reset_after":
            self._reset()
            return
        if fault == "hang_after":
            self._hang()
            return
        raw = self._raw(status, hdrs, data)
        if fault == "drip":
            for i in range(len(raw)):
                if las._stop.wait(0.2):
                    self.close_connection = True
                    return
                if not self._send_bytes(raw[i:i + 1]):
                    return
        else:
            self._send_bytes(raw)

    def _raw(self, status: int, hdrs: Dict[str, str], data: bytes) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
                 f"Date: {self.date_time_string()}", "Server: local-as"]
        lines += [f"{k}: {v}" for k, v in hdrs.items()]
        if status != 204:
            lines.append(f"Content-Length: {len(data)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (b"" if status == 204 else data)

    def _send_bytes(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def _reset(self) -> None:
        self.close_connection = True
        try:  # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass

    def _hang(self) -> None:
        self.close_connection = True
        self.server.las._stop.wait()

    def _fault_response(self, fault: str) -> Tuple[int, Dict[str, str], bytes]:
        las = self.server.las
        if fault == "500":
            return 500, {"Content-Type": "text/html"}, \
                b"<html><body><h1>500 Internal Server Error</h1></body></html>"
        if fault == "html":
            return 200, {"Content-Type": "text/html"}, \
                b"<!doctype html><html><body>Please log in</body></html>"
        if fault == "redirect":
            return 302, {"Location": f"{las.url}/redirected{self.path}",
                         "Content-Type": "text/plain"}, b""
        if not _gzip_bomb_cache:
            payload = b'{"pad":"' + b"0" * (20 * 1024 * 1024) + b'"}'
            _gzip_bomb_cache.append(gzip.compress(payload, compresslevel=9))
        return 200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, \
            _gzip_bomb_cache[0]


def play_user(redirect: str, decision: str = "accept") -> str:
    """The user at the AS: open the interaction page at ``redirect`` (a grant's
    interact.redirect), press Accept (or Reject), and return where the AS sends the browser
    back (the finish redirect; "" for a grant without finish)."""
    parts = urllib.parse.urlsplit(redirect)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("expected the local AS's http interact.redirect URL")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path)
        page = conn.getresponse().read().decode("utf-8")
        link = re.search(rf'id="{decision}" href="([^"]+)"', page)
        if link is None:
            raise ValueError("no interaction page there (unknown or finished grant)")
        conn.request("GET", html.unescape(link.group(1)))
        answer = conn.getresponse()
        answer.read()
        return answer.getheader("Location") or ""
    finally:
        conn.close()


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["approve"], ["reject"]):
        if len(argv) != 2:
            print(f"usage: python tests/local_as.py {argv[0]} INTERACT_REDIRECT", file=sys.stderr)
            return 2
        try:
            print(play_user(argv[1], "accept" if argv[0] == "approve" else "reject"))
        except (OSError, ValueError) as exc:
            print(f"local_as: {argv[0]}: {exc}", file=sys.stderr)
            return 1
        return 0
    parser = argparse.ArgumentParser(
        description="Local Rafiki-like GNAP authorization server (also: approve|reject "
                    "INTERACT_REDIRECT, playing the user)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--wait", type=int, default=0)
    parser.add_argument("--wallet", action="append", default=[], metavar="NAME=JWKS.json",
                        help="serve a client wallet address with the public keys of that file")
    args = parser.parse_args(argv)
    srv = LocalAS(wait=args.wait, host=args.host, port=args.port)
    for spec in args.wallet:
        name, _, path = spec.partition("=")
        with open(path, encoding="utf-8") as fh:
            print(f"wallet address: {srv.add_wallet(name, json.load(fh))}", flush=True)
    srv.start()
    print(f"LocalAS listening on {srv.url}", flush=True)
    print(f"grant endpoint: {srv.grant_endpoint}", flush=True)
    print("approve in a browser via the interact.redirect URL of a grant, or with "
          "'python tests/local_as.py approve URL'; Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures and helpers, each defined once: the published vectors (vectors/*.json) loaded
and checked for shape, the one "raises exactly this error" helper, a secret-free check, key and
grant data, stand-ins for the transport, and the local AS on loopback."""
import base64
import json
import pathlib
import re
import sys
from typing import Any, Dict, List

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTOR_DIR = ROOT / "vectors"
sys.path.insert(0, str(ROOT))  # test the working tree's op_continue.py, vendored-file style
import op_continue as oc  # noqa: E402  (after the path is set)

try:  # the floor leg has no hypothesis
    from hypothesis import Phase, settings
except ImportError:
    pass
else:  # tests/break_rows.py: a broken module fails a property at once; shrinking it takes minutes
    settings.register_profile("break-rows", phases=[Phase.explicit, Phase.reuse, Phase.generate])

KID = "test-key"  # the online tests' key id: keyfile's KEY_ID, the key in the las wallet's JWKS


def _load(path: pathlib.Path) -> List[Dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["schema"] == "op_continue-vectors/1", path.name
    tests = doc["tests"]
    assert doc["numberOfTests"] == len(tests), f"{path.name}: numberOfTests is stale"
    for test in tests:
        test["_file"] = path.name
        test["_source"] = doc["source"]
    return tests


FINISH_URI = "https://client.example/finish"
OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],  # Open Payments access
             "identifier": "https://wallet.example/alice",
             "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}}]


NOW = 1_700_000_000  # a fixed clock for created/expires and --created
URI = "https://auth.example/continue/abc"
TOKEN = "SECRET-TOKEN-1"  # secrets that no message, repr or log may show
REF = "SECRET-INTERACT-REF-1"
QUOTED = "is quoted (it begins or ends with a quote mark, as copied from a .env file); give " \
         "the value without the quotes"
CAFE = [{"type": "incoming-payment", "actions": ["create", "read"],  # JSON out must be UTF-8
         "identifier": "https://wallet.example/café"}]
NO_URI = oc.Message(method="GET", request_target="/")  # a request without Host: no target URI


def get_message(*fields, url="https://as.example/x?a=1"):
    """A GET request to ``url`` with these field lines."""
    return oc.request_message("GET", url, fields)


def raised(error, fn, *args, **kwargs):
    """The exception ``fn(*args, **kwargs)`` raises, checked to be exactly ``error`` (not a
    subclass of it) and to carry no exception chain (a chained cause could carry a secret)."""
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert type(info.value) is error
    assert info.value.__cause__ is None and info.value.__context__ is None
    return info.value


def described(error):
    """A ResponseError as (message, JSON path, HTTP status)."""
    return str(error), error.path, error.status


def exact(message):
    """A pytest.raises pattern matching ``message`` exactly."""
    return "^" + re.escape(message) + "$"


def no_secret(exc_or_text, *secrets):
    """None of ``secrets`` in a text, or in an exception's str, repr and args."""
    assert secrets
    blob = exc_or_text if isinstance(exc_or_text, str) else \
        f"{exc_or_text}|{exc_or_text!r}|{getattr(exc_or_text, 'args', ())!r}"
    for secret in secrets:
        assert secret not in blob


def pem(label, der):
    """``der`` as a PEM block under ``label``."""
    return f"-----BEGIN {label}-----\n{base64.b64encode(der).decode()}\n-----END {label}-----\n"


def start_grant(client, las, access=OUTGOING, finish=True):
    """A grant request to ``las`` for its wallet: (the Grant, the client nonce); interactive with
    a finish URI, or (finish=False) a redirect start without one."""
    nonce = oc.new_nonce()
    body = oc.grant_request_body(client=las.wallet, access=access,
                                 finish_uri=FINISH_URI if finish else None,
                                 nonce=nonce if finish else None)
    if not finish:
        body["interact"] = {"start": ["redirect"]}
    return client.request_grant(las.grant_endpoint, body), nonce


def created_of(entry):
    """The created parameter of a request as the AS received it (RFC 9421 §2.3)."""
    return int(entry["headers"]["signature-input"].rsplit(";created=", 1)[1])


def approve(client, las):
    """An interactive grant the user approved: (the Grant, the checked interact_ref)."""
    grant, nonce = start_grant(client, las)
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    oc.verify_interaction_hash(finish.hash, nonce, grant.interact.finish, finish.interact_ref,
                               las.grant_endpoint)
    return grant, finish.interact_ref


def load_vectors() -> List[Dict[str, Any]]:
    return [t for f in sorted(VECTOR_DIR.glob("*.json")) for t in _load(f)]


VECTORS = load_vectors()


def vectors_of(kind: str) -> List[Dict[str, Any]]:
    return [v for v in VECTORS if v["type"] == kind]


def text(lines: Any) -> str:
    """Multi-line values are arrays of lines joined with LF (vectors/FORMAT.md)."""
    return "\n".join(lines) if isinstance(lines, list) else lines


KEYS = {v["id"]: v for v in vectors_of("key")}
ED = KEYS["rfc9421-B.1.4"]["input"]  # RFC 9421 B.1.4, the Ed25519 test key
PUBLIC_JWK = {k: v for k, v in ED["jwk"].items() if k != "d"}


def __getattr__(name: str) -> Any:
    """KEY (a fixed key, for values that must not vary) and PRIVATE (RFC 9421 B.1.4's key),
    made when a test module imports them, not when pytest loads this file: a broken key loader
    then fails the tests that use them, not pytest's start (mutation testing runs a module
    whose every function fails, and needs the run to fail as tests do, not as a usage error)."""
    if name == "KEY":
        value = oc.PrivateKey.from_seed(bytes(range(32)))
    elif name == "PRIVATE":
        value = oc.PrivateKey.from_pem(text(ED["private_pem"]))
    else:
        raise AttributeError(name)
    globals()[name] = value  # made once
    return value


def run(capsys, *argv):
    """op-continue in-process: (exit code, stdout, stderr)."""
    import op_continue

    code = op_continue.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name, data):
    """A file under tmp_path (str data as UTF-8); its path as a str."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


class FakeResponse:
    """A streamed requests.Response stand-in: ``chunks`` are the body's pieces; an exception
    among them is raised there (a failure mid-body); ``block`` holds the stream open."""

    def __init__(self, chunks, block=None, status=200, content_type="application/json"):
        self.status_code = status
        self.headers = {"Content-Type": content_type} if content_type else {}
        self.chunks, self.block, self.closed = chunks, block, False

    def iter_content(self, size):
        for chunk in self.chunks:
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
        if self.block is not None:
            self.block.wait(5)

    def close(self):
        self.closed = True
        if self.block is not None:
            self.block.set()


class FakeAdapter:
    """A stand-in for the requests adapter a Client sends through (``Client._adapter``):
    answers every request with ``response`` and records (method, url, send keyword arguments,
    headers)."""

    def __init__(self, response):
        self.response, self.calls = response, []

    def send(self, request, **kwargs):
        self.calls.append((request.method, request.url, kwargs, dict(request.headers)))
        return self.response

    def close(self):
        pass


def fake_transport(client, response):
    """Make ``client`` answer every request with ``response``; returns the FakeAdapter."""
    client._adapter = FakeAdapter(response)
    return client._adapter


def canned(monkeypatch, *answers):
    """Client.send answers these in turn, each (status, JSON or None) or (status, Content-Type,
    body as JSON or bytes); the signed requests are collected."""
    sent, queue = [], list(answers)

    def send(self, signed):
        sent.append(signed)
        answer = queue.pop(0)
        status, ctype, obj = answer if len(answer) == 3 else (answer[0], "application/json",
                                                               answer[1])
        data = obj if isinstance(obj, bytes) else b"" if obj is None else json.dumps(obj).encode()
        return status, ctype, data

    monkeypatch.setattr(oc.Client, "send", send)
    return sent


def retry_policy(total, methods):
    """urllib3's Retry retrying ``methods`` (None: every method), named as the installed
    urllib3 names it (allowed_methods from 1.26, method_whitelist before)."""
    import inspect

    from urllib3.util.retry import Retry

    name = ("allowed_methods" if "allowed_methods" in inspect.signature(Retry).parameters
            else "method_whitelist")
    return Retry(total=total, **{name: methods})


@pytest.fixture(autouse=True)
def _fresh_url_cache():
    """normalize_url caches the URLs that passed its checks; each test starts without them, so
    that a check is never skipped for a URL an earlier test (or mutmut's stats run) cached."""
    import op_continue

    op_continue._NORMALIZED_URLS.clear()


@pytest.fixture
def key():
    """A fresh Ed25519 client key."""
    import op_continue

    return op_continue.PrivateKey.generate()


@pytest.fixture
def client(key):
    """A Client with ``key`` under KID, allowed plain HTTP (the local AS)."""
    return oc.Client(key, KID, allow_http=True, timeout=5)


@pytest.fixture
def keyfile(key, tmp_path, monkeypatch):
    """``key`` written to a 0600 PEM file, named by PRIVATE_KEY_PATH, with KEY_ID set to KID:
    the online commands' key settings. Returns the file's path."""
    path = tmp_path / "key.pem"
    key.write_pem(path)
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(path))
    monkeypatch.setenv("KEY_ID", KID)
    return path


@pytest.fixture
def las(key):
    """The local test AS on loopback, with a wallet "alice" whose JWKS holds ``key`` under KID."""
    from local_as import LocalAS

    import op_continue

    server = LocalAS(wait=0).start()
    server.wallet = server.add_wallet("alice", op_continue.jwks({KID: key.public_key}))
    yield server
    server.stop()

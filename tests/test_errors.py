"""The error contract: bad input ends in a typed error with a clear message, and no secret
(private key, access token, interact_ref) reaches str(), repr(), args or a log record."""
import base64
import json
import logging
import os
import warnings

import pytest
from conftest import text, vectors_of

import op_continue as oc

KEYS = {v["id"]: v for v in vectors_of("key")}
ED_PEM = text(KEYS["rfc9421-B.1.4"]["input"]["private_pem"]) + "\n"
SEED = oc.PrivateKey.from_pem(ED_PEM)
TOKEN = "SECRET-TOKEN-1"
REF = "SECRET-INTERACT-REF-1"
URI = "https://auth.example/continue/abc"


def no_secret(exc_or_text, *secrets):
    blob = exc_or_text if isinstance(exc_or_text, str) else \
        f"{exc_or_text}|{exc_or_text!r}|{exc_or_text.args!r}"
    for secret in secrets or (TOKEN, REF):
        assert secret not in blob


# --- keys -------------------------------------------------------------------------------

def _pem(label, der):
    body = base64.b64encode(der).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


SEED_HEX = "9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5"


BAD_PRIVATE_PEMS = [
    (text(KEYS["rfc9421-B.1.1"]["input"]["private_pem"]), "RSA"),
    (text(KEYS["rfc9421-B.1.2"]["input"]["private_pem"]), "RSA-PSS"),
    (text(KEYS["rfc9421-B.1.3"]["input"]["private_pem"]), "EC"),
    (_pem("ENCRYPTED PRIVATE KEY", b"\x30\x03\x02\x01\x00"), "encrypted"),
    (_pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00"), "OpenSSH"),
    (_pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") + bytes(32)), "PUBLIC KEY"),
    (ED_PEM.replace("MC4CAQAw", "MC4CAQAx"), "malformed"),
    (ED_PEM[:60] + "\n-----END PRIVATE KEY-----\n", "truncated"),
    (ED_PEM.replace("-----END PRIVATE KEY-----", ""), "BEGIN/END"),
    ("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "BEGIN/END"),
    ("not a key at all", "not a PEM"),
    (_pem("PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") + bytes(31)),
     "truncated"),
    (_pem("PRIVATE KEY", bytes.fromhex("302e020102300506032b657004220420") + bytes(32)),
     "version"),
    (_pem("PRIVATE KEY", bytes.fromhex("3030020100300706032b6570050004220420") + bytes(32)),
     "no parameters"),
]


@pytest.mark.parametrize("pem, message", BAD_PRIVATE_PEMS)
def test_bad_private_keys(pem, message):
    with pytest.raises(oc.UsageError, match=message) as info:
        oc.PrivateKey.from_pem(pem)
    no_secret(info.value, SEED_HEX, ED_PEM.splitlines()[1])


def test_private_key_forms_agree():
    b64_of_pem = base64.b64encode(ED_PEM.encode()).decode()
    assert oc.PrivateKey.from_pem(b64_of_pem).public_key == SEED.public_key
    assert oc.PrivateKey.from_seed(bytes.fromhex(SEED_HEX)).public_key == SEED.public_key
    pem = SEED.to_pem()
    assert pem == ED_PEM  # PKCS#8 v1 exactly as RFC 9421 B.1.4 prints it
    with pytest.raises(oc.UsageError, match="32 bytes"):
        oc.PrivateKey.from_seed(bytes(31))


def test_private_key_repr_hides_the_seed():
    no_secret(repr(SEED), SEED_HEX, ED_PEM.splitlines()[1])
    assert "secret" in repr(SEED)


BAD_JWKS = [
    ({"kty": "RSA", "n": "x", "e": "AQAB"}, "OKP"),
    ({"kty": "OKP", "crv": "X25519", "x": "A" * 43}, "OKP"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 42}, "32 bytes"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A+" * 22}, "base64url"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 43, "alg": "RS256"}, "EdDSA"),
    ("not an object", "object"),
]


@pytest.mark.parametrize("jwk, message", BAD_JWKS)
def test_bad_jwks(jwk, message):
    with pytest.raises(oc.UsageError, match=message):
        oc.PublicKey.from_jwk(jwk)


def test_key_files(tmp_path):
    with pytest.raises(oc.UsageError, match="not found"):
        oc.load_private_key(tmp_path / "missing.pem")
    path = tmp_path / "k.pem"
    path.write_text(ED_PEM)
    os.chmod(path, 0o644)
    with pytest.warns(UserWarning, match="readable by other users"):
        oc.load_private_key(path)
    os.chmod(path, 0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oc.load_private_key(path)
    if os.geteuid() != 0:  # root reads anything
        os.chmod(path, 0)
        with pytest.raises(oc.UsageError, match="cannot read"):
            oc.load_private_key(path)


# --- request inputs ---------------------------------------------------------------------

def sign(**kw):
    args = dict(key=SEED, key_id="k1", access_token=TOKEN, body=None, created=1)
    args.update(kw)
    url = args.pop("url", URI)
    return oc.sign_request("POST", url, **args)


BAD_URLS = [
    ("http://auth.example/continue/abc", "https"),
    ("ftp://auth.example/x", "https"),
    ("https://user:pw@auth.example/x", "userinfo"),
    ("https://auth.example/x#frag", "fragment"),
    ("https://auth.example/x\r\nX: y", "control"),
    ("https://auth.example/a b", "spaces"),
    ("https://auth.exämple/x", "ASCII"),
    ("https:///x", "host"),
    ("/continue/abc", "host"),
    ("https://auth.example/a/../b", "normalized"),
    ("https://auth.example/a%zz", "normalized"),
    ("", "non-empty"),
]


@pytest.mark.parametrize("url, message", BAD_URLS)
def test_bad_urls(url, message):
    with pytest.raises(oc.UsageError, match=message):
        sign(url=url)


def test_http_only_for_loopback_and_only_when_allowed():
    assert sign(url="http://127.0.0.1:8080/c", allow_http=True).url == "http://127.0.0.1:8080/c"
    assert sign(url="http://[::1]/c", allow_http=True).url == "http://[::1]/c"
    with pytest.raises(oc.UsageError, match="loopback"):
        sign(url="http://auth.example/c", allow_http=True)


def test_url_is_normalized_like_whatwg():
    assert sign(url="HTTPS://Auth.Example:443").url == "https://auth.example/"
    assert sign(url="https://auth.example:8443/c?x=1").url == "https://auth.example:8443/c?x=1"
    assert sign(url="https://auth.example:08443/c").url == "https://auth.example:8443/c"
    assert sign(url="https://auth.example:0443/c").url == "https://auth.example/c"


BAD_TOKENS = ["", "a\r\nb", "a\nb", "a\x00b", "tök", "a b", 5, None]


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_bad_tokens(bad):
    if bad is None:
        return  # None means "no Authorization" and is allowed
    with pytest.raises(oc.UsageError, match="access token") as info:
        sign(access_token=bad)
    no_secret(info.value)


BAD_INTERACT_REFS = ["", "a\r\nb", "a\x00b", "réf", "a b"]


@pytest.mark.parametrize("bad", BAD_INTERACT_REFS)
def test_bad_interact_refs(bad):
    with pytest.raises(oc.UsageError, match="interact_ref"):
        oc.continue_body(bad)


BAD_KEY_IDS = ["", "k;1", 'k"1', "k\\1", "k\n1", "kö"]


@pytest.mark.parametrize("bad", BAD_KEY_IDS)
def test_bad_key_ids(bad):
    with pytest.raises(oc.UsageError, match="key id"):
        sign(key_id=bad)


BAD_CREATED = (-1, 1.5, True, "1")


def test_bad_created():
    for bad in BAD_CREATED:
        with pytest.raises(oc.UsageError, match="created"):
            sign(created=bad)


# --- secrets never shown ------------------------------------------------------------------

def test_signed_request_repr_hides_token_and_body():
    signed = sign(body=oc.continue_body(REF))
    no_secret(repr(signed))
    assert "[secure]" in repr(signed)
    assert signed.header("Authorization") == "GNAP " + TOKEN  # but the request carries it


def test_dataclass_reprs_hide_secrets():
    grant = oc.Grant.from_json({
        "access_token": {"value": TOKEN, "manage": "https://as.example/token/1",
                         "access": [{"type": "quote", "actions": ["create"]}]},
        "continue": {"access_token": {"value": REF}, "uri": "https://as.example/continue/1"}})
    no_secret(repr(grant))
    no_secret(repr(oc.InteractionFinish(REF, "h")))
    no_secret(repr(oc.Client(SEED, "k1")), SEED_HEX)
    no_secret(repr(oc.GnapAuth(SEED, "k1", TOKEN)))


def test_grant_error_description_is_redacted():
    body = json.dumps({"error": {"code": "invalid_continuation",
                                 "description": f"bad token {TOKEN} for ref {REF}\x1b[31m"}})
    with pytest.raises(oc.GrantError) as info:
        oc._interpret(401, "application/json", body.encode(), (TOKEN, REF), False)
    no_secret(info.value)
    assert info.value.code == "invalid_continuation" and info.value.status == 401
    assert "\x1b" not in str(info.value)


def test_nothing_is_logged(caplog):
    caplog.set_level(logging.DEBUG)
    sign(body=oc.continue_body(REF))
    with pytest.raises(oc.Error):
        oc._interpret(500, "text/html", b"<html>" + TOKEN.encode(), (TOKEN,), False)
    no_secret("\n".join(r.getMessage() for r in caplog.records))


# --- responses ----------------------------------------------------------------------------

BAD_RESPONSES = [
    (500, "text/html", b"<html>oops</html>", oc.ResponseError, "text/html"),
    (502, "text/plain", b"bad gateway", oc.ResponseError, "text/plain"),
    (200, "text/html", b"<html>hi</html>", oc.ResponseError, "not JSON"),
    (200, "application/json", b"{not json", oc.ResponseError, "not valid JSON"),
    (200, "application/json", b'{"a":1,"a":2}', oc.ResponseError, "not valid JSON"),
    (200, "application/json", b'{"a":NaN}', oc.ResponseError, "not valid JSON"),
    (200, "application/json", b"[" * 100000, oc.ResponseError, "not valid JSON"),
    (200, "application/json", b"\xff\xfe", oc.ResponseError, "not valid JSON"),
    (200, "application/json", b"", oc.ResponseError, "empty"),
    (302, "text/html", b"", oc.ResponseError, "redirect"),
    (201, "application/json", b"{}", oc.ResponseError, "unexpected HTTP status 201"),
    (400, "application/json", b'{"error":"too_fast"}', oc.GrantError, "too_fast"),
    (200, "application/json", b'{"error":{"code":"request_denied"}}', oc.GrantError,
     "request_denied"),
    (401, "application/json", b'{"error":{"code":"brand_new_code","description":"x"}}',
     oc.GrantError, "brand_new_code"),
    (400, "application/json", b'{"error":{"description":"schema says no"}}', oc.GrantError,
     "unknown"),
    (404, "application/json", b'{"error":{"code":"bad code with spaces"}}', oc.ResponseError,
     "without a GNAP error"),
]


@pytest.mark.parametrize("status, ctype, body, error, fragment", BAD_RESPONSES)
def test_bad_responses(status, ctype, body, error, fragment):
    with pytest.raises(error, match=fragment):
        oc._interpret(status, ctype, body, (TOKEN,), False)


GOOD = {"access_token": {"value": "ACCESS-SECRET-8", "manage": "https://as.example/token/1",
                         "expires_in": 600,
                         "access": [{"type": "outgoing-payment", "actions": ["create", "read"],
                                     "identifier": "https://w.example/alice",
                                     "limits": {"debitAmount": {"value": "500", "assetCode": "USD",
                                                                "assetScale": 2}}}]},
        "continue": {"access_token": {"value": "CONT-SECRET-9"}, "uri": "https://as.example/continue/1",
                     "wait": 5}}


def mutate(path, value):
    doc = json.loads(json.dumps(GOOD))
    node = doc
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


GRANT_SHAPE_ERRORS = [
    (("access_token", "value"), 5, "$.access_token.value"),
    (("access_token", "value"), "a b", "$.access_token.value"),
    (("access_token", "manage"), "http://as.example/token/1", "$.access_token.manage"),
    (("access_token", "manage"), KeyError, "$.access_token.manage"),
    (("access_token", "access"), {}, "$.access_token.access"),
    (("access_token", "expires_in"), -1, "$.access_token.expires_in"),
    (("access_token", "expires_in"), "600", "$.access_token.expires_in"),
    (("access_token", "access", 0, "type"), "teleport", "$.access_token.access[0].type"),
    (("access_token", "access", 0, "actions", 1), "fly", "$.access_token.access[0].actions[1]"),
    (("access_token", "access", 0, "identifier"), KeyError, "$.access_token.access[0]"),
    (("access_token", "access", 0, "limits", "debitAmount", "value"), "-5",
     "$.access_token.access[0].limits.debitAmount.value"),
    (("access_token", "access", 0, "limits", "debitAmount", "assetScale"), 256,
     "$.access_token.access[0].limits.debitAmount.assetScale"),
    (("continue", "wait"), -1, "$.continue.wait"),
    (("continue", "wait"), 10**9, "$.continue.wait"),
    (("continue", "wait"), True, "$.continue.wait"),
    (("continue", "uri"), "javascript:alert(1)", "$.continue.uri"),
    (("continue", "access_token"), "CONT-SECRET-9", "$.continue.access_token"),
]


@pytest.mark.parametrize("path, value, where", GRANT_SHAPE_ERRORS)
def test_grant_shape_errors_name_the_path(path, value, where):
    with pytest.raises(oc.ResponseError) as info:
        oc.Grant.from_json(mutate(path, value))
    assert info.value.path == where
    no_secret(info.value, "CONT-SECRET-9", "ACCESS-SECRET-8")


def test_grant_parses_and_tolerates_unknown_members():
    doc = mutate(("continue", "future_member"), {"x": 1})
    doc["another"] = True
    grant = oc.Grant.from_json(doc)
    assert grant.is_finalized and not grant.is_pending
    assert grant.access_token.access[0].limits.debitAmount.value == "500"
    assert grant.continue_.wait == 5
    with pytest.raises(oc.ResponseError, match="expected access_token, subject or continue"):
        oc.Grant.from_json({})
    with pytest.raises(AttributeError):
        grant.continue_ = None  # frozen


def test_transport_error_keeps_no_request_on_its_chain():
    """requests' exceptions carry .request (Authorization header, body): none may hang on the
    TransportError's __context__ or __cause__, where a traceback logger would print it."""
    import requests

    class Refusing(requests.Session):
        def request(self, method, url, **kw):
            prepared = requests.Request(method, url, headers=kw["headers"],
                                        data=kw["data"]).prepare()
            raise requests.exceptions.ReadTimeout("read timed out", request=prepared)

    client = oc.Client(SEED, "k1", session=Refusing())
    with pytest.raises(oc.TransportError) as info:
        client.continue_grant(URI, TOKEN, REF)
    assert info.value.request_sent
    assert info.value.__context__ is None and info.value.__cause__ is None
    no_secret(info.value)


def test_pkcs8_v2_with_its_public_key():
    """RFC 5958 §2 OneAsymmetricKey (v2) carries the public key as [1] BIT STRING: accepted
    when it matches; refused when it does not or when its unused-bits byte is not 0."""
    seed, pub = bytes.fromhex(SEED_HEX), SEED.public_key.raw
    head = bytes.fromhex("3051020101300506032b657004220420") + seed

    def v2(bits):
        return _pem("PRIVATE KEY", head + b"\x81\x21" + bits)

    assert oc.PrivateKey.from_pem(v2(b"\x00" + pub)).public_key == SEED.public_key
    for bad in (b"\x00" + bytes(32), b"\x01" + pub):
        with pytest.raises(oc.UsageError, match="does not match") as info:
            oc.PrivateKey.from_pem(v2(bad))
        no_secret(info.value, SEED_HEX)


"""The error contract: bad input ends in a typed error with a clear message, and no secret
(private key, access token, interact_ref) reaches str(), repr(), args or a log record."""
import base64
import json
import logging
import os
import warnings

import pytest
from conftest import KEYS, REF, TOKEN, URI, no_secret, pem, run, text, write

import op_continue as oc

ED_PEM = text(KEYS["rfc9421-B.1.4"]["input"]["private_pem"]) + "\n"
SEED = oc.PrivateKey.from_pem(ED_PEM)


# --- keys -------------------------------------------------------------------------------

SEED_HEX = "9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5"


BAD_PRIVATE_PEMS = [
    (text(KEYS["rfc9421-B.1.1"]["input"]["private_pem"]), "RSA"),
    (text(KEYS["rfc9421-B.1.2"]["input"]["private_pem"]), "RSA-PSS"),
    (text(KEYS["rfc9421-B.1.3"]["input"]["private_pem"]), "EC"),
    (pem("ENCRYPTED PRIVATE KEY", b"\x30\x03\x02\x01\x00"), "encrypted"),
    (pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00"), "OpenSSH"),
    (pem("PUBLIC KEY", bytes.fromhex("302a300506032b6570032100") + bytes(32)), "PUBLIC KEY"),
    (ED_PEM.replace("MC4CAQAw", "MC4CAQAx"), "malformed"),
    (ED_PEM[:60] + "\n-----END PRIVATE KEY-----\n", "truncated"),
    (ED_PEM.replace("-----END PRIVATE KEY-----", ""), "BEGIN/END"),
    ("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "BEGIN/END"),
    ("not a key at all", "not a PEM"),
    (pem("PRIVATE KEY", bytes.fromhex("302e020100300506032b657004220420") + bytes(31)),
     "truncated"),
    (pem("PRIVATE KEY", bytes.fromhex("302e020102300506032b657004220420") + bytes(32)),
     "version"),
    (pem("PRIVATE KEY", bytes.fromhex("3030020100300706032b6570050004220420") + bytes(32)),
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
@pytest.mark.req("RFC9421-2.2-5")
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
    no_secret(info.value, TOKEN, REF)


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
    no_secret(repr(signed), TOKEN, REF)
    assert "[secure]" in repr(signed)
    assert signed.header("Authorization") == "GNAP " + TOKEN  # but the request carries it


def test_dataclass_reprs_hide_secrets():
    grant = oc.Grant.from_json({
        "access_token": {"value": TOKEN, "manage": "https://as.example/token/1",
                         "access": [{"type": "quote", "actions": ["create"]}]},
        "continue": {"access_token": {"value": REF}, "uri": "https://as.example/continue/1"}})
    no_secret(repr(grant), TOKEN, REF)
    no_secret(repr(oc.InteractionFinish(REF, "h")), TOKEN, REF)
    no_secret(repr(oc.Client(SEED, "k1")), SEED_HEX)
    no_secret(repr(oc.GnapAuth(SEED, "k1", TOKEN)), TOKEN, REF)


def test_grant_error_description_is_redacted():
    body = json.dumps({"error": {"code": "invalid_continuation",
                                 "description": f"bad token {TOKEN} for ref {REF}\x1b[31m"}})
    with pytest.raises(oc.GrantError) as info:
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(401, "application/json", body.encode(), (TOKEN, REF), False)
    no_secret(info.value, TOKEN, REF)
    assert info.value.code == "invalid_continuation" and info.value.status == 401
    assert "\x1b" not in str(info.value)


def test_nothing_is_logged(caplog):
    caplog.set_level(logging.DEBUG)
    sign(body=oc.continue_body(REF))
    with pytest.raises(oc.Error):
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(500, "text/html", b"<html>" + TOKEN.encode(), (TOKEN,), False)
    no_secret("\n".join(r.getMessage() for r in caplog.records), TOKEN, REF)


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
        # private _interpret: reads every Client answer; alone, a case needs no transport
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
@pytest.mark.req("RFC9635-3-2")
def test_grant_shape_errors_name_the_path(path, value, where):
    with pytest.raises(oc.ResponseError) as info:
        oc.Grant.from_json(mutate(path, value))
    assert info.value.path == where
    no_secret(info.value, "CONT-SECRET-9", "ACCESS-SECRET-8")


@pytest.mark.req("RFC9635-3-1")
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

    class Refusing:
        def send(self, prepared, **kw):
            raise requests.exceptions.ReadTimeout("read timed out", request=prepared)

    client = oc.Client(SEED, "k1")
    client._adapter = Refusing()
    with pytest.raises(oc.TransportError) as info:
        client.continue_grant(URI, TOKEN, REF)
    assert not info.value.request_sent  # the stand-in sent nothing
    assert info.value.__context__ is None and info.value.__cause__ is None
    no_secret(info.value, TOKEN, REF)


def test_pkcs8_v2_with_its_public_key():
    """RFC 5958 §2 OneAsymmetricKey (v2) carries the public key as [1] BIT STRING: accepted
    when it matches; refused when it does not or when its unused-bits byte is not 0."""
    seed, pub = bytes.fromhex(SEED_HEX), SEED.public_key.raw
    head = bytes.fromhex("3051020101300506032b657004220420") + seed

    def v2(bits):
        return pem("PRIVATE KEY", head + b"\x81\x21" + bits)

    assert oc.PrivateKey.from_pem(v2(b"\x00" + pub)).public_key == SEED.public_key
    for bad in (b"\x00" + bytes(32), b"\x01" + pub):
        with pytest.raises(oc.UsageError, match="does not match") as info:
            oc.PrivateKey.from_pem(v2(bad))
        no_secret(info.value, SEED_HEX)


# --- exception chains ---------------------------------------------------------------------
# An error reporter (a traceback printer, Sentry, a log formatter) walks __context__ and
# __cause__ and prints each exception with its attributes. `raise X from None` only hides
# __context__: the caught exception, and the input it holds (UnicodeDecodeError.object,
# JSONDecodeError.doc), stays reachable. So every secret must be absent from the whole chain.

SENTINEL_SEED = b"\xf0SENTINEL-SEED-do-not-leak-it!!\xf0"  # 32 bytes; two are not ASCII
SENTINEL_DER = bytes.fromhex("302e020100300506032b657004220420") + SENTINEL_SEED
SENTINEL_PEM = pem("PRIVATE KEY", SENTINEL_DER)
SENTINEL_KEY = oc.PrivateKey.from_seed(SENTINEL_SEED)
JSON_TOKEN = "SENTINEL-ACCESS-TOKEN-7"


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secret_forms(secret):
    """The ways a secret can show in text: as is, and for bytes hex, base64 and repr forms;
    a str also as its repr, and each of its lines (a PEM's base64 body)."""
    if isinstance(secret, bytes):
        return {secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
                base64.b64encode(secret).decode().rstrip("="), _b64url(secret),
                repr(secret)[2:-1], secret.decode("latin-1")}
    return {secret, repr(secret)[1:-1]} | {line for line in secret.splitlines()
                                           if len(line) >= 16}


SEED_SECRETS = (SENTINEL_SEED, SENTINEL_PEM, "SENTINEL-SEED", bytes.fromhex(SEED_HEX),
                ED_PEM)
DEFAULT_SECRETS = (TOKEN, REF, JSON_TOKEN, "CONT-SECRET-9", "ACCESS-SECRET-8", *SEED_SECRETS)


def exception_chain(exc):
    """``exc`` and every exception reachable from it by __context__ and __cause__, once each."""
    found, todo = [], [exc]
    while todo:
        current = todo.pop()
        if current is not None and all(current is not seen for seen in found):
            found.append(current)
            todo += [current.__context__, current.__cause__]
    return found


def chain_text(exc):
    """What an error reporter could print of the chain: each exception's str and repr, and the
    str and repr of its args, its vars() and its other public attributes (C-level ones such as
    UnicodeError.object and OSError.filename are not in vars())."""
    out = []
    for current in exception_chain(exc):
        values = [current, *current.args, *vars(current).values(),
                  *getattr(current, "__notes__", ())]
        for name in dir(current):
            value = getattr(current, name, None) if not name.startswith("_") else None
            if value is not None and not callable(value):
                values.append(value)
        out += [f"{type(current).__name__}: {value!s} | {value!r}" for value in values]
    return "\n".join(out)


def assert_chain_clean(exc, *secrets):
    """No secret (nor any of its forms) anywhere on ``exc``'s chain; ``exc`` stands alone."""
    blob = chain_text(exc)
    for secret in DEFAULT_SECRETS + secrets:
        for form in secret_forms(secret):
            assert form not in blob, f"a secret is on the chain of {exc!r}"
    assert exc.__context__ is None and exc.__cause__ is None, exception_chain(exc)


def test_chain_helper_finds_what_raise_from_none_keeps():
    """The helper itself: it sees through __suppress_context__ and into C-level attributes."""
    try:
        try:
            SENTINEL_DER.decode("ascii")
        except UnicodeDecodeError:
            raise oc.UsageError("bad") from None
    except oc.UsageError as exc:
        caught = exc
    assert "SENTINEL-SEED" in chain_text(caught)
    with pytest.raises(AssertionError):
        assert_chain_clean(caught)
    with pytest.raises(AssertionError):
        assert_chain_clean(oc.UsageError("x " + SENTINEL_SEED.hex()))


def _input_secrets(data):
    """The bad input itself, when long enough to be told apart from a message's own words."""
    if isinstance(data, (str, bytes)) and len(data) >= 8:
        return (data,)
    return ()


def _bad_input_matrix():
    """Every bad input of this file's tables above, as (id, call, input)."""
    for i, (bad, _) in enumerate(BAD_PRIVATE_PEMS):
        yield f"private-pem-{i}", lambda bad=bad: oc.PrivateKey.from_pem(bad), bad
    for i, (jwk, _) in enumerate(BAD_JWKS):
        yield f"jwk-{i}", lambda jwk=jwk: oc.PublicKey.from_jwk(jwk), jwk
    for i, (url, _) in enumerate(BAD_URLS):
        yield f"url-{i}", lambda url=url: sign(url=url), url
    for i, bad in enumerate(b for b in BAD_TOKENS if b is not None):
        yield f"token-{i}", lambda bad=bad: sign(access_token=bad), bad
    for i, bad in enumerate(BAD_INTERACT_REFS):
        yield f"interact-ref-{i}", lambda bad=bad: oc.continue_body(bad), bad
    for i, bad in enumerate(BAD_KEY_IDS):
        yield f"key-id-{i}", lambda bad=bad: sign(key_id=bad), bad
    for i, bad in enumerate(BAD_CREATED):
        yield f"created-{i}", lambda bad=bad: sign(created=bad), bad
    for i, (status, ctype, body, _, _) in enumerate(BAD_RESPONSES):
        # private _interpret: reads every Client answer; alone, a case needs no transport
        yield (f"response-{i}",
               lambda s=status, c=ctype, b=body: oc._interpret(s, c, b, (TOKEN,), False), body)
    for i, (path, value, _) in enumerate(GRANT_SHAPE_ERRORS):
        yield f"grant-{i}", lambda p=path, v=value: oc.Grant.from_json(mutate(p, v)), value


BAD_INPUT_MATRIX = [pytest.param(call, data, id=name) for name, call, data in _bad_input_matrix()]


@pytest.mark.parametrize("call, data", BAD_INPUT_MATRIX)
def test_bad_input_matrix_keeps_nothing_on_the_chain(call, data):
    with pytest.raises(oc.Error) as info:
        call()
    assert_chain_clean(info.value, *_input_secrets(data))


def _der_file_cases():
    """Key files holding the sentinel seed in a valid place, but the wrong structure around."""
    v2_bad_tag = bytes.fromhex("3051020101300506032b657004220420") + SENTINEL_SEED \
        + b"\x82\x21\x00" + SENTINEL_KEY.public_key.raw
    v2_wrong_public = bytes.fromhex("3051020101300506032b657004220420") + SENTINEL_SEED \
        + b"\x81\x21\x00" + bytes(32)
    b64_der = base64.b64encode(SENTINEL_DER).decode()
    return [
        pytest.param(SENTINEL_DER, "non-ASCII", id="raw-der"),
        pytest.param(base64.b64encode(SENTINEL_DER), "not a PEM text or base64", id="b64-der"),
        pytest.param(base64.encodebytes(SENTINEL_DER), "not a PEM text or base64",
                     id="b64-der-lines"),
        pytest.param(pem("PRIVATE KEY", SENTINEL_DER + b"\x00"), "malformed PKCS#8",
                     id="trailing-byte"),
        pytest.param(pem("PRIVATE KEY", SENTINEL_DER[:-1]), "truncated", id="truncated"),
        pytest.param(pem("PRIVATE KEY", SENTINEL_DER.replace(b"\x02\x01\x00", b"\x02\x01\x05",
                                                              1)), "version", id="version"),
        pytest.param(pem("PRIVATE KEY", bytes.fromhex("302f020100300506032b657004230420")
                          + SENTINEL_SEED + b"\x00"), "malformed Ed25519", id="long-octets"),
        pytest.param(pem("PRIVATE KEY", v2_bad_tag), "malformed PKCS#8", id="v2-bad-tag"),
        pytest.param(pem("PRIVATE KEY", v2_wrong_public), "does not match", id="v2-mismatch"),
        pytest.param(pem("PUBLIC KEY", SENTINEL_DER), "found 'PUBLIC KEY'", id="wrong-label"),
        pytest.param(SENTINEL_PEM.replace(b64_der, b64_der[:-1]), "not valid base64",
                     id="bad-padding"),
        pytest.param(SENTINEL_PEM.encode("ascii") + "é".encode(), "non-ASCII", id="non-ascii"),
    ]


@pytest.mark.parametrize("data, message", _der_file_cases())
def test_private_key_file_of_the_wrong_structure_keeps_the_seed_off_the_chain(
        tmp_path, data, message):
    path = tmp_path / "key"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, 0o600)
    with pytest.raises(oc.UsageError, match=message) as info:
        oc.load_private_key(path)
    assert_chain_clean(info.value, data)


def _private_jwk(**members):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _b64url(SENTINEL_KEY.public_key.raw),
           "d": _b64url(SENTINEL_SEED)}
    jwk.update(members)
    return {k: v for k, v in jwk.items() if v is not None}


def _private_key_parser_cases():
    jwk_text = json.dumps(_private_jwk())
    return [
        pytest.param(lambda: oc.PrivateKey.from_pem(SENTINEL_DER), "non-ASCII", id="pem-der"),
        pytest.param(lambda: oc.PrivateKey.from_pem(SENTINEL_DER.decode("latin-1")),
                     "not a PEM text or base64", id="pem-der-as-str"),
        pytest.param(lambda: oc.PrivateKey.from_pem(base64.b64encode(SENTINEL_DER)),
                     "not a PEM text or base64", id="pem-b64-der"),
        pytest.param(lambda: oc.PrivateKey.from_pem(SENTINEL_PEM[:-30]), "BEGIN/END",
                     id="pem-cut"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(x=_b64url(bytes(32)))),
                     "does not match", id="jwk-x-mismatch"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(d=_b64url(SENTINEL_SEED
                                                                          + b"!"))),
                     "32 bytes", id="jwk-d-long"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(d="+" + _b64url(SENTINEL_SEED))),
                     "base64url", id="jwk-d-not-base64url"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(crv="X25519")), "OKP",
                     id="jwk-crv"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(alg="RS256")), "EdDSA",
                     id="jwk-alg"),
        pytest.param(lambda: oc.PrivateKey.from_jwk(_private_jwk(x=None)), "base64url",
                     id="jwk-no-x"),
        pytest.param(lambda: oc.load_public_key(jwk_text[:-2]), "invalid JSON",
                     id="public-jwk-cut"),
        pytest.param(lambda: oc.load_public_key(jwk_text.replace(",", ",,", 1)), "invalid JSON",
                     id="public-jwk-bad"),
        pytest.param(lambda: oc.load_public_key(('{"keys": [' + jwk_text + "]").encode()),
                     "invalid JSON", id="public-jwks-cut"),
        pytest.param(lambda: oc.load_public_key('{"keys": [' + jwk_text + ", " + "[" * 100000),
                     "nested", id="public-jwks-deep"),
        pytest.param(lambda: oc.load_public_key(SENTINEL_PEM.replace("MC4CAQAw", "MC4CAQIw")),
                     "version", id="public-from-private-pem"),
    ]


@pytest.mark.parametrize("call, message", _private_key_parser_cases())
def test_private_key_parsers_keep_the_seed_off_the_chain(call, message):
    with pytest.raises(oc.UsageError, match=message) as info:
        call()
    assert_chain_clean(info.value)


TOKEN_BODY = json.dumps({"access_token": {"value": JSON_TOKEN, "manage": "https://as.example/t",
                                          "access": []}}).encode()


@pytest.mark.parametrize("data, why", [
    pytest.param(TOKEN_BODY[:-1], "", id="truncated"),
    pytest.param(TOKEN_BODY[:40], "", id="cut-in-the-token"),
    pytest.param(TOKEN_BODY + b"}", "", id="trailing-data"),
    pytest.param(TOKEN_BODY.replace(b'"access"', b"access"), "", id="unquoted-name"),
    pytest.param(TOKEN_BODY + b"\xff", "", id="not-utf-8"),
    pytest.param(b"\xff" + TOKEN_BODY, "", id="not-utf-8-first"),
    pytest.param(TOKEN_BODY.replace(b"[]", b"[" * 100000), "", id="deep"),
    pytest.param(TOKEN_BODY.replace(b"[]", b"[NaN]"), ": NaN is no JSON number", id="nan"),
    pytest.param(TOKEN_BODY[:-1] + b',"access_token":1}', ": a member name occurs twice",
                 id="duplicate"),
    pytest.param(TOKEN_BODY.replace(b"[]", b"[" + b"9" * 21 + b"]"), ": integer too long",
                 id="long-integer"),
])
def test_parse_json_keeps_the_body_off_the_chain(data, why):
    with pytest.raises(oc.ResponseError) as info:
        oc.parse_json(data)
    assert str(info.value).startswith(f"$: body is not valid JSON{why}")
    assert_chain_clean(info.value, data)
    with pytest.raises(oc.ResponseError) as info:  # and as the client reads an answer
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(200, "application/json", data, (), False)
    assert_chain_clean(info.value, data)


def _grant_body(**changes):
    doc = mutate(("access_token", "value"), JSON_TOKEN)
    doc["continue"]["access_token"]["value"] = TOKEN
    for dotted, value in changes.items():
        node, *path = doc, *dotted.split("__")
        for part in path[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        node[path[-1]] = value
    return doc


@pytest.mark.parametrize("doc, where", [
    pytest.param(_grant_body(access_token__manage=f"https://as.example/{JSON_TOKEN} x"),
                 "$.access_token.manage", id="manage-not-normalized"),
    pytest.param(_grant_body(access_token__manage=f"https://{JSON_TOKEN}:99999/t"),
                 "$.access_token.manage", id="manage-bad-port"),
    pytest.param(_grant_body(continue__uri=f"http://{TOKEN}.example/c"), "$.continue.uri",
                 id="continue-uri-http"),
    pytest.param(_grant_body(continue__wait=-1), "$.continue.wait", id="wait"),
    pytest.param(_grant_body(access_token__value=JSON_TOKEN + " "), "$.access_token.value",
                 id="token-with-space"),
    pytest.param(_grant_body(access_token__access__0__type=JSON_TOKEN),
                 "$.access_token.access[0].type", id="token-as-access-type"),
    pytest.param(_grant_body(interact={"redirect": "https://as.example/i",
                                       "finish": JSON_TOKEN + "\n"}),
                 "$.interact.finish", id="finish"),
])
def test_grant_from_json_keeps_tokens_off_the_chain(doc, where):
    with pytest.raises(oc.ResponseError) as info:
        oc.Grant.from_json(doc)
    assert info.value.path == where
    assert_chain_clean(info.value)
    with pytest.raises(oc.ResponseError) as info:  # the same body as the client receives it
        # private _interpret: reads every Client answer; alone, a case needs no transport
        oc._interpret(200, "application/json", json.dumps(doc).encode(), (), False)
        oc.Grant.from_json(oc._interpret(200, "application/json", json.dumps(doc).encode(),
                                         (), False))
    assert_chain_clean(info.value)


# --- user JSON on the command line: never a traceback -------------------------------------

DEEP = "[" * 100000  # deeper than the recursion limit: json.loads raises RecursionError
PARSABLE_DEEP = "[" * 900 + "]" * 900  # parses, but then too deep to write out again
SURROGATE = "JSON body: text is not encodable as UTF-8 (lone surrogate)"


@pytest.fixture
def grant_argv(tmp_path, monkeypatch):
    path = write(tmp_path, "key.pem", SENTINEL_KEY.to_pem())
    os.chmod(path, 0o600)
    monkeypatch.setenv("PRIVATE_KEY_PATH", path)
    monkeypatch.setenv("KEY_ID", "k1")
    monkeypatch.setenv("WALLET_ADDRESS", "https://w.example/alice")
    return ["grant", "--grant-endpoint", "https://as.example/", "--dry-run", "--access"]


@pytest.mark.parametrize("access, message", [
    pytest.param(DEEP, "--access: JSON nested more than 32 levels deep", id="deep"),
    pytest.param("[" + PARSABLE_DEEP + "]", "--access: JSON nested more than 32 levels deep",
                 id="parsable-deep"),
    pytest.param('[{"type": "quote", "x": ' + PARSABLE_DEEP + "}]",
                 "--access: JSON nested more than 32 levels deep", id="deep-in-an-item"),
    pytest.param('[{"type": "quote"' + "}" * 1000, "--access must be a JSON array of access items",
                 id="unbalanced"),
    pytest.param("[1]", "--access must be a JSON array of access items", id="not-objects"),
    pytest.param('[["type", "quote"]]', "--access must be a JSON array of access items",
                 id="pairs"),
    pytest.param('[{"type": "\\ud800"}]', SURROGATE, id="lone-surrogate-escape"),
    pytest.param('[{"type": "\udcff"}]', SURROGATE, id="lone-surrogate-argv"),
])
def test_bad_access_json_is_a_usage_error(grant_argv, capsys, access, message):
    code, out, err = run(capsys, *grant_argv, access)
    assert (code, out) == (2, "")
    assert err == f"op-continue: error: {message}\n"


def test_access_nested_32_levels_is_accepted_33_refused(grant_argv, capsys):
    def access(levels):  # the array, the item, and the rest in "x"
        return '[{"type": "quote", "actions": ["create"], "x": ' + "[" * (levels - 2) \
            + "]" * (levels - 2) + "}]"

    code, out, _ = run(capsys, *grant_argv, access(32))
    assert code == 0 and '"x":' + "[" * 30 + "]" * 30 + "}" in out
    code, _, err = run(capsys, *grant_argv, access(33))
    assert (code, err) == (2, "op-continue: error: --access: JSON nested more than 32 levels "
                              "deep\n")


@pytest.mark.parametrize("key, message", [
    pytest.param('{"keys": ' + DEEP, "public key: JSON nested more than 32 levels deep",
                 id="deep"),
    pytest.param('{"keys": ' + PARSABLE_DEEP + "}",
                 "public key: JSON nested more than 32 levels deep", id="parsable-deep"),
    pytest.param('{"keys": [' + "{" * 5, "public key: invalid JSON", id="invalid"),
])
def test_bad_key_json_is_a_usage_error(tmp_path, capsys, key, message):
    msg = write(tmp_path, "m.txt", "GET / HTTP/1.1\nHost: as.example\n\n")
    code, out, err = run(capsys, "verify", "--message", msg, "--key",
                         write(tmp_path, "jwks.json", key))
    assert (code, out) == (2, "")
    assert err == f"op-continue: error: {message}\n"


# --- parse_json: integers of at most 20 digits ----------------------------------------------

@pytest.mark.parametrize("number", ["9" * 20, "-" + "9" * 20, "1" + "0" * 19, "0", "-0",
                                    "18446744073709551615", "1" * 40 + ".5", "1e40"])
def test_parse_json_takes_integers_of_20_digits(number):
    assert oc.parse_json(b'{"n": ' + number.encode() + b"}") == {"n": json.loads(number)}


@pytest.mark.parametrize("number", ["1" + "0" * 20, "-" + "9" * 21, "9" * 4301, "7" * (1 << 20)])
def test_parse_json_refuses_longer_integers(number):
    for data in (number.encode(), b'{"a": [1, {"n": ' + number.encode() + b"}]}"):
        with pytest.raises(oc.ResponseError) as info:
            oc.parse_json(data)
        assert str(info.value) == "$: body is not valid JSON: integer too long (over 20 digits)"
        assert_chain_clean(info.value, number)


def test_json_body_with_a_lone_surrogate_is_a_usage_error():
    with pytest.raises(oc.UsageError, match=r"^JSON body: .*\(lone surrogate\)$") as info:
        oc.json_body({"a": "\ud800"})
    assert_chain_clean(info.value)
    import requests  # GnapAuth re-serializes a JSON body: the same refusal, not a traceback

    auth = oc.GnapAuth(SEED, "k1", TOKEN)
    with pytest.raises(oc.UsageError, match="lone surrogate"):
        requests.Request("POST", "https://as.example/x", data=b'{"a": "\\ud800"}',
                         auth=auth).prepare()

"""Section 9 of op_continue.py, requests (RFC 9635 §2, §5, §6 as Open Payments profiles them):
sign_request's headers and refusals, normalize_url (in section 6), the grant and continue request
bodies, the builder of each operation, and the secrets a SignedRequest carries."""

import json

import pytest
from conftest import (
    KEY,
    KEYS,
    KID,
    NOW,
    REF,
    TOKEN,
    URI,
    FakeResponse,
    exact,
    fake_transport,
    no_secret,
    raised,
    text,
    vectors_of,
)

import op_continue as oc

SERVER = "https://as.example"


@pytest.mark.req("RFC9635-7.3.1-3")
def test_sign_request_header_names_and_safe_headers(key):
    signed = oc.sign_request("post", "https://AS.example:443/c?x", key=key, key_id="k1",
                             access_token="tok", body=b"{}", created=0)
    assert signed.url == "https://as.example/c?x"
    assert [name for name, _ in signed.headers] == [
        "Authorization", "Accept", "Content-Type", "Content-Length", "Content-Digest",
        "Signature-Input", "Signature"]
    assert signed.header("signature-input").endswith(';keyid="k1";created=0')
    safe = signed.safe_headers()
    assert safe["Authorization"] == "[secure]"
    assert {k: v for k, v in safe.items() if k != "Authorization"} == {
        k: v for k, v in signed.headers if k != "Authorization"}
    assert signed.to_json()["body"] == "{}"


@pytest.mark.parametrize("kwargs, message", [
    ({"url": "ftp://as.example/"}, "URL: must use https"),
    ({"url": "https://as.example:99999/"}, "URL: malformed host"),
    ({"created": -1}, "created: must be a non-negative integer (unix seconds)"),
    ({"created": True}, "created: must be a non-negative integer (unix seconds)"),
    ({"access_token": ""}, "access token: must be a non-empty string"),
    ({"access_token": "a b"},
     "access token: must be printable ASCII without spaces or control characters"),
])
def test_sign_request_refusals(key, kwargs, message):
    args = {"url": SERVER + "/", "key": key, "key_id": "k1", **kwargs}
    url = args.pop("url")
    assert str(raised(oc.UsageError, oc.sign_request, "POST", url, **args)) == message


@pytest.mark.parametrize("url, message", [
    ("ftp://as.example/", "URL: must use https"),
    ("http://as.example/", "URL: must use https (plain http only with allow_http)"),
    ("https://as.example:65536/", "URL: malformed host"),
    ("https://as.example/a/../b", "URL: must be normalized (no dot segments, valid %-escapes)"),
])
def test_normalize_url_default_name(url, message):
    assert str(raised(oc.UsageError, oc.normalize_url, url)) == message


@pytest.mark.req("RFC9635-2-1", "RFC9635-2.1-1", "RFC9635-2.3-1", "RFC9635-2.5.1-1")
def test_grant_request_body_interactive():
    body = oc.grant_request_body(client="https://w.example/alice", access=[{"type": "quote"}],
                                 finish_uri="https://c.example/f", nonce="n1")
    assert body == {"access_token": {"access": [{"type": "quote"}]},
                    "client": "https://w.example/alice",
                    "interact": {"start": ["redirect"],
                                 "finish": {"method": "redirect", "uri": "https://c.example/f",
                                            "nonce": "n1"}}}


@pytest.mark.parametrize("kwargs, message", [
    ({"client": "ftp://w.example/a"}, "client wallet address: must use https"),
    ({"finish_uri": "https://c.example/f"}, "nonce: must be a non-empty string"),
    ({"finish_uri": "https://c.example/f", "nonce": "a b"},
     "nonce: must be printable ASCII without spaces or control characters"),
    # pins allow_http's default (False) and the name the finish URI is refused by
    ({"finish_uri": "http://127.0.0.1:8080/f", "nonce": "n1"},
     "finish URI: must use https (plain http only with allow_http)"),
])
@pytest.mark.req("RFC9635-2.1-1", "RFC9635-2.3-1")
def test_grant_request_body_refusals(kwargs, message):
    args = {"client": "https://w.example/alice", "access": [], **kwargs}
    assert str(raised(oc.UsageError, oc.grant_request_body, **args)) == message


@pytest.mark.parametrize("ref, message", [
    ("", "interact_ref: must be a non-empty string"),
    ("a\nb", "interact_ref: must be printable ASCII without spaces or control characters"),
])
@pytest.mark.req("RFC9635-5-10")
def test_continue_body_refusals(ref, message):
    assert str(raised(oc.UsageError, oc.continue_body, ref)) == message


@pytest.mark.parametrize("method", ["GE T", "", "P0ST", "GET\r\n"])
def test_sign_request_method_letters_only(method):
    with pytest.raises(oc.UsageError, match=exact("method: must be letters only")):
        oc.sign_request(method, "https://as.example/", key=KEY, key_id=KID)


def test_sign_request_created_beyond_the_integer_range():
    with pytest.raises(oc.UsageError, match=exact("structured field: integer out of range")):
        oc.sign_request("POST", "https://as.example/", key=KEY, key_id=KID, created=10**15)
    signed = oc.sign_request("POST", "https://as.example/", key=KEY, key_id=KID,
                             created=10**15 - 1)
    assert signed.header("Signature-Input").endswith(";created=999999999999999")


def test_normalize_url_http_loopback_literals():
    for url in ("http://127.0.0.1:8000/x", "http://127.1.2.3/x", "http://localhost/x",
                "http://[::1]:9/x"):
        assert oc.normalize_url(url, allow_http=True) == url
    with pytest.raises(oc.UsageError, match="plain http is allowed only for a loopback host"):
        oc.normalize_url("http://as.example/x", allow_http=True)


# Regression (fixed): _is_loopback takes any host starting with '127.' as loopback, so a DNS name
# like 127.attacker.example gets plain http
def test_normalize_url_http_refuses_dns_names_starting_with_127():
    with pytest.raises(oc.UsageError, match="plain http is allowed only for a loopback host"):
        oc.normalize_url("http://127.attacker.example/x", allow_http=True)


@pytest.mark.req("RFC9421-2.2.3-1")
def test_normalize_url_cache_is_bounded():
    """normalize_url: the cache of checked URLs never grows past 256 entries, and a cached
    answer is the same as a fresh one (only URLs that passed every check are cached)."""
    first = oc.normalize_url("HTTPS://Cache.Example:443/a")
    for i in range(300):
        assert oc.normalize_url(f"https://cache.example/{i}") == f"https://cache.example/{i}"
        # private _NORMALIZED_URLS: normalize_url's cache; its bound is not visible otherwise
        assert len(oc._NORMALIZED_URLS) <= 256
    assert oc.normalize_url("HTTPS://Cache.Example:443/a") == first == "https://cache.example/a"
    with pytest.raises(oc.UsageError, match="https"):
        oc.normalize_url("http://cache.example/a")  # refused again: failures are not cached


# --- the operations: one builder each (RFC 9635 §2, §5.1, §5.2, §5.4, §6.1, §6.2) -----------

# vectors/op-sdk-requests-generated.json: the official SDK's signer, one request per operation.
# Each row: the builder of that operation and its operands, read from the vector's input.
OPERATIONS = {
    "op-sdk-grant-request": (oc.grant_request, lambda i: (i["url"], json.loads(i["body"]))),
    "op-sdk-continue": (oc.continue_request, lambda i: (
        i["url"], i["access_token"], json.loads(i["body"])["interact_ref"])),
    "op-sdk-continue-port-query": (oc.continue_request, lambda i: (
        i["url"], i["access_token"], json.loads(i["body"])["interact_ref"])),
    "op-sdk-poll": (oc.poll_request, lambda i: (i["url"], i["access_token"])),
    "op-sdk-cancel": (oc.cancel_request, lambda i: (i["url"], i["access_token"])),
    "op-sdk-rotate": (oc.rotate_request, lambda i: (i["url"], i["access_token"])),
    "op-sdk-revoke": (oc.revoke_request, lambda i: (i["url"], i["access_token"])),
}


def test_every_official_sdk_request_has_its_operation():
    assert sorted(OPERATIONS) == sorted(v["id"] for v in vectors_of("sdk_request"))


@pytest.mark.parametrize("vec", vectors_of("sdk_request"), ids=lambda v: v["id"])
@pytest.mark.req("RFC9635-2-1", "RFC9635-5-1", "RFC9635-5-10", "RFC9635-5.2-1", "RFC9635-5.4-1",
                 "RFC9635-6-1", "RFC9635-6.1-1", "RFC9635-6.2-1", "RFC9635-7.2-3",
                 "RFC9635-7.3.1-3")
def test_each_operation_builder_signs_as_the_official_sdk(vec):
    builder, operands = OPERATIONS[vec["id"]]
    inp = vec["input"]
    key = oc.PrivateKey.from_pem(text(KEYS[inp["key"]]["input"]["private_pem"]))
    signed = builder(*operands(inp), key=key, key_id=inp["keyid"], created=inp["created"])
    assert (signed.method, signed.url) == (inp["method"], inp["url"])
    assert signed.body == (inp["body"] or "").encode("utf-8")
    for name, value in vec["expected"]["headers"].items():
        assert signed.header(name) == value, name


@pytest.mark.parametrize("vec", vectors_of("sdk_request"), ids=lambda v: v["id"])
@pytest.mark.req("RFC9421-4.1-3", "RFC9421-4.2-2")
def test_each_signature_label_occurs_once_across_the_field_values(vec):
    """RFC 9421 §4.1 and §4.2: "The signature labels MUST be unique across all field values";
    the official SDK writes one Signature-Input and one Signature, both labelled sig1."""
    builder, operands = OPERATIONS[vec["id"]]
    inp = vec["input"]
    key = oc.PrivateKey.from_pem(text(KEYS[inp["key"]]["input"]["private_pem"]))
    signed = builder(*operands(inp), key=key, key_id=inp["keyid"], created=inp["created"])
    for name in ("Signature-Input", "Signature"):
        expected = list(oc.parse_dictionary(vec["expected"]["headers"][name]))
        labels = [label for field, value in signed.headers if field.lower() == name.lower()
                  for label in oc.parse_dictionary(value)]
        assert labels == expected == ["sig1"], name


@pytest.mark.parametrize("call, message", [
    (lambda: oc.grant_request("http://as.example/", {}, key=KEY, key_id=KID),
     "grant endpoint: must use https (plain http only with allow_http)"),
    (lambda: oc.continue_request(URI, TOKEN, None, key=KEY, key_id=KID),
     "interact_ref: missing (None); continuing without one is polling: use poll_request or "
     "Client.poll"),
    (lambda: oc.continue_request("https://as.example/c#f", TOKEN, REF, key=KEY, key_id=KID),
     "continue URI: must not contain a fragment"),
    (lambda: oc.poll_request(URI, None, key=KEY, key_id=KID),
     "continue access token: must be a non-empty string"),
    (lambda: oc.cancel_request(URI, "a b", key=KEY, key_id=KID),
     "continue access token: must be printable ASCII without spaces or control characters"),
    (lambda: oc.rotate_request("ftp://as.example/t", TOKEN, key=KEY, key_id=KID),
     "manage URL: must use https"),
    (lambda: oc.revoke_request(URI, "", key=KEY, key_id=KID),
     "access token: must be a non-empty string"),
    # None too: sign_request would send it without Authorization
    (lambda: oc.cancel_request(URI, None, key=KEY, key_id=KID),
     "continue access token: must be a non-empty string"),
    (lambda: oc.rotate_request(URI, None, key=KEY, key_id=KID),
     "access token: must be a non-empty string"),
    (lambda: oc.revoke_request(URI, None, key=KEY, key_id=KID),
     "access token: must be a non-empty string"),
])
@pytest.mark.req("RFC9635-5.1-1")
def test_builders_refuse_operands_by_the_names_the_caller_knows(call, message):
    assert str(raised(oc.UsageError, call)) == message


@pytest.mark.parametrize("build, role", [
    (lambda url, **kw: oc.grant_request(url, {}, **kw), "grant endpoint"),
    (lambda url, **kw: oc.continue_request(url, TOKEN, REF, **kw), "continue URI"),
    (lambda url, **kw: oc.poll_request(url, TOKEN, **kw), "continue URI"),
    (lambda url, **kw: oc.cancel_request(url, TOKEN, **kw), "continue URI"),
    (lambda url, **kw: oc.rotate_request(url, TOKEN, **kw), "manage URL"),
    (lambda url, **kw: oc.revoke_request(url, TOKEN, **kw), "manage URL"),
], ids=["grant", "continue", "poll", "cancel", "rotate", "revoke"])
def test_each_builder_refuses_plain_http_unless_allowed(build, role):
    # pins each builder's allow_http default (False) and the name its URL is refused by
    url = "http://127.0.0.1:8080/x"
    message = f"{role}: must use https (plain http only with allow_http)"
    assert str(raised(oc.UsageError, lambda: build(url, key=KEY, key_id=KID))) == message
    assert build(url, key=KEY, key_id=KID, allow_http=True).url == url


@pytest.mark.req("RFC9635-5.2-1")
def test_polling_has_no_body():
    # RFC 9635 §5.2: the client instance "makes a POST request to the continuation URI ... but
    # does not include message content" (and the official SDK's op-sdk-poll vector has none)
    assert oc.continue_body(None) is None
    assert oc.poll_request(URI, TOKEN, key=KEY, key_id=KID, created=NOW).body == b""


@pytest.mark.req("RFC9635-5.4-1", "RFC9635-6.2-1")
def test_cancel_and_revoke_are_deletes_without_a_body():
    # RFC 9635 §5.4: "the client instance makes an HTTP DELETE request to the continuation
    # URI"; §6.2: "The client instance makes an HTTP DELETE request to the token management URI"
    for builder in (oc.cancel_request, oc.revoke_request):
        signed = builder(URI, TOKEN, key=KEY, key_id=KID, created=NOW)
        assert (signed.method, signed.body) == ("DELETE", b"")
        assert signed.header("Content-Digest") is None


# --- a SignedRequest knows its secrets ------------------------------------------------------

def test_signed_request_carries_its_secrets_and_never_shows_them():
    signing = {"key": KEY, "key_id": KID, "created": NOW}
    assert oc.continue_request(URI, TOKEN, REF, **signing).secrets == (TOKEN, REF)
    for builder in (oc.poll_request, oc.cancel_request, oc.rotate_request, oc.revoke_request):
        assert builder(URI, TOKEN, **signing).secrets == (TOKEN,)
    assert oc.grant_request("https://as.example/", {"client": "x"}, **signing).secrets == ()
    assert oc.sign_request("POST", URI, access_token=TOKEN, body=b"{}", secrets=["B-1"],
                           **signing).secrets == (TOKEN, "B-1")
    no_secret(repr(oc.continue_request(URI, TOKEN, REF, **signing)), TOKEN, REF)
    for bad in ("B-1", [b"B-1"]):  # one string would be its characters; bytes never match text
        assert str(raised(oc.UsageError, oc.sign_request, "POST", URI, secrets=bad,
                          **signing)) == "secrets: expected a list of strings (not one string)"


def test_the_client_blanks_the_secrets_its_signed_request_names(key):
    # the AS echoes both secrets in its error description; the Client passes nothing beside
    # the SignedRequest, so what it blanks comes from SignedRequest.secrets
    echo = json.dumps({"error": {"code": "invalid_continuation",
                                 "description": f"bad {TOKEN} for {REF}"}}).encode()
    client = oc.Client(key, KID)
    fake_transport(client, FakeResponse([echo], status=400))
    error = raised(oc.GrantError, client.continue_grant, URI, TOKEN, REF)
    assert error.description == "bad [secure] for [secure]"
    no_secret(error, TOKEN, REF)

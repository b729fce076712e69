"""Section 11 of op_continue.py, the interaction finish (RFC 9635 §4.2): the client nonce, the
interaction hash (§4.2.3) and the finish redirect (§4.2.1), with their refusals."""
import base64
import hashlib
import json

import pytest
from conftest import FINISH_URI, QUOTED, REF, exact, no_secret, raised, run

import op_continue as oc


def test_a_quoted_interact_ref_in_the_finish_redirect_is_refused():
    redirect = "https://client.example/finish?hash=h&interact_ref=%22" + REF + "%22"
    assert str(raised(oc.UsageError, oc.parse_finish_redirect, redirect)) == \
        f"interact_ref: {QUOTED}"


def test_a_rejected_interaction_has_no_http_status(monkeypatch, capsys):
    redirect = "https://client.example/finish?result=grant_rejected"
    with pytest.raises(oc.GrantError) as info:
        oc.parse_finish_redirect(redirect)
    assert (info.value.status, info.value.code) == (None, "grant_rejected")
    assert str(info.value) == ("grant_rejected: the interaction finished without approving the "
                               "grant (finish redirect result)")
    monkeypatch.setenv("FINISH_REDIRECT", redirect)
    code, out, err = run(capsys, "finish", "--client-nonce", "CN", "--server-nonce", "SN",
                         "--grant-endpoint", "https://auth.example/")
    assert (code, out) == (oc.EXIT_GRANT_ERROR, "")
    assert err == ("op-continue: error: grant_rejected: the interaction finished without "
                   "approving the grant (finish redirect result)\n")
    assert "HTTP" not in err


@pytest.mark.req("RFC9635-2.5.2-1")
def test_new_nonce_is_24_random_bytes():
    nonce = oc.new_nonce()
    assert len(nonce) == 48 and len(bytes.fromhex(nonce)) == 24 and nonce == nonce.upper()
    assert nonce != oc.new_nonce()


HASH_ARGS = ("client-nonce", "server-nonce", "ref", "https://as.example/")


def _sha256_hash():
    return hashlib.sha256("\n".join(HASH_ARGS).encode()).digest()


@pytest.mark.req("RFC9635-4.2.3-3", "RFC9635-4.2.3-7")
def test_interaction_hash_defaults_to_sha_256():
    expected = base64.urlsafe_b64encode(_sha256_hash()).decode().rstrip("=")
    assert oc.interaction_hash(*HASH_ARGS) == expected
    oc.verify_interaction_hash(expected, *HASH_ARGS)


@pytest.mark.parametrize("received", [
    "A" * 50,  # well-formed unpadded base64url, wrong length
    "A" * 43,
    "!!!!" + base64.b64encode(b"\0" * 32).decode(),
    5,
])
@pytest.mark.req("RFC9635-4.2.3-2")
def test_verify_interaction_hash_refusals(received):
    with pytest.raises(oc.VerificationError) as info:
        oc.verify_interaction_hash(received, *HASH_ARGS)
    assert str(info.value) == "interaction hash does not match; refusing to continue"


@pytest.mark.req("RFC9635-4.2.3-5")
def test_verify_interaction_hash_refuses_garbage_around_the_right_hash():
    padded = base64.b64encode(_sha256_hash()).decode()  # Rafiki's encoding
    oc.verify_interaction_hash(padded, *HASH_ARGS)
    with pytest.raises(oc.VerificationError):
        oc.verify_interaction_hash("!!!!" + padded, *HASH_ARGS)


@pytest.mark.parametrize("result, code", [
    ("grant_rejected", "grant_rejected"),
    ("grant_invalid", "grant_invalid"),
    ("GRANT_INVALID", "unknown_result"),
    ("other", "unknown_result"),
])
@pytest.mark.req("RFC9635-4.2.1-1")
def test_finish_redirect_result(result, code):
    with pytest.raises(oc.GrantError) as info:
        oc.parse_finish_redirect(f"https://c.example/f?result={result}&hash=h&interact_ref=r")
    error = info.value
    description = "the interaction finished without approving the grant (finish redirect result)"
    assert (error.status, error.code, error.description) == (None, code, description)
    assert str(error) == f"{code}: {description}"  # no HTTP status: there was no HTTP answer


@pytest.mark.parametrize("query, message", [
    ("", "finish redirect: needs exactly one hash and one interact_ref"),
    ("?hash=h", "finish redirect: needs exactly one hash and one interact_ref"),
    ("?hash=h&interact_ref=", "interact_ref: must be a non-empty string"),
    ("?hash=h&interact_ref=a+b",
     "interact_ref: must be printable ASCII without spaces or control characters"),
    ("?hash=&interact_ref=r", "hash: must be a non-empty string"),
    ("?hash=%0A&interact_ref=r",
     "hash: must be printable ASCII without spaces or control characters"),
])
def test_finish_redirect_refusals(query, message):
    assert str(raised(oc.UsageError, oc.parse_finish_redirect, "https://c.example/f" + query)) == \
        message


@pytest.mark.req("RFC9635-4.2.1-1")
def test_finish_redirect_values():
    finish = oc.parse_finish_redirect("https://c.example/f?hash=h%2Bx&interact_ref=r1")
    assert (finish.hash, finish.interact_ref) == ("h+x", "r1")
    assert json.loads(oc.continue_body("r1")) == {"interact_ref": "r1"}


@pytest.mark.req("RFC9635-4.2.3-6")
def test_interaction_hash_unsupported_method():
    with pytest.raises(oc.UsageError, match=exact("unsupported hash_method")):
        oc.interaction_hash("c", "s", REF, "https://as.example/", "md5")


# RFC 9635 §4.2.3 hashes "the ASCII encoding" of the hash base: anything else is refused, named
@pytest.mark.parametrize("index, name", [(0, "client nonce"), (1, "server nonce"),
                                         (2, "interact_ref"), (3, "grant endpoint")])
@pytest.mark.parametrize("bad", ["R\u00e9F-1", b"REF-1"], ids=["non-ascii", "bytes"])
@pytest.mark.req("RFC9635-4.2.3-4")
def test_interaction_hash_refuses_what_is_not_ascii(index, name, bad):
    args = list(HASH_ARGS)
    args[index] = bad
    for call in (lambda: oc.interaction_hash(*args),
                 lambda: oc.verify_interaction_hash("x-gguKWTj8rQf7d7i3w3UhzvuJ5bpOlKyAlVpLxBffY",
                                                    *args)):
        with pytest.raises(oc.UsageError) as info:
            call()
        assert str(info.value) == (f"{name}: must be an ASCII string (RFC 9635 section 4.2.3 "
                                   "hashes the ASCII encoding)")


@pytest.mark.parametrize("received", [None, b"abc", "a!b", "abc=", "",
                                      # 4n+1 base64url characters are no base64 at all
                                      # (binascii.Error escaped here once: found by fuzzing)
                                      "A", "A" * 45, "x4Jq-abc_" + "A" * 36])
@pytest.mark.req("RFC9635-4.2.3-2")
def test_verify_interaction_hash_unparseable(received):
    with pytest.raises(oc.VerificationError,
                       match=exact("interaction hash does not match; "
                                   "refusing to continue")) as info:
        oc.verify_interaction_hash(received, "c", "s", REF, "https://as.example/")
    no_secret(info.value, REF)


@pytest.mark.parametrize("url", ["https://c.example/f?hash=\udcff&interact_ref=r",
                                 "https://c.example/f?hash=%ED%B3%BF&interact_ref=r"])
def test_parse_finish_redirect_lone_surrogate(url):
    # argv on POSIX carries undecodable bytes as lone surrogates; a browser would make each
    # U+FFFD (WHATWG USVString), which no hash is made of (UnicodeEncodeError escaped here once)
    with pytest.raises(oc.UsageError, match=exact("hash: must be printable ASCII without "
                                                  "spaces or control characters")):
        oc.parse_finish_redirect(url)


def test_parse_finish_redirect_not_a_string():
    with pytest.raises(oc.UsageError, match=exact("finish redirect: must be a string")):
        oc.parse_finish_redirect(b"https://client.example/finish?hash=a&interact_ref=b")


@pytest.mark.parametrize("query", [f"interact_ref={REF}", f"hash=a&interact_ref={REF}&hash=b",
                                   f"hash=a&interact_ref={REF}&interact_ref={REF}", ""])
@pytest.mark.req("RFC9635-4.2.3-1")
def test_parse_finish_redirect_needs_one_hash_and_one_ref(query):
    with pytest.raises(oc.UsageError, match=exact("finish redirect: needs exactly one hash "
                                                  "and one interact_ref")) as info:
        oc.parse_finish_redirect(f"{FINISH_URI}?{query}")
    no_secret(info.value, REF)

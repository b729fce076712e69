"""Sections 7 and 8 of op_continue.py: the signature base (RFC 9421 §2.5), signing and verifying
(§3.1, §3.2, §3.3.6, §4.1, §4.2): sign_message and verify_message with keys and key sets,
labels, created and expires, max age, required components, and the Content-Digest verify checks."""
import json

import pytest
from conftest import (
    KEY,
    KID,
    NO_URI,
    NOW,
    PRIVATE,
    REF,
    TOKEN,
    URI,
    exact,
    get_message,
    raised,
)

import op_continue as oc


@pytest.mark.req("RFC9421-3.1-3", "RFC9421-4.1-1")
def test_verify_message_accepts_a_signed_request(key):
    signed = oc.Client(key, KID).sign("POST", URI, access_token=TOKEN,
                                      body=oc.continue_body(REF), created=1_700_000_000)
    verified = oc.verify_message(signed, key.public_key)
    assert verified.base == signed.signature_base and verified.keyid == KID
    assert verified.covered == ('"@method"', '"@target-uri"', '"authorization"',
                                '"content-digest"', '"content-length"', '"content-type"')
    tampered = oc.SignedRequest(signed.method, URI + "x", signed.headers, signed.body,
                                signed.signature_base)
    with pytest.raises(oc.VerificationError):
        oc.verify_message(tampered, key.public_key)
    with pytest.raises(oc.VerificationError, match="Content-Digest: sha-512 does not match"):
        oc.verify_message(oc.SignedRequest(signed.method, signed.url, signed.headers, b"{}",
                                           signed.signature_base), key.public_key)


@pytest.mark.req("RFC9421-2.4-1", "RFC9635-7.3.1-3")
def test_verify_message_accepts_a_signed_request_as_the_request_of_a_response(key):
    signed = oc.sign_request("POST", URI, key=key, key_id=KID, body=b"{}", created=1)
    response = oc.parse_message("HTTP/1.1 200 OK\nContent-Type: application/json\n\n{}")
    params = oc.signature_params(["@status", oc.Item("@method", {"req": True}),
                                  oc.Item("content-digest", {"req": True})],
                                 [("keyid", KID), ("created", 2)])
    as_sent = oc.request_message(signed.method, signed.url, signed.headers, signed.body)
    sig_input, signature = oc.sign_message(response, key, params, request=as_sent)
    signed_response = response.with_fields([("Signature-Input", sig_input),
                                            ("Signature", signature)])
    assert oc.verify_message(signed_response, key.public_key, request=signed).keyid == KID


@pytest.mark.parametrize("wrong", ["POST / HTTP/1.1", b"", None, {"method": "POST"}])
def test_verify_message_names_what_it_takes(key, wrong):
    assert str(raised(oc.UsageError, oc.verify_message, wrong, key.public_key)) == (
        "message: expected a Message (parse_message, request_message) or a SignedRequest")


@pytest.mark.parametrize("wrong", ["POST / HTTP/1.1", b"", {"method": "POST"}])
def test_verify_message_names_the_request_it_takes(key, wrong):
    # pins the label of the error for a request= argument that is not a message
    response = oc.parse_message("HTTP/1.1 200 OK\n\n")
    assert str(raised(oc.UsageError, oc.verify_message, response, key.public_key,
                      request=wrong)) == (
        "request: expected a Message (parse_message, request_message) or a SignedRequest")


@pytest.mark.req("RFC9421-3.2-2", "RFC9635-7.3.1-16")
def test_jwks_keys_are_found_by_kid():
    second = oc.PrivateKey.generate()
    doc = json.dumps(oc.jwks({"first": PRIVATE.public_key, "second": second.public_key}))
    keys = oc.load_public_key("\n  " + doc)  # leading white space before the JSON
    assert keys == {"first": PRIVATE.public_key, "second": second.public_key}
    message = oc.request_message("GET", "https://as.example/x")
    for kid, key in (("first", PRIVATE), ("second", second)):
        params = oc.signature_params(["@method"], [("keyid", kid), ("created", 1)])
        sig_input, signature = oc.sign_message(message, key, params)
        signed = message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])
        assert oc.verify_message(signed, keys).keyid == kid
    params = oc.signature_params(["@method"], [("keyid", "third")])
    sig_input, signature = oc.sign_message(message, second, params)
    signed = message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])
    with pytest.raises(oc.VerificationError, match="no key for this keyid"):
        oc.verify_message(signed, keys)


def test_signature_input_is_the_whole_signature_params_value():
    """The Signature-Input member is the base's @signature-params value, cut after the line's
    first ": ", so a parameter holding ": " stays whole."""
    message = oc.request_message("GET", "https://as.example/x")
    params = oc.signature_params(["@method"], [("keyid", "key: 1"), ("nonce", "a: b: c")])
    sig_input, _ = oc.sign_message(message, PRIVATE, params)
    assert sig_input == 'sig1=("@method");keyid="key: 1";nonce="a: b: c"'


def _signed(message, covered, params=(("created", 1),), key=PRIVATE, label="sig1", request=None,
            field_types=None):
    params = oc.signature_params(covered, list(params))
    sig_input, signature = oc.sign_message(message, key, params, label=label, request=request,
                                           field_types=field_types)
    return message.with_fields([("Signature-Input", sig_input), ("Signature", signature)])


def test_verified_signature_reports_what_was_checked():
    message = oc.request_message("POST", "https://as.example/c", [("Content-Type", "a/b")], b"")
    signed = _signed(message, ["@method", "content-type"], [("keyid", "k"), ("created", 7)])
    result = oc.verify_message(signed, PRIVATE.public_key, now=8)
    assert result.label == "sig1" and result.keyid == "k"
    assert result.covered == ('"@method"', '"content-type"')
    assert result.params == {"keyid": "k", "created": 7}
    assert result.base == ('"@method": POST\n"content-type": a/b\n"@signature-params": '
                           '("@method" "content-type");keyid="k";created=7')


@pytest.mark.req("RFC9530-6.3-1", "RFC9635-7.3.1-4", "RFC9635-7.3.1-15")
def test_verify_checks_the_requests_digest_for_a_req_component():
    body = b'{"a":1}'
    request = oc.request_message("POST", "https://as.example/c",
                                 [("Content-Digest", oc.content_digest(body))], body)
    response = oc.Message(status=200, fields=(("content-type", "x/y"),))
    signed = _signed(response, [oc.Item("@status"), oc.Item("content-digest", {"req": True})],
                     request=request)
    oc.verify_message(signed, PRIVATE.public_key, request=request)
    tampered = oc.Message(request.method, request.target_uri, request.request_target, None,
                          request.fields, b'{"a":2}')
    with pytest.raises(oc.VerificationError, match="does not match the body"):
        oc.verify_message(signed, PRIVATE.public_key, request=tampered)
    with pytest.raises(oc.VerificationError, match="cannot build the signature base"):
        oc.verify_message(signed, PRIVATE.public_key)


def test_verify_uses_the_field_types_given():
    message = oc.request_message("GET", "https://as.example/", [("Example-Dict", "a=1,  b=2")])
    item = oc.Item("example-dict", {"sf": True})
    types = {"example-dict": "dictionary"}
    signed = _signed(message, [item], field_types=types)
    oc.verify_message(signed, PRIVATE.public_key, field_types=types)
    with pytest.raises(oc.VerificationError, match="structured type unknown"):
        oc.verify_message(signed, PRIVATE.public_key)


@pytest.mark.req("RFC9421-3.2.1-1", "RFC9635-7.3.1-9")
def test_max_age_uses_the_clock_when_no_now_is_given():
    import time

    message = oc.request_message("GET", "https://as.example/")
    fresh = _signed(message, ["@method"], [("created", int(time.time()))])
    oc.verify_message(fresh, PRIVATE.public_key, max_age=60)
    stale = _signed(message, ["@method"], [("created", int(time.time()) - 120)])
    with pytest.raises(oc.VerificationError, match="too old"):
        oc.verify_message(stale, PRIVATE.public_key, max_age=60)


@pytest.mark.parametrize("sig_input, signature", [
    ('sig1=("@method");created=1', "sig2=:AAAA:"),
    ('sig2=("@method");created=1', "sig1=:AAAA:"),
])
@pytest.mark.req("RFC9421-3.2-s1.2", "RFC9421-4-2")
def test_labels_that_do_not_pair(sig_input, signature):
    message = oc.request_message("GET", "https://as.example/").with_fields(
        [("Signature-Input", sig_input), ("Signature", signature)])
    with pytest.raises(oc.VerificationError) as info:
        oc.verify_message(message, PRIVATE.public_key)
    assert str(info.value) == "Signature-Input and Signature have no matching label"


@pytest.mark.parametrize("covered, message", [
    (["@signature-params"], "@signature-params cannot be a covered component"),
    (["@method", "@method"], "a component identifier is covered twice"),
    (["@method", "x-absent"], "x-absent: the field is not in the message"),
])
@pytest.mark.req("RFC9421-2-3", "RFC9421-2.1.2-2", "RFC9421-2.3-1", "RFC9421-2.5-1",
                 "RFC9421-2.5-s2.1", "RFC9421-3.1-7")
def test_signature_base_errors(covered, message):
    inner = oc.signature_params(covered, [])
    assert str(raised(oc.SignatureBaseError, oc.signature_base, NO_URI, inner)) == message


@pytest.mark.req("RFC9421-3.1-2", "RFC9421-3.2-3", "RFC9421-3.2-4", "RFC9421-3.3-2")
def test_sign_rejects_other_algorithms():
    inner = oc.signature_params(["@method"], [("alg", "rsa-pss-sha512")])
    assert str(raised(oc.UsageError, oc.sign_message, NO_URI, PRIVATE, inner)) == \
        "unsupported algorithm (only ed25519 can sign and verify)"


@pytest.mark.parametrize("sig_input, message", [
    ('sig1=("@method");alg="rsa-pss-sha512"',
     "unsupported algorithm (only ed25519 can sign and verify)"),
    ('sig1=("@method");created="1"', "created: signature parameter must be an Integer"),
])
@pytest.mark.req("RFC9421-2.3-4", "RFC9421-3.1-2", "RFC9421-3.2-s4", "RFC9421-3.2-3",
                 "RFC9421-3.2-4", "RFC9421-3.3-2")
def test_verify_reports_bad_signature_params(sig_input, message):
    signed = NO_URI.with_fields([("Signature-Input", sig_input), ("Signature", "sig1=:AAAA:")])
    assert str(raised(oc.VerificationError, oc.verify_message, signed, PRIVATE.public_key)) == \
        message


@pytest.mark.req("RFC8941-4.2-1")
def test_verify_signature_fields_strip_only_sp_and_htab():
    message = oc.request_message("GET", "https://a.example/")
    signed = _signed(message, ["@method"], [("created", 1), ("x", oc.Token("X"))])
    assert oc.verify_message(signed, PRIVATE.public_key).params == {"created": 1, "x": "X"}
    inner = oc.signature_params(["@method"], [("created", 1)])
    sig_input, signature = oc.sign_message(message, PRIVATE, inner)
    bad = message.with_fields([("Signature-Input", sig_input + "\x0b"), ("Signature", signature)])
    assert str(raised(oc.VerificationError, oc.verify_message, bad, PRIVATE.public_key)) == \
        "signature-input: malformed field"


@pytest.mark.req("RFC9530-2-3")
def test_verify_response_digest_is_checked_against_the_response_body():
    request = oc.request_message("POST", "https://a.example/c", body=b"")
    response = oc.Message(status=200, fields=(("content-digest", oc.content_digest(b"hi")),),
                          body=b"hi")
    signed = _signed(response, ["@status", "content-digest"], request=request)
    assert oc.verify_message(signed, PRIVATE.public_key, request=request).label == "sig1"


def _digest_message(values, body=b"hi"):
    fields = tuple(("content-digest", v) for v in values)
    message = oc.Message("POST", "https://a.example/", "/", None, fields, body)
    return _signed(message, ["@method", oc.Item("content-digest", {"bs": True})])


@pytest.mark.req("RFC9421-2.1.3-2", "RFC9530-2-4")
def test_verify_binary_wrapped_digest_fields():
    sha256 = oc.content_digest(b"hi", ["sha-256"])
    ok = _digest_message([sha256, oc.content_digest(b"hi") + ", x=X"])
    assert oc.verify_message(ok, PRIVATE.public_key).covered == ('"@method"', '"content-digest";bs')
    bad = _digest_message([sha256 + "\x0b"])
    assert str(raised(oc.VerificationError, oc.verify_message, bad, PRIVATE.public_key)) == \
        "Content-Digest: malformed field"
    wrong = _digest_message([sha256], body=b"ho")
    assert str(raised(oc.VerificationError, oc.verify_message, wrong, PRIVATE.public_key)) == \
        "Content-Digest: sha-256 does not match the body"


BODY = b'{"hello": "world"}'


@pytest.mark.req("RFC9421-2.3-1", "RFC9421-2.5-s3")
def test_signature_base_unregistered_parameter_is_kept():
    params = oc.signature_params(["@method"], [("foo", oc.Token("bar")), ("created", NOW)])
    assert oc.signature_base(get_message(), params) == \
        f'"@method": GET\n"@signature-params": ("@method");foo=bar;created={NOW}'


@pytest.mark.parametrize("name, value", [("created", "1700000000"), ("expires", True),
                                         ("created", 1.5)])
@pytest.mark.req("RFC9421-2.3-4", "RFC9421-3.2-s4")
def test_signature_base_integer_parameters(name, value):
    params = oc.signature_params(["@method"], [(name, value)])
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{name}: signature parameter must be an Integer")):
        oc.signature_base(get_message(), params)


@pytest.mark.parametrize("name, value", [("nonce", oc.Token("n")), ("tag", 1),
                                         ("keyid", b"k"), ("alg", True)])
def test_signature_base_string_parameters(name, value):
    params = oc.signature_params(["@method"], [(name, value)])
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{name}: signature parameter must be a String")):
        oc.signature_base(get_message(), params)


def _signed_post(params=(("keyid", "k"), ("created", NOW)), label="sig1", msg=None):
    """A POST with a JSON body (or ``msg``), "@method" and "@target-uri" signed with KEY."""
    msg = msg or oc.request_message("POST", "https://as.example/x",
                                    [("Content-Type", "application/json")], BODY)
    return _signed(msg, ["@method", "@target-uri"], params, key=KEY, label=label)


@pytest.mark.req("RFC9421-4-2")
def test_verify_message_without_signature_input():
    with pytest.raises(oc.VerificationError, match=exact("signature-input: field missing")):
        oc.verify_message(get_message(), KEY.public_key)


@pytest.mark.req("RFC9421-3.2-s1.1", "RFC9635-7.3.1-17", "RFC8941-4.2-1")
def test_verify_message_several_signatures_need_a_label():
    msg = _signed_post(label="sig2", msg=_signed_post())
    with pytest.raises(oc.VerificationError,
                       match=exact("several signatures: choose one with a label")):
        oc.verify_message(msg, KEY.public_key, now=NOW)
    assert oc.verify_message(msg, KEY.public_key, label="sig2", now=NOW).label == "sig2"


@pytest.mark.req("RFC9421-3.2-s2")
def test_verify_message_input_member_not_an_inner_list():
    msg = get_message().with_fields([("Signature-Input", "sig1=:AAAA:"),
                                     ("Signature", "sig1=:AAAA:")])
    with pytest.raises(oc.VerificationError,
                       match=exact("Signature-Input member is not an Inner List")):
        oc.verify_message(msg, KEY.public_key)


def test_verify_message_signature_member_not_a_byte_sequence():
    msg = get_message().with_fields([("Signature-Input", 'sig1=("@method")'),
                              ("Signature", 'sig1=("a")')])
    with pytest.raises(oc.VerificationError,
                       match=exact("Signature member is not a Byte Sequence")):
        oc.verify_message(msg, KEY.public_key)


@pytest.mark.req("RFC9421-3.2-s4", "RFC9421-3.2.1-1", "RFC9635-7.3.1-14")
def test_verify_message_required_component_missing():
    with pytest.raises(oc.VerificationError,
                       match=exact('a required component is not covered: '
                                   '"@path", "content-digest"')):
        oc.verify_message(_signed_post(), KEY.public_key, now=NOW,
                          required=['"@method"', '"@path"', '"content-digest"'])


@pytest.mark.req("RFC9421-3.2.1-2", "RFC9421-3.2.1-3")
def test_verify_message_expired():
    msg = _signed_post(params=[("created", NOW), ("expires", NOW + 10)])
    assert oc.verify_message(msg, KEY.public_key, now=NOW + 10).params["expires"] == NOW + 10
    with pytest.raises(oc.VerificationError, match=exact("signature expired")):
        oc.verify_message(msg, KEY.public_key, now=NOW + 11)


def test_verify_message_max_age_needs_created():
    msg = _signed_post(params=[("keyid", "k")])
    assert oc.verify_message(msg, KEY.public_key).keyid == "k"  # no max_age: created optional
    with pytest.raises(oc.VerificationError, match=exact("created is required")):
        oc.verify_message(msg, KEY.public_key, max_age=300, now=NOW)


@pytest.mark.req("RFC9421-3.2.1-1", "RFC9635-7.3.1-9")
def test_verify_message_max_age_window():
    msg = _signed_post()
    ok = oc.verify_message(msg, KEY.public_key, max_age=300, now=NOW + 300)
    assert (ok.label, ok.keyid, ok.covered) == ("sig1", "k", ('"@method"', '"@target-uri"'))
    assert oc.verify_message(msg, KEY.public_key, max_age=300, now=NOW - 60).keyid == "k"
    with pytest.raises(oc.VerificationError, match=exact("created is in the future")):
        oc.verify_message(msg, KEY.public_key, max_age=300, now=NOW - 61)
    with pytest.raises(oc.VerificationError, match=exact("signature is too old")):
        oc.verify_message(msg, KEY.public_key, max_age=300, now=NOW + 301)


@pytest.mark.req("RFC8941-4.2-2", "RFC8941-4.2.1.2-s4")
def test_verify_message_malformed_signature_input():
    msg = get_message().with_fields([("Signature-Input", "sig1=("), ("Signature", "sig1=:AAAA:")])
    with pytest.raises(oc.VerificationError, match=exact("signature-input: malformed field")):
        oc.verify_message(msg, KEY.public_key)


# RFC 8941 §4.2: "If parsing fails -- including when calling another algorithm -- the entire
# field value MUST be ignored": a good first field line does not rescue a malformed second one.
@pytest.mark.parametrize("name", ["Signature-Input", "Signature"])
@pytest.mark.req("RFC8941-4.2-2")
def test_verify_message_ignores_the_whole_field_when_one_line_is_malformed(name):
    signed = _signed_post()
    assert oc.verify_message(signed, KEY.public_key, now=NOW).label == "sig1"
    msg = signed.with_fields([(name, "sig2=(")])
    with pytest.raises(oc.VerificationError, match=exact(f"{name.lower()}: malformed field")):
        oc.verify_message(msg, KEY.public_key, now=NOW)


def test_verify_message_label_not_found():
    with pytest.raises(oc.VerificationError,
                       match=exact("Signature-Input and Signature have no matching label")):
        oc.verify_message(_signed_post(), KEY.public_key, label="sig2", now=NOW)


@pytest.mark.parametrize("component", [oc.Item("content-digest", {"bs": True}),
                                       oc.Item("content-digest", {"key": "sha-512"})])
@pytest.mark.req("RFC9530-2-3", "RFC9530-6.3-1", "RFC9635-7.3.1-4", "RFC9635-7.3.1-15")
def test_verify_message_checks_a_wrapped_or_keyed_content_digest(component):
    msg = oc.request_message("POST", "https://as.example/x",
                             [("Content-Digest", oc.content_digest(BODY))], BODY)
    inner = oc.signature_params(["@method", component], [("created", NOW)])
    sig_input, sig = oc.sign_message(msg, KEY, inner)
    signed = msg.with_fields([("Signature-Input", sig_input), ("Signature", sig)])
    assert oc.verify_message(signed, KEY.public_key, now=NOW).covered[1] == \
        oc.serialize_item(component)
    tampered = oc.Message(signed.method, signed.target_uri, signed.request_target, None,
                          signed.fields, BODY + b" ")
    with pytest.raises(oc.VerificationError,
                       match=exact("Content-Digest: sha-512 does not match the body")):
        oc.verify_message(tampered, KEY.public_key, now=NOW)


@pytest.mark.req("RFC9421-3.2-2", "RFC9635-7.3.1-16")
def test_verify_message_no_key_for_the_keyid():
    with pytest.raises(oc.VerificationError, match=exact("no key for this keyid")):
        oc.verify_message(_signed_post(), {"other": KEY.public_key}, now=NOW)
    assert oc.verify_message(_signed_post(), {"k": KEY.public_key}, now=NOW).keyid == "k"
    assert oc.verify_message(_signed_post(), {None: KEY.public_key}, now=NOW).keyid == "k"


# Pins a requirements-matrix row (tests/requirements.md) that no other test caught.
@pytest.mark.req("RFC9421-3.2-s3")
def test_rfc9421_3_2_step_3_a_signature_that_is_no_byte_sequence_is_refused():
    """RFC9421-3.2-s3 (and §4.2: each Signature member "MUST be a Byte Sequence"): a String
    member is refused for what it is, before any key or base is used."""
    message = oc.request_message("GET", "https://example.com/").with_fields(
        [("Signature-Input", 'sig1=("@method")'), ("Signature", 'sig1="' + "A" * 64 + '"')])
    with pytest.raises(oc.VerificationError,
                       match=exact("Signature member is not a Byte Sequence")):
        oc.verify_message(message, KEY.public_key)

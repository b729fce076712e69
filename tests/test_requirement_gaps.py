"""Rows of tests/requirements.md whose code could be broken without any other test failing
(found by the mutation run recorded there): one test each, named after the row.

Each expected value is the RFC's own: its rule, or its printed example.
"""
import re

import pytest

import op_continue as oc

KEY = oc.PrivateKey.from_seed(bytes(range(32)))


def exact(message):
    """A pytest.raises pattern matching ``message`` exactly."""
    return "^" + re.escape(message) + "$"


def test_rfc9421_2_2_4_scheme_is_lower_cased():
    """RFC9421-2.2.4-1: "While the scheme itself is case insensitive, it MUST be normalized to
    lowercase"; the section's example gives `"@scheme": http` for http://www.example.com."""
    for url in ("HTTP://www.example.com/", "Http://www.example.com/"):
        message = oc.request_message("POST", url)
        assert oc.component_value(message, oc.Item("@scheme")) == "http"


def test_rfc9421_3_2_step_3_a_signature_that_is_no_byte_sequence_is_refused():
    """RFC9421-3.2-s3 (and §4.2: each Signature member "MUST be a Byte Sequence"): a String
    member is refused for what it is, before any key or base is used."""
    message = oc.request_message("GET", "https://example.com/").with_fields(
        [("Signature-Input", 'sig1=("@method")'), ("Signature", 'sig1="' + "A" * 64 + '"')])
    with pytest.raises(oc.VerificationError,
                       match=exact("Signature member is not a Byte Sequence")):
        oc.verify_message(message, KEY.public_key)


def test_rfc8941_4_2_3_2_space_after_a_semicolon_is_discarded():
    """RFC8941-4.2.3.2-s2.3: after ";", "Discard any leading SP characters from input_string"
    (the ABNF: parameters = *( ";" *SP parameter ))."""
    item = oc.parse_item("abc;  a=1; b")
    assert (item.value, item.params) == (oc.Token("abc"), {"a": 1, "b": True})
    assert oc.parse_dictionary("x=1; y")["x"].params == {"y": True}


def test_rfc9635_5_no_new_continue_means_no_more_polling():
    """RFC9635-5-9: "If the AS does not return a new continue response, the client instance MUST
    NOT make an additional continuation request". The answer is RFC 9635 §5.1's example without
    its access token (subject information only, no continue): one poll, then it is returned."""
    from conftest import FakeResponse, fake_transport

    answer = b'{"subject": {"sub_ids": [{"format": "opaque", "id": "J2G8G8O4AZ"}]}}'
    client = oc.Client(KEY, "gap-key")
    adapter = fake_transport(client, FakeResponse([answer]))
    sleeps = []
    client.clock, client.sleep = (lambda: sum(sleeps)), sleeps.append
    cont = oc.Continue("80UPRY5NM33OMUKMKSKU", "https://server.example.com/continue", 5)
    grant = client.poll_until_done(cont, timeout=60)
    assert grant.subject == ("J2G8G8O4AZ",) and grant.continue_ is None
    assert len(adapter.calls) == 1 and sleeps == [5]

"""Section 3 of op_continue.py, Structured Field Values (RFC 8941): serializing (§4.1) and
parsing (§4.2) Items, Lists, Dictionaries and their bare items (Integers, Decimals, Strings,
Tokens, Byte Sequences, Booleans), base64url, and every refusal with its exact message."""

import pytest
from conftest import exact, raised

import op_continue as oc

# --- RFC 8941 §4.1 serializing ---------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (-999_999_999_999_999, "-999999999999999"),
    (999_999_999_999_999, "999999999999999"),
    ('a\\b"c', '"a\\\\b\\"c"'),
    ("XX\\XX", '"XX\\\\XX"'),
    (oc.Token("Foo"), "Foo"),
    (1.5, "1.5"),
    (-0.0004, "0.0"),
    # RFC 8941 §3.3.6 "Example-Boolean: ?1", and §4.1.9's "?0" for false
    (True, "?1"),
    (False, "?0"),
    # RFC 8941 §3.3.5, padded as §4.1.8 requires
    (b"pretend this is binary content.", ":cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:"),
])
@pytest.mark.req("RFC8941-4.1.6-s4.1", "RFC8941-4.1.8-s4", "RFC8941-4.1.9-s4")
def test_serialize_bare_item(value, expected):
    assert oc.serialize_bare_item(value) == expected


@pytest.mark.parametrize("value, message", [
    (-1_000_000_000_000_000, "structured field: integer out of range"),
    (1_000_000_000_000_000, "structured field: integer out of range"),
    (1e12, "structured field: decimal out of range"),
    (float("nan"), "structured field: decimal out of range"),
    ("caf\u00e9", "structured field: string has a character outside printable ASCII"),
    ("a\tb", "structured field: string has a character outside printable ASCII"),
])
@pytest.mark.req("RFC8941-4.1.4-s1", "RFC8941-4.1.6-s2")
def test_serialize_bare_item_errors(value, message):
    assert str(raised(oc.UsageError, oc.serialize_bare_item, value)) == message


# Expected values derived by hand from RFC 8941 §4.1.5: round the decimal number as written to
# three places, to the nearest value or, when equidistant, to the even last digit; only then
# refuse more than 12 integer digits; write "-" only if the rounded value is below 0, at least one
# fractional digit and no other trailing zeros. (The binary float does not matter: 0.0025 is the
# decimal 0.0025, a tie, although its double is a little above it.)
@pytest.mark.parametrize("value, expected", [
    (0.0025, "0.002"),  # tie: 2 is even
    (-0.0025, "-0.002"),
    (0.0015, "0.002"),  # tie: 1 is odd, up
    (0.0035, "0.004"),
    (0.0045, "0.004"),  # tie: 4 is even
    (1.0005, "1.0"),  # tie: 0 is even
    (2.0005, "2.0"),
    (0.1115, "0.112"),
    (0.1125, "0.112"),
    (4.0625, "4.062"),
    (9.9995, "10.0"),  # tie: 9 is odd, up, and the carry reaches the integer part
    (-9.9995, "-10.0"),
    (123456789.0125, "123456789.012"),
    (99999999999.9995, "100000000000.0"),  # 12 integer digits after rounding: allowed
    (999999999999.9994, "999999999999.999"),  # below the tie: stays within 12 digits
    (-999999999999.9994, "-999999999999.999"),
    (0.12345, "0.123"),  # not ties: to the nearest
    (0.00051, "0.001"),
    (0.0012345, "0.001"),
    (1e-05, "0.0"),
    (0.30000000000000004, "0.3"),
    (0.0005, "0.0"),  # tie: 0 is even
    (-0.0005, "0.0"),  # rounds to zero, which is not less than 0: no "-"
    (-0.0004, "0.0"),
    (-0.0, "0.0"),  # negative zero
    (0.0, "0.0"),  # no rounding needed from here on
    (1.0, "1.0"),
    (12.25, "12.25"),
    (-3.125, "-3.125"),
    (0.001, "0.001"),
    (999999999999.999, "999999999999.999"),
    (-999999999999.999, "-999999999999.999"),
])
@pytest.mark.req("RFC8941-4.1.5-s2")
def test_serialize_decimal_rounds_half_even(value, expected):
    assert oc.serialize_bare_item(value) == expected
    assert oc.parse_item(expected).value == float(expected)  # and the output is a valid Decimal


@pytest.mark.parametrize("value", [999999999999.9995, -999999999999.9995, 999999999999.9999])
@pytest.mark.req("RFC8941-4.1.5-s3")
def test_serialize_decimal_range_checked_after_rounding(value):
    # RFC 8941 §4.1.5: rounds to (-)1000000000000.000, 13 integer digits: fail serialization
    assert str(raised(oc.UsageError, oc.serialize_bare_item, value)) == \
        "structured field: decimal out of range"


# decimals a changed decimal context would round otherwise (precision 3, ROUND_UP, Inexact trapped)
DECIMALS = {123456.7894: "123456.789", 0.0025: "0.002", -9.9995: "-10.0"}


@pytest.mark.req("RFC8941-4.1.5-s2")
def test_serialize_decimal_ignores_callers_decimal_context():
    import decimal
    with decimal.localcontext() as context:
        context.prec = 3
        context.rounding = decimal.ROUND_UP
        context.traps[decimal.Inexact] = context.traps[decimal.Rounded] = True
        assert [oc.serialize_bare_item(v) for v in DECIMALS] == list(DECIMALS.values())


def test_serialize_decimal_ignores_a_changed_default_decimal_context(monkeypatch):
    """decimal.DefaultContext is what a new Context() copies its unset settings from: an
    application may change it; the module's rounding must not follow."""
    import decimal
    monkeypatch.setattr(decimal.DefaultContext, "prec", 3)
    monkeypatch.setattr(decimal.DefaultContext, "rounding", decimal.ROUND_UP)
    monkeypatch.setitem(decimal.DefaultContext.traps, decimal.Inexact, True)
    assert [oc.serialize_bare_item(v) for v in DECIMALS] == list(DECIMALS.values())


@pytest.mark.parametrize("data, expected", [
    (b"\x00\x00\x17", "AAAX"),  # an "X" at the end is data, not padding
    (b"\xfb\xff", "-_8"),
    (b"", ""),
])
def test_b64url_encode(data, expected):
    assert oc.b64url_encode(data) == expected
    assert oc.b64url_decode(expected, "x") == data


def test_b64url_decode_restores_the_padding_at_every_length():
    # pins the padding put back before decoding, "=" * (-len % 4), for each length below 30
    for size in range(30):
        data = bytes(range(size))
        assert oc.b64url_decode(oc.b64url_encode(data), "x") == data


# --- RFC 8941 §4.2 parsing -------------------------------------------------------------------

@pytest.mark.parametrize("field, expected", [
    ("*foo", oc.Item(oc.Token("*foo"))),
    ("Foo/Bar:1", oc.Item(oc.Token("Foo/Bar:1"))),
    ('"a~"', oc.Item("a~")),
    (":AAAX:", oc.Item(b"\x00\x00\x17")),
    (":AAA=:", oc.Item(b"\x00\x00")),
    ("-12.5;a", oc.Item(-12.5, {"a": True})),
])
@pytest.mark.req("RFC8941-4.2.6-s1")
def test_parse_item(field, expected):
    assert oc.parse_item(field) == expected
    assert type(oc.parse_item(field).value) is type(expected.value)


@pytest.mark.parametrize("field, expected", [
    ("", {}),
    ("  ", {}),
    ("a;x=1, b", {"a": oc.Item(True, {"x": 1}), "b": oc.Item(True)}),
    ("a=(1 2);p, b=?0", {"a": oc.InnerList((oc.Item(1), oc.Item(2)), {"p": True}),
                         "b": oc.Item(False)}),
])
@pytest.mark.req("RFC8941-4.2-s2", "RFC8941-4.2.2-s2.2")
def test_parse_dictionary(field, expected):
    assert oc.parse_dictionary(field) == expected


@pytest.mark.parametrize("size", range(16))
@pytest.mark.req("RFC8941-4.1.8-s4", "RFC8941-4.2.7-1")
def test_byte_sequences_of_every_length(size):
    data = bytes(range(size))
    field = oc.serialize_bare_item(data)
    assert oc.parse_item(field).value == data
    unpadded = ":" + field[1:-1].rstrip("=") + ":"  # padding is optional (RFC 8941 §4.2.7)
    assert oc.parse_item(unpadded).value == data


@pytest.mark.req("RFC8941-4.2-s2")
def test_parse_empty_list():
    assert oc.parse_list("") == [] and oc.parse_list(" ") == []


@pytest.mark.parametrize("field, message", [
    ("(a", "expected ' ' or ')' in inner list at offset 2"),
    ("(", "unterminated inner list at offset 1"),
    ("a\x7f", "value has a character outside printable ASCII"),
    ("a,", "trailing ',' at offset 2"),
])
@pytest.mark.req("RFC8941-4.2-s1", "RFC8941-4.2.1-s2.6", "RFC8941-4.2.1.2-s3.5",
                 "RFC8941-4.2.1.2-s4")
def test_parse_errors(field, message):
    assert str(raised(oc.UsageError, oc.parse_list, field)) == "structured field: " + message


# HTAB is OWS around a member's comma (RFC 8941 §4.2.1, §4.2.2) and nowhere else: not in a
# string (§4.2.5, VCHAR or SP only), an inner list (§4.2.1.2, SP), parameters (§4.2.3.2, SP) or
# before the first member (§4.2, leading SP).
@pytest.mark.parametrize("parse, field, expected", [
    (oc.parse_list, "a,\tb\t", [oc.Item(oc.Token("a")), oc.Item(oc.Token("b"))]),
    (oc.parse_dictionary, "a=1\t,\t b=2", {"a": oc.Item(1), "b": oc.Item(2)}),
    (oc.parse_list, '"a\tb"', "bad character in string at offset 3"),
    (oc.parse_list, "(a\tb)", "expected ' ' or ')' in inner list at offset 2"),
    (oc.parse_list, "a;\tb", "expected a key at offset 2"),
    (oc.parse_list, "\ta", "expected a bare item at offset 0"),
    (oc.parse_item, "a\t", "unexpected character at offset 1"),
    (oc.parse_list, "a,\t", "trailing ',' at offset 3"),
])
@pytest.mark.req("RFC8941-4.2-s7", "RFC8941-4.2.1-s2.6", "RFC8941-4.2.1.2-s3.5",
                 "RFC8941-4.2.5-s4.4")
def test_htab_only_as_ows(parse, field, expected):
    if isinstance(expected, str):
        assert str(raised(oc.UsageError, parse, field)) == "structured field: " + expected
    else:
        assert parse(field) == expected


# --- Byte Sequences (RFC 8941 §4.2.7), and the edges of serializing and parsing ---------------


@pytest.mark.parametrize("text, value", [
    (":YQ==:", b"a"), (":YQ:", b"a"), (":YWI=:", b"ab"), (":YWI:", b"ab"), ("::", b""),
])
@pytest.mark.req("RFC8941-4.2.7-1")
def test_byte_sequences(text, value):
    assert oc.parse_item(text).value == value


@pytest.mark.parametrize("text, message", [
    (":YQ", "structured field: unterminated byte sequence at offset 0"),
    (":", "structured field: unterminated byte sequence at offset 0"),
    (":Y:", "structured field: byte sequence is not base64 at offset 0"),
    (":YQ=:", "structured field: byte sequence is not base64 at offset 0"),
    (":YQ===:", "structured field: byte sequence is not base64 at offset 0"),
    (":YWI==:", "structured field: byte sequence is not base64 at offset 0"),
    (":Y Q:", "structured field: byte sequence is not base64 at offset 0"),
])
@pytest.mark.req("RFC8941-4.2.7-s3", "RFC8941-4.2.7-s6")
def test_bad_byte_sequences(text, message):
    with pytest.raises(oc.UsageError) as info:
        oc.parse_item(text)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [10**15, -(10**15)])
@pytest.mark.req("RFC8941-4.1.4-s1")
def test_serialize_bare_item_integer_out_of_range(value):
    with pytest.raises(oc.UsageError, match=exact("structured field: integer out of range")):
        oc.serialize_bare_item(value)
    assert oc.serialize_bare_item(10**15 - 1) == "999999999999999"


@pytest.mark.req("RFC8941-4.1.7-s2")
def test_serialize_bare_item_invalid_token():
    with pytest.raises(oc.UsageError, match=exact("structured field: invalid token")):
        oc.serialize_bare_item(oc.Token("1abc"))


@pytest.mark.req("RFC8941-4.1.6-s2")
def test_serialize_bare_item_string_outside_printable_ascii():
    with pytest.raises(oc.UsageError, match="string has a character outside printable ASCII"):
        oc.serialize_bare_item("caf\u00e9")


@pytest.mark.parametrize("value, name", [(None, "NoneType"), ([1], "list")])
@pytest.mark.req("RFC8941-4.1-s5")
def test_serialize_bare_item_unsupported_type(value, name):
    with pytest.raises(oc.UsageError, match=exact(f"structured field: cannot serialize {name}")):
        oc.serialize_bare_item(value)


# Regression (fixed): RFC 8941 §4.1.5 writes '-' only when the decimal, after rounding, is less
# than 0: -0.0 and -0.0004 must serialize as 0.0
@pytest.mark.parametrize("value", [-0.0, -0.0004])
def test_serialize_bare_item_negative_zero(value):
    assert oc.serialize_bare_item(value) == "0.0"
    assert oc.serialize_item(oc.parse_item("-0.0")) == "0.0"


@pytest.mark.req("RFC8941-4.1.5-s2")
def test_serialize_bare_item_rounds_decimals():
    assert [oc.serialize_bare_item(v) for v in (-1.0004, 2.5, 0.1236, 0.0625, -12.0)] == \
        ["-1.0", "2.5", "0.124", "0.062", "-12.0"]  # 0.0625: ties to even


@pytest.mark.req("RFC8941-4.1.1.3-s2")
def test_serialize_params_invalid_key():
    with pytest.raises(oc.UsageError, match=exact("structured field: invalid key")):
        oc.serialize_params({"Key": 1})


@pytest.mark.parametrize("text, message", [
    ("a, ", "trailing ',' at offset 3"),
    ("a,", "trailing ',' at offset 2"),
])
@pytest.mark.req("RFC8941-4.2.1-s2.6")
def test_parse_list_trailing_comma(text, message):
    with pytest.raises(oc.UsageError, match=exact(f"structured field: {message}")):
        oc.parse_list(text)


@pytest.mark.parametrize("text, message", [
    ("-a", "expected a digit at offset 0"),
    ("1234567890123456", "integer too long at offset 0"),
    ("1.2345", "malformed decimal at offset 0"),
    ("1234567890123.5", "malformed decimal at offset 0"),
    ("1.", "malformed decimal at offset 0"),
    ('"a\\b"', "bad escape in string at offset 3"),
    ('"a\\', "bad escape in string at offset 3"),
    (":YWJj", "unterminated byte sequence at offset 0"),
    ("?2", "expected ?0 or ?1 at offset 0"),
])
@pytest.mark.req("RFC8941-4.2.4-s7.5", "RFC8941-4.2.4-s9", "RFC8941-4.2.5-s4.2.3",
                 "RFC8941-4.2.8-s3")
def test_parse_item_failures(text, message):
    with pytest.raises(oc.UsageError, match=exact(f"structured field: {message}")):
        oc.parse_item(text)


@pytest.mark.req("RFC8941-4.2.4-s7.5", "RFC8941-4.2.4-s9")
def test_parse_item_longest_integer_and_decimal():
    assert oc.parse_item("-999999999999999").value == -999_999_999_999_999
    assert oc.parse_item("123456789012.123").value == 123456789012.123


@pytest.mark.req("RFC8941-4.1.2-s2.2")
def test_serialize_byte_sequence_and_true_dictionary_member():
    assert oc.serialize_bare_item(b"\x00\xff") == ":AP8=:"
    members = {"a": oc.Item(True, {"p": 1}), "b": oc.Item(2), "c": oc.Item(False)}
    assert oc.serialize_dictionary(members) == "a;p=1, b=2, c=?0"


@pytest.mark.parametrize("parse, text, message", [
    (oc.parse_item, "a\x7f", "value has a character outside printable ASCII"),
    (oc.parse_item, "a b", "unexpected character at offset 2"),
    (oc.parse_list, "a b", "expected ',' at offset 2"),
    (oc.parse_list, "(a,b)", "expected ' ' or ')' in inner list at offset 2"),
    (oc.parse_item, "@", "expected a bare item at offset 0"),
    (oc.parse_dictionary, "A=1", "expected a key at offset 0"),
    (oc.parse_item, "-", "expected a digit at offset 0"),  # §4.2.4 step 5: nothing after "-"
    (oc.parse_dictionary, "a=-b", "expected a digit at offset 2"),  # step 6: not a DIGIT
    (oc.parse_item, '"abc', "unterminated string at offset 4"),
])
@pytest.mark.req("RFC8941-4.2-s1", "RFC8941-4.2-s7", "RFC8941-4.2.1-s2.4", "RFC8941-4.2.1.2-s3.5",
                 "RFC8941-4.2.3.1-s6", "RFC8941-4.2.3.3-s1", "RFC8941-4.2.4-s5", "RFC8941-4.2.5-s5")
def test_sf_parser_failures(parse, text, message):
    with pytest.raises(oc.UsageError, match=exact(f"structured field: {message}")):
        parse(text)


@pytest.mark.req("RFC8941-4.2.5-s4.2.3")
def test_sf_parser_string_escapes_and_list():
    assert oc.parse_item('"a\\"b\\\\c"').value == 'a"b\\c'
    assert oc.parse_list('a;q=1, (b "c");x, ?0') == [
        oc.Item(oc.Token("a"), {"q": 1}),
        oc.InnerList((oc.Item(oc.Token("b")), oc.Item("c")), {"x": True}),
        oc.Item(False)]


# Pins a requirements-matrix row (tests/requirements.md) that no other test caught.
@pytest.mark.req("RFC8941-4.2.3.2-s2.3")
def test_rfc8941_4_2_3_2_space_after_a_semicolon_is_discarded():
    """RFC8941-4.2.3.2-s2.3: after ";", "Discard any leading SP characters from input_string"
    (the ABNF: parameters = *( ";" *SP parameter ))."""
    item = oc.parse_item("abc;  a=1; b")
    assert (item.value, item.params) == (oc.Token("abc"), {"a": 1, "b": True})
    assert oc.parse_dictionary("x=1; y")["x"].params == {"y": True}

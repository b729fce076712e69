"""Section 6 of op_continue.py, messages and components (RFC 9421 §2): parse_message and
request_message for HTTP/1.1 messages (RFC 9112), the derived components (§2.2), field
components with their sf, key, bs and req parameters (§2.1, §2.4), and every refusal with its
exact error type and message."""

import sys
import warnings

import pytest
from conftest import NO_URI, exact, get_message, raised

import op_continue as oc

# --- _parse_structured / _serialize_structured (via ;sf on a field, RFC 9421 §2.1.1) ---


def test_sf_field_with_an_unknown_type_name():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("x: not a valid structured field (structured field type must "
                                   "be item, list or dictionary)")):
        oc.component_value(get_message(("X", "a")), oc.Item("x", {"sf": True}),
                           field_types={"x": "set"})


@pytest.mark.req("RFC9421-2.1-7", "RFC9421-2.1.1-1", "RFC9421-2.1.1-2", "RFC8941-4.1.1-s2.2")
def test_sf_field_list_is_strictly_reserialized():
    msg = get_message(("X", "a,   b;q=1.50"), ("X", "(c  d)"))
    item = oc.Item("x", {"sf": True})
    assert oc.component_value(msg, item, field_types={"x": "list"}) == "a, b;q=1.5, (c d)"


@pytest.mark.parametrize("key, line", [("a", "1"), ("c", "(a b c)"), ("d", "?1")],
                         ids=["first-line", "second-line", "last-member"])
@pytest.mark.req("RFC9421-2.1.2-1")
def test_key_member_of_a_dictionary_split_over_field_lines(key, line):
    """RFC 9421 §2.1.2: the values of all field lines "MUST be combined into a single Dictionary
    structure before serialization"; the section's Example-Dict, split over two field lines,
    gives the member values the section prints for key="a", "c" and "d"."""
    msg = get_message(("Example-Dict", " a=1, b=2;x=1;y=2"), ("Example-Dict", "c=(a   b    c), d"))
    item = oc.Item("example-dict", {"key": key})
    assert oc.component_value(msg, item, field_types={"example-dict": "dictionary"}) == line


@pytest.mark.req("RFC9421-2.1.1-1")
def test_sf_field_item_is_strictly_reserialized():
    msg = get_message(("X", "  ?1;a=2.000  "))
    item = oc.Item("x", {"sf": True})
    assert oc.component_value(msg, item, field_types={"x": "item"}) == "?1;a=2.0"


RESPONSE = oc.Message(status=200, fields=(("x", "1"),))


# --- parse_message ---

@pytest.mark.parametrize("line", ["HTTP/1.1 20 OK", "HTTP/1.1 2000", "HTTP/1.1 200OK"])
def test_parse_message_malformed_status_line(line):
    with pytest.raises(oc.UsageError, match=exact("message: malformed status line")):
        oc.parse_message(line + "\n\n")


# --- _component_authority / _component_scheme / _component_request_target ---

def test_authority_of_a_relative_target_uri():
    msg = oc.Message(method="GET", target_uri="/x")
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: the target URI has no authority")):
        oc.component_value(msg, oc.Item("@authority"))


def test_scheme_of_a_scheme_relative_target_uri():
    msg = oc.Message(method="GET", target_uri="//as.example/x")
    with pytest.raises(oc.SignatureBaseError, match=exact("@scheme: the target URI has no scheme")):
        oc.component_value(msg, oc.Item("@scheme"))
    # @authority needs the scheme too (for the default port), so it fails the same way
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: the target URI has no authority")):
        oc.component_value(msg, oc.Item("@authority"))


@pytest.mark.parametrize("uri", ["https://user@as.example/x", "https://[::1/x"])
def test_authority_malformed(uri):
    # _normalized_authority
    msg = oc.Message(method="GET", target_uri=uri)
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@authority: malformed authority (userinfo is not allowed)")):
        oc.component_value(msg, oc.Item("@authority"))


def test_request_target_of_a_response():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@request-target: the message is not a request")):
        oc.component_value(RESPONSE, oc.Item("@request-target"))


# --- _request_uri ---

@pytest.mark.parametrize("name", ["@path", "@target-uri", "@query", "@scheme"])
def test_uri_component_of_a_response(name):
    with pytest.raises(oc.SignatureBaseError,
                       match=rf"^{name}: the message is a response \(use ;req\)$"):
        oc.component_value(RESPONSE, oc.Item(name))


def test_target_uri_without_host():
    msg = oc.parse_message("GET /x HTTP/1.1\nAccept: */*\n\n")
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("@target-uri: the request has no target URI (missing Host?)")):
        oc.component_value(msg, oc.Item("@target-uri"))
    assert oc.component_value(msg, oc.Item("@request-target")) == "/x"


# --- _field_component ---

@pytest.mark.req("RFC9421-2.1-1")
def test_field_component_name_must_be_lower_case():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("component name of an HTTP field must be lower case")):
        oc.component_value(get_message(("Content-Type", "a")), oc.Item("Content-Type"))


def test_field_component_key_on_a_list_field():
    with pytest.raises(oc.SignatureBaseError, match=exact("x: key needs a Dictionary field")):
        oc.component_value(get_message(("X", "a, b")), oc.Item("x", {"key": "a"}),
                           field_types={"x": "list"})


# Regression (fixed): ;bs on a field value with a character above U+00FF raises UnicodeEncodeError
# instead of SignatureBaseError
def test_field_component_bs_with_a_non_latin1_value():
    with pytest.raises(oc.SignatureBaseError, match=r"^x: "):
        oc.component_value(get_message(("X", "\u20ac")), oc.Item("x", {"bs": True}))


# --- component_value ---

@pytest.mark.parametrize("name", [oc.Token("x"), 1, b"x"])
def test_component_identifier_must_be_a_string(name):
    with pytest.raises(oc.SignatureBaseError, match=exact("component identifier must be a String")):
        oc.component_value(get_message(("X", "a")), oc.Item(name))


@pytest.mark.parametrize("param, value", [("key", oc.Token("a")), ("name", 1)])
def test_component_key_and_name_parameters_must_be_strings(param, value):
    with pytest.raises(oc.SignatureBaseError, match=exact(f"{param} parameter must be a String")):
        oc.component_value(get_message(("X", "a=1")), oc.Item("x", {param: value}))


@pytest.mark.parametrize("param, value", [("sf", 1), ("bs", "1"), ("req", False)])
def test_component_flag_parameters_must_be_true(param, value):
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{param} parameter must be a bare flag (true)")):
        oc.component_value(get_message(("X", "a")), oc.Item("x", {param: value}))


@pytest.mark.req("RFC9421-2-1")
def test_req_parameter_without_the_request():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("req parameter but no request message given")):
        oc.component_value(RESPONSE, oc.Item("@method", {"req": True}))
    assert oc.component_value(RESPONSE, oc.Item("@method", {"req": True}),
                              request=get_message()) == "GET"


@pytest.mark.parametrize("name, param", [("@method", "sf"), ("@path", "name"),
                                         ("@query-param", "key")])
@pytest.mark.req("RFC9421-2.5-s2.5a")
def test_derived_component_parameter_not_allowed(name, param):
    params = {param: "a"} if param in ("name", "key") else {param: True}
    with pytest.raises(oc.SignatureBaseError,
                       match=exact(f"{name}: parameter not allowed on this component")):
        oc.component_value(get_message(), oc.Item(name, params))


@pytest.mark.req("RFC9421-2-5", "RFC9421-2.1-3", "RFC9421-2.2-4")
def test_component_value_with_a_non_ascii_character():
    with pytest.raises(oc.SignatureBaseError,
                       match=exact("x: value has a newline or non-ASCII character")):
        oc.component_value(get_message(("X", "caf\u00e9")), oc.Item("x"))
    assert oc.component_value(get_message(("X", "a\tb")), oc.Item("x")) == "a\tb"  # HTAB is allowed


# --- parse_message: line endings, failures ---

def test_parse_message_crlf_lines_and_body():
    msg = oc.parse_message(b"GET /p?q HTTP/1.1\r\nHost: h.example\r\nX:  1 \r\n\r\nbody\r\n")
    assert (msg.method, msg.target_uri, msg.request_target) == \
        ("GET", "https://h.example/p?q", "/p?q")
    assert msg.fields == (("host", "h.example"), ("x", "1"))
    assert msg.body == b"body\r\n"


@pytest.mark.parametrize("text, message", [
    ("", "message: empty"),
    ("\r\n\r\nbody", "message: empty"),
    ("GET / HTTP/1.1\n  folded\n\n", "message: continuation line before any field"),
    ("GET / HTTP/1.1\nno colon\n\n", "message: malformed field line"),
    ("GET / HTTP/1.1\nHost : h\n\n", "message: malformed field line"),
    ("GET /\n\n", "message: malformed request line"),
    ("GET  / HTTP/1.1\n\n", "message: malformed request line"),
])
def test_parse_message_failures(text, message):
    with pytest.raises(oc.UsageError, match=exact(message)):
        oc.parse_message(text)


# --- request_message, parse_message and the derived components in detail ---------------------

@pytest.mark.parametrize("url, target", [
    ("https://as.example", "/"),
    ("https://as.example/c/1", "/c/1"),
    ("https://as.example/c?x=1", "/c?x=1"),
    ("https://as.example/c?", "/c?"),
])
def test_request_message_request_target(url, target):
    message = oc.request_message("POST", url, [("X-A", "1")], b"b")
    assert oc.component_value(message, oc.Item("@request-target")) == target
    assert message.fields == (("x-a", "1"),) and message.body == b"b"
    assert message.method == "POST" and message.target_uri == url


@pytest.mark.parametrize("query, name, value", [
    ("a=1&&b=2", "b", "2"),
    ("a+b=c+d", "a%20b", "c%20d"),
    ("a=%zz", "a", "%25zz"),
    ("flag", "flag", ""),
    ("t=~*-._", "t", "%7E*-._"),
    ("q=%C3%A7", "q", "%C3%A7"),
])
@pytest.mark.req("RFC9421-2.2.8-1")
def test_query_param_parsing_and_encoding(query, name, value):
    message = oc.request_message("GET", f"https://as.example/p?{query}")
    item = oc.Item("@query-param", {"name": name})
    assert oc.component_value(message, item) == value


def test_parse_message_keeps_the_exact_body():
    message = oc.parse_message(b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\nline1\r\nline2\n")
    assert (message.status, message.body) == (200, b"line1\r\nline2\n")
    assert oc.parse_message(b"GET / HTTP/1.1\nHost: h").body == b""  # no blank line: no body
    assert oc.parse_message("GET / HTTP/1.1\nHost: h\n\n\u00e9").body == "\u00e9".encode()


def test_parse_message_field_lines():
    message = oc.parse_message(b"GET / HTTP/1.1\nHost: h\nX-A: \t v1 \t\nX-Fold: a \t\n\t b\n")
    assert message.field_values("x-a") == ["v1"]
    assert message.field_values("x-fold") == ["a b"]  # obs-fold with tabs: one SP
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message(b"GET / HTTP/1.1\n continued\n")
    assert str(info.value) == "message: continuation line before any field"
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message(b"GET / HTTP/1.1\nBad Name: x\n")
    assert str(info.value) == "message: malformed field line"
    with pytest.raises(oc.UsageError) as info:
        oc.parse_message("GET / HTTP/1.1\nX: \udc80\n")
    assert str(info.value) == "message: text is not encodable as UTF-8 (lone surrogate)"


def _message_warnings_of(data):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        oc.parse_message(data)
    return [str(w.message).split(":")[1] for w in caught]


@pytest.mark.parametrize("line, warned", [
    (b"X-A: a\\", True),
    (b"X-A: a\\ \t", True),  # trailing SP and HTAB (OWS, RFC 9110 §5.6.3) are not the end
    (b"X-A: a\\b", False),
    (b"X-A: a\\X", False),
    (b"X-A: a\\\xa0", False),  # ends in obs-text (RFC 9110 §5.5), which is no whitespace
])
def test_parse_message_warns_of_a_field_line_ending_in_a_backslash(line, warned):
    # pins which lines end in "\" (RFC 8792 §7 wrapping): only SP and HTAB after it are ignored
    data = b"GET / HTTP/1.1\nHost: h\n" + line + b"\n\n"
    assert _message_warnings_of(data) == ([" a x-a field line ends in '\\', as RFC 8792 wraps long "
                                           "lines"] if warned else [])


@pytest.mark.parametrize("length, body, warned", [
    ("0", "", False), ("000", "", False), ("00", "x", True), ("1", "", True), ("01", "x", False),
])
def test_parse_message_compares_content_length_as_a_number(length, body, warned):
    # pins the comparison of RFC 9110 §8.6's 1*DIGIT with leading zeros, "0" and "00" included
    data = f"POST / HTTP/1.1\nHost: h\nContent-Length: {length}\n\n{body}"
    assert _message_warnings_of(data) == ([f" Content-Length is {length} but the body has "
                                           f"{len(body)} bytes"] if warned else [])


def test_parse_message_warnings_name_the_line_that_called_it():
    # pins stacklevel=3 exactly (setup.cfg leaves it out of mutmut: its trampoline adds frames)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = sys._getframe().f_lineno + 1
        oc.parse_message("POST / HTTP/1.1\nX: a\\\nContent-Length: 1\n\n")
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)] * 2


@pytest.mark.parametrize("start, uri", [
    ("OPTIONS * HTTP/1.1", "https://example.com"),
    ("CONNECT example.org:8443 HTTP/1.1", "https://example.org:8443"),
    ("get /p HTTP/1.1", "https://example.com/p"),
    ("GET http://other.example/p?q HTTP/1.1", "http://other.example/p?q"),
])
def test_parse_message_target_uri_forms(start, uri):
    message = oc.parse_message(f"{start}\nHost: example.com\n".encode())
    assert message.target_uri == uri
    assert message.method == start.split(" ")[0]  # case kept (RFC 9421 §2.2.1)


def test_parse_message_without_host_has_no_target_uri():
    for start in ("GET /p HTTP/1.1", "OPTIONS * HTTP/1.1"):
        message = oc.parse_message(start.encode())
        assert message.target_uri is None
        with pytest.raises(oc.SignatureBaseError, match="no target URI"):
            oc.component_value(message, oc.Item("@path"))


RESPONSE_XA = oc.Message(status=200, fields=(("x-a", "1"),))


@pytest.mark.parametrize("lines, value", [
    ["X-A:  a \t", "a"],
    ["X-A: Xa X", "Xa X"],
    ["X-A: a\x0b", "a\x0b"],  # only SP and HTAB are stripped
    ["X-A: a \n  b  ", "a b"],  # obs-fold
    ["X-A: aX\n Xb", "aX Xb"],
    ["X-A: a\x0b\n b\x0b", "a\x0b b\x0b"],
    ["X-A: a\n \t\n c", "a c"],
    ["X-A: a\n \t", "a"],  # a blank continuation last adds nothing
])
def test_parse_message_field_values(lines, value):
    message = oc.parse_message(f"GET / HTTP/1.1\r\nHost: h\r\n{lines}\r\n\r\nbody")
    assert message.fields == (("host", "h"), ("x-a", value)) and message.body == b"body"


def test_parse_message_leading_empty_line():
    assert str(raised(oc.UsageError, oc.parse_message, b"\nGET / HTTP/1.1\nHost: h\n\n")) == \
        "message: empty"


def test_request_message_defaults_and_with_fields():
    message = oc.request_message("GET", "https://as.example/p?q")
    assert message.body == b"" and message.fields == ()
    extended = message.with_fields([("X-A", "1")])
    assert extended == oc.Message("GET", "https://as.example/p?q", "/p?q", None,
                                  (("x-a", "1"),), b"")


@pytest.mark.parametrize("url, authority", [
    ("https://A.example:443", "a.example"),
    ("HTTPS://a.example:0443", "a.example"),
    ("https://a.example:000000443", "a.example"),
    ("http://a.example:80", "a.example"),
    ("https://a.example:80", "a.example:80"),
    ("https://a.example:4430", "a.example:4430"),
    ("https://a.example:0", "a.example:0"),
    ("https://a.example:", "a.example"),
    ("https://a.example:65535", "a.example:65535"),
])
@pytest.mark.req("RFC9421-2.2.3-1")
def test_authority(url, authority):
    message = oc.request_message("GET", url)
    assert oc.component_value(message, oc.Item("@authority")) == authority


@pytest.mark.parametrize("port", ["65536", "100000", "99999"])
def test_authority_port_out_of_range(port):
    message = oc.request_message("GET", f"https://a.example:{port}/")
    error = raised(oc.SignatureBaseError, oc.component_value, message, oc.Item("@authority"))
    assert str(error) == \
        "@authority: port out of range"


@pytest.mark.parametrize("url, path", [
    ("https://a.example", "/"),
    ("https://a.example?x=1", "/"),
    ("https://a.example/p/", "/p/"),
])
@pytest.mark.req("RFC9421-2.2.6-1")
def test_path(url, path):
    assert oc.component_value(oc.request_message("GET", url), oc.Item("@path")) == path


@pytest.mark.parametrize("query, name, value", [
    ("q=%c3%a7", "q", "%C3%A7"),  # lower-case hex digits decode too
    ("q=%ff", "q", "%EF%BF%BD"),  # invalid UTF-8 becomes U+FFFD
    ("q=%C3%A7&r", "r", ""),
])
def test_query_param_values(query, name, value):
    message = oc.request_message("GET", f"https://a.example/?{query}")
    assert oc.component_value(message, oc.Item("@query-param", {"name": name})) == value


def test_query_param_lone_surrogate_is_u_fffd():
    # a str target URI with a lone surrogate (argv's surrogateescape): WHATWG's USVString makes
    # it U+FFFD before percent-decoding, as a browser would
    message = oc.Message(method="GET", target_uri="https://a.example/?q=\udcff&r=a\ud800b")
    assert oc.component_value(message, oc.Item("@query-param", {"name": "q"})) == "%EF%BF%BD"
    assert oc.component_value(message, oc.Item("@query-param", {"name": "r"})) == "a%EF%BF%BDb"


@pytest.mark.parametrize("url, name, message", [
    ("https://a.example/", "XXXX", "@query-param: the named parameter is not in the query"),
    ("https://a.example/?a=1", "b", "@query-param: the named parameter is not in the query"),
    ("https://a.example/?a=1&a=2", "a",
     "@query-param: the named parameter occurs more than once"),
])
@pytest.mark.req("RFC9421-2.2.8-2", "RFC9421-2.2.8-3", "RFC9421-2.2.8-4")
def test_query_param_errors(url, name, message):
    item = oc.Item("@query-param", {"name": name})
    message_ = oc.request_message("GET", url)
    assert str(raised(oc.SignatureBaseError, oc.component_value, message_, item)) == message


@pytest.mark.parametrize("message, item, error", [
    (RESPONSE_XA, oc.Item("@method"), "@method: the message is not a request"),
    (NO_URI, oc.Item("@status"), "@status: the message is a request"),
    (RESPONSE_XA, oc.Item("@authority"), "@authority: the message is a response (use ;req)"),
    (NO_URI, oc.Item("@authority"), "@authority: the request has no target URI (missing Host?)"),
    (RESPONSE_XA, oc.Item("@query-param", {"name": "a"}),
     "@query-param: the message is a response (use ;req)"),
    (NO_URI, oc.Item("@query-param", {"name": "a"}),
     "@query-param: the request has no target URI (missing Host?)"),
    (NO_URI, oc.Item("@method", {"req": True}),
     "req parameter on a component of a request message"),
    (NO_URI, oc.Item("@query-param"), "@query-param: the name parameter is required"),
    (NO_URI, oc.Item("@nope"), "unknown derived component"),
    (NO_URI, oc.Item("x-a", {"foo": True}), "x-a: unknown component parameter"),
    (RESPONSE_XA, oc.Item("x-a", {"tr": True}), "tr: trailer fields are not supported"),
    (RESPONSE_XA, oc.Item("x-a", {"bs": True, "sf": True}),
     "x-a: bs cannot be combined with sf or key"),
    (RESPONSE_XA, oc.Item("x-a", {"bs": True, "key": "a"}),
     "x-a: bs cannot be combined with sf or key"),
    (oc.Message(status=200, fields=(("x-a", "v\n"),)), oc.Item("x-a"),
     "x-a: value has a newline or non-ASCII character"),
])
@pytest.mark.req("RFC9421-2-5", "RFC9421-2.1-3", "RFC9421-2.1.4-1", "RFC9421-2.2-1",
                 "RFC9421-2.2-2", "RFC9421-2.2-4", "RFC9421-2.2.8-2", "RFC9421-2.2.9-1",
                 "RFC9421-2.4-4", "RFC9421-2.5-s2.5a", "RFC9421-2.5-s2.5b", "RFC9421-2.5-s2.5c")
def test_component_errors(message, item, error):
    assert str(raised(oc.SignatureBaseError, oc.component_value, message, item)) == error


def test_the_five_field_parameters_are_known_together():
    """sf, key, bs, req and tr (§2.1, §2.4, §6.5.2) on one identifier: none is unknown; the first
    failure is the trailer, which the module does not support."""
    request = oc.Message(method="POST", target_uri="https://as.example/x", fields=(("x-a", "1"),))
    item = oc.Item("x-a", {"sf": True, "key": "a", "bs": True, "req": True, "tr": True})
    assert str(raised(oc.SignatureBaseError, oc.component_value, RESPONSE_XA, item, request)) == \
        "tr: trailer fields are not supported"


@pytest.mark.req("RFC9421-2.1.2-3")
def test_dictionary_member_missing():
    message = oc.Message(status=200, fields=(("x-d", "a=1"),))
    item = oc.Item("x-d", {"key": "b"})
    types = {"x-d": "dictionary"}
    assert str(raised(oc.SignatureBaseError, oc.component_value, message, item, None, types)) == \
        "x-d: the dictionary has no member named by key"
    assert oc.component_value(message, oc.Item("x-d", {"key": "a"}), None,
                              {"x-d": "dictionary"}) == "1"


@pytest.mark.req("RFC9421-2.1-4", "RFC9421-2.1-5")
def test_field_values_strip_only_sp_and_htab():
    message = oc.Message(status=200, fields=(("x-a", " \tXvX\t "), ("x-a", "X")))
    assert oc.component_value(message, oc.Item("x-a")) == "XvX, X"


@pytest.mark.parametrize("item, value", [
    (oc.Item("@query-param", {"name": "a", "req": True}), "1"),
    (oc.Item("@path", {"req": True}), "/p"),
    (oc.Item("@status"), "200"),
])
@pytest.mark.req("RFC9421-2-1")
def test_req_components_of_a_response(item, value):
    request = oc.request_message("GET", "https://a.example/p?a=1")
    assert oc.component_value(RESPONSE_XA, item, request) == value


@pytest.mark.req("RFC9421-2.2-2")
def test_a_field_named_like_a_derived_component_is_not_its_value():
    """RFC 9421 §2.2: "Processors ... MUST treat derived component names separately from field
    names": a field line named "@method" (which a Message can carry, though RFC 9110 field
    names cannot) leaves "@method" the request's method (§2.2.1: "POST" in the B.2 request)."""
    message = oc.Message(method="POST", target_uri="https://example.com/foo",
                         fields=(("@method", "GET"), ("@path", "/bar")))
    assert oc.component_value(message, oc.Item("@method")) == "POST"
    assert oc.component_value(message, oc.Item("@path")) == "/foo"


# Pins a requirements-matrix row (tests/requirements.md) that no other test caught.
@pytest.mark.req("RFC9421-2.2.4-1")
def test_rfc9421_2_2_4_scheme_is_lower_cased():
    """RFC9421-2.2.4-1: "While the scheme itself is case insensitive, it MUST be normalized to
    lowercase"; the section's example gives `"@scheme": http` for http://www.example.com."""
    for url in ("HTTP://www.example.com/", "Http://www.example.com/"):
        message = oc.request_message("POST", url)
        assert oc.component_value(message, oc.Item("@scheme")) == "http"

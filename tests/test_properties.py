"""Hypothesis properties (bounded: a few hundred examples each, no deadline, no database):

* sign -> verify round-trips for arbitrary requests and responses and component subsets;
* a single-byte change to anything a signature covers breaks verification, and a change to
  something it does not cover does not;
* the RFC 8941 serializer's output parses back to the same (typed) value;
* Grant.from_json on arbitrary JSON returns a Grant or raises ResponseError, nothing else;
* parse_message on arbitrary bytes returns a Message or raises UsageError;
* parse_item / parse_list / parse_dictionary on arbitrary text return or raise UsageError.
"""
import json
import string

import pytest
from conftest import KEY, NOW
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import op_continue as oc

BOUNDED = settings(max_examples=100, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OTHER_KEY = oc.PrivateKey.from_seed(bytes(range(1, 33)))
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))

# --- RFC 8941 values --------------------------------------------------------------------------

LC = string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits


def joined(first, rest, max_size):
    """first character from ``first``, then up to max_size from ``rest`` (cheaper than
    from_regex)."""
    return st.builds(lambda a, b: a + b, st.sampled_from(first),
                     st.text(alphabet=rest, max_size=max_size))


keys = joined(LC + "*", LC + string.digits + "_-.*", 6)
tokens = joined(string.ascii_letters + "*", ALNUM + "!#$%&'*+-.^_`|~:/", 8).map(oc.Token)
sf_strings = st.text(alphabet=PRINTABLE, max_size=16)
integers = st.integers(-999_999_999_999_999, 999_999_999_999_999)
# <= 12 integer digits and <= 3 fractional digits: n / 1000 is the double nearest that decimal
decimals = st.integers(-999_999_999_999_999, 999_999_999_999_999).map(lambda n: n / 1000)
bare_items = st.one_of(integers, decimals, sf_strings, tokens, st.binary(max_size=24),
                       st.booleans())
params = st.dictionaries(keys, bare_items, max_size=3)
items = st.builds(oc.Item, bare_items, params)
inner_lists = st.builds(oc.InnerList, st.lists(items, max_size=4).map(tuple), params)
members = st.one_of(items, inner_lists)
sf_lists = st.lists(members, max_size=4)
sf_dictionaries = st.dictionaries(keys, members, max_size=4)


def typed(value):
    """A comparable form that keeps types: True != 1, 1.0 != 1, Token != str."""
    if isinstance(value, oc.Item):
        return ("item", typed(value.value), typed(value.params))
    if isinstance(value, oc.InnerList):
        return ("inner", tuple(typed(i) for i in value.items), typed(value.params))
    if isinstance(value, dict):
        return ("dict", tuple((k, typed(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(typed(v) for v in value))
    return (type(value).__name__, value)


@BOUNDED
@given(items)
@pytest.mark.req("RFC9421-2-4")
def test_item_round_trip(item):
    assert typed(oc.parse_item(oc.serialize_item(item))) == typed(item)


@BOUNDED
@given(sf_lists)
def test_list_round_trip(members_):
    text = oc.serialize_list(members_)
    assert typed(oc.parse_list(text)) == typed(members_)


@BOUNDED
@given(sf_dictionaries)
@pytest.mark.req("RFC8941-4.1.6-s4.1", "RFC8941-4.2.2-s2.2")
def test_dictionary_round_trip(dictionary):
    text = oc.serialize_dictionary(dictionary)
    assert typed(oc.parse_dictionary(text)) == typed(dictionary)
    assert oc.serialize_dictionary(oc.parse_dictionary(text)) == text  # canonical


# --- messages to sign -------------------------------------------------------------------------

METHOD = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "post", "M-SEARCH"])
HOST = st.builds(lambda a, b: a + b, joined(string.ascii_letters, ALNUM + "-", 8),
                 st.sampled_from(["", ".example", ".COM"]))
PORT = st.one_of(st.none(), st.sampled_from(["443", "80", "8443", "1"]))
def escaped(chars, min_size, max_size):
    """Text from ``chars`` and a few %-escapes."""
    units = st.sampled_from([*chars, "%20", "%2F", "%25", "%C3%A9", "%00"])
    return st.lists(units, min_size=min_size, max_size=max_size).map("".join)


SEGMENT = escaped(ALNUM + "._~!$&'()*+,;=:@-", 0, 8)
QNAME = escaped(ALNUM + "*._-+", 1, 6)
QVALUE = escaped(ALNUM + "*._~/?:@-+", 0, 6)
FIELD_NAME = st.text(alphabet=LC + string.digits + "-", min_size=1, max_size=8).map(
    lambda t: "x-" + t)
FIELD_VALUE = st.text(alphabet=PRINTABLE + "\t", max_size=30)


@st.composite
def urls(draw):
    scheme = draw(st.sampled_from(["https", "http", "HTTPS"]))
    port = draw(PORT)
    authority = draw(HOST) + (f":{port}" if port else "")
    path = "".join("/" + s for s in draw(st.lists(SEGMENT, max_size=4)))
    query = ""
    if draw(st.booleans()):
        names = draw(st.lists(QNAME, max_size=4, unique_by=lambda n: n.lower()))
        query = "?" + "&".join(f"{n}={draw(QVALUE)}" for n in names)
    return f"{scheme}://{authority}{path}{query}"


@st.composite
def requests_(draw, digest=None):
    """(Message, [covered component identifiers], field_types); ``digest`` forces a
    Content-Digest field in (True) or leaves it to chance (None)."""
    url = draw(urls())
    fields = draw(st.lists(st.tuples(FIELD_NAME, FIELD_VALUE), max_size=5))
    fields.append(("X-Dict", oc.serialize_dictionary(draw(sf_dictionaries.filter(bool)))))
    body = draw(st.binary(max_size=64))
    if digest or draw(st.booleans()):
        fields.append(("Content-Digest", oc.content_digest(body, draw(st.sampled_from(
            [("sha-512",), ("sha-256",), ("sha-256", "sha-512")])))))
    if draw(st.booleans()):
        fields.append(("Authorization", "GNAP " + draw(st.text(
            alphabet=string.ascii_uppercase + string.digits, min_size=4, max_size=20))))
    message = oc.request_message(draw(METHOD), url, fields, body)
    choices = [oc.Item(n) for n in ("@method", "@target-uri", "@authority", "@scheme",
                                    "@request-target", "@path", "@query")]
    # private _split_uri: the module's own URI split, to choose query names the request really has
    query = oc._split_uri(url)["query"]
    for name, _ in oc._form_urlencoded_parse(query or ""):
        # private _form_encode: the name encoding @query-param expects (RFC 9421 §2.2.8)
        choices.append(oc.Item("@query-param", {"name": oc._form_encode(name)}))
    for name in {n.lower() for n, _ in fields}:
        choices.append(oc.Item(name))
        if name != "content-digest":  # bs/key on it: see test_content_digest_member_coverage
            choices.append(oc.Item(name, {"bs": True}))
    choices.append(oc.Item("x-dict", {"sf": True}))
    dict_keys = list(oc.parse_dictionary(dict(message.fields)["x-dict"]))
    choices += [oc.Item("x-dict", {"key": k}) for k in dict_keys]
    covered = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=8,
                           unique_by=oc.serialize_item))
    return message, covered, {"x-dict": "dictionary"}


signature_parameters = st.lists(st.one_of(
    st.tuples(st.just("created"), st.integers(0, NOW)),
    st.tuples(st.just("expires"), st.integers(NOW + 1, NOW + 10**6)),
    st.tuples(st.just("keyid"), st.text(alphabet=PRINTABLE, min_size=1, max_size=12)),
    st.tuples(st.just("nonce"), st.text(alphabet=PRINTABLE, max_size=12)),
    st.tuples(st.just("tag"), st.text(alphabet=PRINTABLE, max_size=12)),
    st.tuples(st.just("alg"), st.just("ed25519")),
), max_size=4, unique_by=lambda p: p[0])
LABELS = joined(LC, LC + string.digits + "-", 6)


def signed(message, covered, params, label, field_types, request=None):
    inner = oc.signature_params(covered, params)
    sig_input, sig = oc.sign_message(message, KEY, inner, label=label, request=request,
                                     field_types=field_types)
    return message.with_fields([("Signature-Input", sig_input), ("Signature", sig)])


def verify(message, field_types, label=None, request=None, keys=KEY.public_key):
    return oc.verify_message(message, keys, label=label, request=request,
                             field_types=field_types, now=NOW)


@BOUNDED
@given(requests_(), signature_parameters, LABELS)
@pytest.mark.req("RFC9421-2.3-3", "RFC9421-3.1-3", "RFC9421-3.2-2", "RFC9635-7.3.1-16")
def test_sign_verify_round_trip(req, params, label):
    message, covered, types = req
    result = verify(signed(message, covered, params, label, types), types, label=label)
    assert result.label == label
    assert result.covered == tuple(oc.serialize_item(c) for c in covered)
    assert list(result.params.items()) == params
    keyid = dict(params).get("keyid")
    assert result.keyid == keyid
    event(f"{len(covered)} components")
    # the right key is needed: a wrong one, or a keyid map without it, is refused
    for wrong in (OTHER_KEY.public_key, {"not-" + (keyid or ""): KEY.public_key}):
        if wrong is not OTHER_KEY.public_key and keyid is None:
            continue
        try:
            verify(signed(message, covered, params, label, types), types, keys=wrong)
        except oc.VerificationError:
            pass
        else:
            raise AssertionError("verified with the wrong key")


@BOUNDED
@given(requests_(), st.integers(100, 599), st.data())
@pytest.mark.req("RFC8941-4.1.6-s4.1")
def test_response_with_request_components_round_trip(req, status, data):
    request, _, types = req
    response = oc.Message(status=status, fields=(("x-r", "1"),))
    choices = [oc.Item("@status"), oc.Item("x-r"), oc.Item("@method", {"req": True}),
               oc.Item("@target-uri", {"req": True}), oc.Item("@path", {"req": True})]
    choices += [oc.Item(n, {"req": True}) for n in {n for n, _ in request.fields}]
    covered = data.draw(st.lists(st.sampled_from(choices), max_size=5,
                                 unique_by=oc.serialize_item))
    message = signed(response, covered, [("created", NOW)], "sig1", types, request=request)
    assert verify(message, types, request=request).covered == \
        tuple(oc.serialize_item(c) for c in covered)


def _values(message, covered, types):
    out = []
    for item in covered:
        try:
            out.append(oc.component_value(message, item, field_types=types))
        except oc.SignatureBaseError:
            out.append(None)
    return out


def _mutate(text, draw, alphabet=PRINTABLE):
    """One character of ``text`` replaced by a different one from ``alphabet``."""
    pos = draw(st.integers(0, len(text) - 1))
    new = draw(st.sampled_from(alphabet).filter(lambda c: c != text[pos]))
    return text[:pos] + new + text[pos + 1:]


@BOUNDED
@given(requests_(), signature_parameters, st.data())
@pytest.mark.req("RFC9421-3.2-s7", "RFC8941-4.2.7-s6")
def test_single_byte_change_to_a_covered_component_breaks_verification(req, params, data):
    message, covered, types = req
    good = signed(message, covered, params, "sig1", types)
    target = data.draw(st.sampled_from(covered))
    name = target.value
    if name in ("@method",):
        mutated = oc.Message(_mutate(message.method, data.draw, string.ascii_letters + "-"),
                             message.target_uri, message.request_target, None,
                             good.fields, message.body)
    elif name.startswith("@"):  # every other derived component comes from the target URI
        uri = message.target_uri
        # private _URI_RE: the RFC 3986 Appendix B pattern the module splits URIs with
        match = oc._URI_RE.match(uri)
        group = {"@scheme": 2, "@authority": 4, "@path": 5, "@query": 7,
                 "@query-param": 7}.get(name)
        start, end = match.span(group) if group and match.group(group) else (0, len(uri))
        part = _mutate(uri[start:end], data.draw, string.ascii_letters + string.digits + "/?&=%")
        uri = uri[:start] + part + uri[end:]
        twin = oc.request_message(message.method, uri)
        mutated = oc.Message(message.method, uri, twin.request_target, None, good.fields,
                             message.body)
    else:  # an HTTP field: change one byte of one of its values
        indexes = [i for i, (n, v) in enumerate(good.fields) if n == name and v]
        assume(indexes)
        index = data.draw(st.sampled_from(indexes))
        fields = list(good.fields)
        fields[index] = (name, _mutate(fields[index][1], data.draw))
        mutated = oc.Message(message.method, message.target_uri, message.request_target, None,
                             tuple(fields), message.body)
    changed = _values(mutated, covered, types) != _values(good, covered, types)
    event("value changed" if changed else "equivalent change (e.g. case, whitespace)")
    if changed:
        try:
            verify(mutated, types)
        except oc.VerificationError:
            return
        raise AssertionError("a changed covered component still verified")
    verify(mutated, types)  # an equivalent change must still verify


@BOUNDED
@given(requests_(digest=True), st.data())
@pytest.mark.req("RFC9530-6.3-1", "RFC9635-7.3.1-4", "RFC9635-7.3.1-15")
def test_body_change_breaks_a_covered_content_digest(req, data):
    message, covered, types = req
    covered = [c for c in covered if c.value != "content-digest"] + [oc.Item("content-digest")]
    good = signed(message, covered, [("created", NOW)], "sig1", types)
    body = bytearray(message.body or b"\x00")
    pos = data.draw(st.integers(0, len(body) - 1))
    body[pos] ^= data.draw(st.integers(1, 255))
    mutated = oc.Message(message.method, message.target_uri, message.request_target, None,
                         good.fields, bytes(body))
    try:
        verify(mutated, types)
    except oc.VerificationError:
        return
    raise AssertionError("a changed body still verified under a covered Content-Digest")


@BOUNDED
@given(requests_(), signature_parameters, st.data())
@pytest.mark.req("RFC9421-4.1-1")
def test_single_byte_change_to_signature_params_breaks_verification(req, params, data):
    message, covered, types = req
    good = signed(message, covered, params, "sig1", types)
    sig_input = good.field_values("signature-input")[0]
    bad = _mutate(sig_input, data.draw)
    try:
        same = typed(oc.parse_dictionary(bad)) == typed(oc.parse_dictionary(sig_input))
    except oc.UsageError:
        same = False
    assume(not same)
    fields = tuple((n, bad if n == "signature-input" else v) for n, v in good.fields)
    mutated = oc.Message(message.method, message.target_uri, message.request_target, None,
                         fields, message.body)
    try:
        verify(mutated, types, label="sig1")
    except (oc.VerificationError, oc.UsageError) as exc:
        # UsageError only for a foreign alg (see tests/test_faults.py, _check_alg)
        assert isinstance(exc, oc.VerificationError) or "algorithm" in str(exc)
        return
    raise AssertionError("a changed Signature-Input still verified")


# Regression (fixed): used to fail: op_continue.verify_message: a covered content-digest is checked
# by feeding the *component value* to verify_content_digest, so a valid signature covering
# content-digestsha-512content-digestmalformed field
@pytest.mark.parametrize("identifier", [oc.Item("content-digest", {"key": "sha-512"}),
                                        oc.Item("content-digest", {"bs": True})])
def test_content_digest_member_coverage(identifier):
    body = b'{"hello": "world"}'
    message = oc.request_message("POST", "https://as.example/x",
                                 [("Content-Digest", oc.content_digest(body))], body)
    message = signed(message, [oc.Item("@method"), identifier], [("created", NOW)], "sig1", {})
    assert verify(message, {}).covered[1] == oc.serialize_item(identifier)


# --- parsers never leak an untyped exception --------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                               max_size=4),
    max_leaves=20)

VALID_GRANT = {
    "access_token": {"value": "T", "manage": "https://as.example/token/1", "expires_in": 600,
                     "access": [{"type": "outgoing-payment", "actions": ["create", "read"],
                                 "identifier": "https://w.example/alice",
                                 "limits": {"debitAmount": {"value": "500", "assetCode": "USD",
                                                            "assetScale": 2},
                                            "receiver": "https://w.example/bob/x",
                                            "interval": "R/2024-01-01T00:00:00Z/P1M"}}]},
    "continue": {"access_token": {"value": "C"}, "uri": "https://as.example/continue/1",
                 "wait": 5},
    "interact": {"redirect": "https://as.example/interact/1", "finish": "n"},
    "subject": {"sub_ids": [{"id": "https://w.example/alice", "format": "uri"}]},
}
GRANT_WORDS = ["access_token", "continue", "interact", "subject", "sub_ids", "id", "value",
               "manage", "access", "expires_in", "type", "actions", "identifier", "limits",
               "debitAmount", "receiveAmount", "assetCode", "assetScale", "receiver",
               "interval", "uri", "wait", "redirect", "finish", "incoming-payment",
               "outgoing-payment", "quote", "create", "read", "read-all", "list", "list-all",
               "complete", "https://as.example/x", "http://127.0.0.1/x", "18446744073709551616"]


def _check(doc):
    try:
        grant = oc.Grant.from_json(oc.parse_json(json.dumps(doc).encode()))
    except oc.ResponseError as exc:
        assert exc.path.startswith("$")
        event("ResponseError")
        return
    event("Grant")
    assert grant.access_token is not None or grant.continue_ is not None or grant.subject
    if grant.continue_ is not None and grant.continue_.wait is not None:
        assert 0 <= grant.continue_.wait <= oc.MAX_WAIT_SECONDS
    assert oc.Grant.from_json(grant.to_json()) == grant  # the CLI's --json reads back the same


@BOUNDED
@given(json_values)
def test_grant_from_arbitrary_json(doc):
    _check(doc)


@BOUNDED
@given(st.data())
def test_grant_from_mutated_valid_grant(data):
    doc = json.loads(json.dumps(VALID_GRANT))
    for _ in range(data.draw(st.integers(1, 3))):
        node, path = doc, []
        while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(sorted(node) if isinstance(node, dict)
                                            else range(len(node))))
            path.append(key)
            node = node[key]
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "delete", "word"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "word":
            parent[path[-1]] = data.draw(st.sampled_from(GRANT_WORDS))
        else:
            parent[path[-1]] = data.draw(json_values)
    _check(doc)


MESSAGE_PIECES = st.sampled_from([
    b"GET / HTTP/1.1", b"POST /foo?a=b HTTP/1.1", b"HTTP/1.1 200 OK", b"HTTP/1.1 99",
    b"CONNECT a.example:443 HTTP/1.1", b"OPTIONS * HTTP/1.1", b"GET https://a/b HTTP/1.1",
    b"Host: example.com", b"Content-Type: application/json", b" folded", b"\tfolded",
    b"Bad Name: x", b":", b"X:", b"", b"\r", b"{}", b"\xff\xfe", b"Signature: sig1=:AA==:",
])


@BOUNDED
@given(st.one_of(st.binary(max_size=200),
                 st.lists(MESSAGE_PIECES, max_size=8).map(b"\n".join),
                 st.lists(MESSAGE_PIECES, max_size=8).map(b"\r\n".join)))
def test_parse_message_arbitrary_bytes(data):
    try:
        message = oc.parse_message(data)
    except oc.UsageError:
        event("UsageError")
        return
    event("request" if message.is_request else "response")
    assert isinstance(message, oc.Message)
    for name, _ in message.fields:
        assert name == name.lower()


SF_ALPHABET = PRINTABLE + "\t\x00\u00e9"


@st.composite
def mutated_sf(draw):
    text = draw(st.one_of(sf_dictionaries.filter(bool).map(oc.serialize_dictionary),
                          sf_lists.filter(bool).map(oc.serialize_list)))
    for _ in range(draw(st.integers(1, 2))):
        text = _mutate(text, draw, SF_ALPHABET)
    return text


@BOUNDED
@given(st.one_of(st.text(max_size=40), st.text(alphabet=SF_ALPHABET, max_size=40),
                 mutated_sf()))
def test_structured_field_parsers_arbitrary_text(text):
    for parse in (oc.parse_item, oc.parse_list, oc.parse_dictionary):
        try:
            value = parse(text)
        except oc.UsageError:
            continue
        event(f"{parse.__name__} ok")
        # whatever parses re-serializes to something that parses to the same value
        serializer = {oc.parse_item: oc.serialize_item, oc.parse_list: oc.serialize_list,
                      oc.parse_dictionary: oc.serialize_dictionary}[parse]
        assert typed(parse(serializer(value))) == typed(value)


FINISH = "https://client.example/finish?"


@BOUNDED
@given(st.one_of(st.text(max_size=60),
                 st.text(alphabet=string.ascii_letters + string.digits + "-_+/=%&", max_size=60)
                 .map(lambda tail: f"{FINISH}interact_ref=r&hash={tail}"),
                 st.text(max_size=60).map(lambda tail: FINISH + tail)))
def test_finish_redirect_from_arbitrary_text(url):
    # the redirect back comes from the user's browser: whatever it holds, only the module's
    # typed errors escape, and no hash made up here matches
    try:
        finish = oc.parse_finish_redirect(url)
    except (oc.UsageError, oc.GrantError) as exc:
        event(type(exc).__name__)
        return
    with pytest.raises(oc.VerificationError):
        oc.verify_interaction_hash(finish.hash, "c", "s", finish.interact_ref,
                                   "https://as.example/")

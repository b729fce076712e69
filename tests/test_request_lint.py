"""Section 13 of op_continue.py, lint: lint_request and op-continue lint. Each hand-written
faulty request of vectors/lint/requests.json gets the findings its provenance predicts, the
official signer's requests and ours get no error, and the command line's exit codes, formats
and secrecy."""
import io
import json
import sys

import pytest
from conftest import PRIVATE, VECTOR_DIR, no_secret, raised, run, text, vectors_of, write

import op_continue as oc

LINT_DOC = json.loads((VECTOR_DIR / "lint" / "requests.json").read_text(encoding="utf-8"))
LINT_CASES = [t for t in LINT_DOC["tests"] if t["type"] == "lint_request"]
JS_CASES = [t for t in LINT_DOC["tests"] if t["type"] == "json_reserialized"]
# vectors/FORMAT.md: the keys a lint case names (PRIVATE: RFC 9421 B.1.4's)
SEED_01 = oc.PrivateKey.from_seed(bytes([1]) * 32)
PUBLIC = {"rfc9421-B.1.4": PRIVATE.public_key, "seed-01": SEED_01.public_key}
PROFILE_NOTES = [("tag", "note"), ("nonce", "note")]  # the Open Payments profile's deviations
SECRETS = ("33OMUKMKSKU80UPRY5NM", "ad82597c-bbfa-4eb0-b72e-328e005b8689")


def _lint(inp):
    keys = {kid: PUBLIC[name] for kid, name in inp["keys"].items()} if "keys" in inp else None
    return oc.lint_request(oc.parse_message(text(inp["message"])), keys,
                           request_kind=inp.get("request_kind"), now=inp.get("now"),
                           expected_uri=inp.get("expected_uri"))


def _pairs(findings):
    return [(f.rule, f.severity) for f in findings]


def _line(finding):
    """A finding as `op-continue lint` prints it."""
    return f"{finding.severity} {finding.rule}: {finding.message} [{finding.source}]"


# tests/lint-findings.txt pins our own wording of each case's findings (messages and sources),
# as tests/help/ pins the help texts: it is what the user reads, not a published value. The rule
# ids and severities in it are checked against the vector file's provenance (expected.findings).
# Regenerate it after changing a message: python tests/test_request_lint.py --write-findings
FINDINGS_FILE = VECTOR_DIR.parent / "tests" / "lint-findings.txt"
FINDINGS_HEADER = """\
# The findings lint_request gives on each hand-written request of vectors/lint/requests.json,
# one line each as `op-continue lint` prints them: severity rule: message [source].
# Our own wording, pinned; made by: python tests/test_request_lint.py --write-findings
"""


def _golden():
    cases, lines = {}, []
    for row in FINDINGS_FILE.read_text(encoding="utf-8").splitlines():
        if row.startswith("[") and row.endswith("]"):
            lines = cases.setdefault(row[1:-1], [])
        elif row and not row.startswith("#"):
            lines.append(row)
    return cases


GOLDEN = _golden() if FINDINGS_FILE.exists() else {}  # (missing: the tests below fail)


def test_the_vector_file_is_well_formed():
    assert LINT_DOC["schema"] == "op_continue-vectors/1"
    assert LINT_DOC["numberOfTests"] == len(LINT_DOC["tests"]) == len(LINT_CASES) + len(JS_CASES)
    assert all(t["provenance"] for t in LINT_DOC["tests"])
    ids = [t["id"] for t in LINT_DOC["tests"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", LINT_CASES, ids=[c["id"] for c in LINT_CASES])
def test_each_faulty_request_gets_its_finding(case):
    """The findings the case's provenance predicts, with the rules table's severity and source,
    and no secret of the request in any message."""
    findings = _lint(case["input"])
    assert _pairs(findings) == [tuple(pair) for pair in case["expected"]["findings"]]
    assert [_line(finding) for finding in findings] == GOLDEN[case["id"]]
    for finding in findings:
        assert (finding.severity, finding.source) == oc.LINT_RULES[finding.rule][:2]
        no_secret(finding.message, *SECRETS)
    assert case["result"] == ("invalid" if any(f.severity == "error" for f in findings)
                              else "valid")


def test_the_findings_file_has_each_case_once():
    assert list(GOLDEN) == [case["id"] for case in LINT_CASES]


def test_every_rule_has_a_faulty_request():
    shown = {rule for case in LINT_CASES for rule, _ in case["expected"]["findings"]}
    assert shown == set(oc.LINT_RULES)


@pytest.mark.parametrize("case", JS_CASES, ids=[c["id"] for c in JS_CASES])
def test_reserialization_is_what_node_prints(case):
    """JSON.stringify(JSON.parse(body)), the bytes Rafiki digests, as Node printed them."""
    body = case["input"]["body"].encode("utf-8")
    assert oc._js_reserialized(body) == case["expected"]["body"].encode("utf-8")


def test_bytes_that_are_not_utf8_are_read_as_node_reads_them():
    """Node's UTF-8 decoder (Buffer toString, as the body reaches JSON.parse) puts U+FFFD for a
    byte that is no UTF-8; Node v20 prints {"a":"\ufffd"} for these bytes."""
    assert oc._js_reserialized(b'{"a":"\xff"}') == '{"a":"\ufffd"}'.encode("utf-8")


def test_json_that_javascript_refuses_is_not_json():
    assert oc._js_reserialized(b'{"a":NaN}') is None  # JSON.parse throws on NaN
    assert oc._js_reserialized(b'{"a":1} x') is None
    assert oc._js_reserialized(b"[" * 100000 + b"]" * 100000) is None  # (deeper than Python)


def _sdk_message(vec):
    """A request of the official signer as it goes on the wire (vectors/FORMAT.md: Accept and
    Content-Type on every request, notes), an HTTP/1.1 message."""
    inp = vec["input"]
    parts = oc._split_uri(inp["url"])
    target = parts["path"] + ("?" + parts["query"] if parts["query"] else "")
    lines = [f"{inp['method']} {target} HTTP/1.1", f"Host: {parts['authority']}"]
    if inp["access_token"]:
        lines.append(f"Authorization: GNAP {inp['access_token']}")
    lines += ["Accept: application/json", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in vec["expected"]["headers"].items()
              if name != "Content-Type"]
    return oc.parse_message("\n".join(lines) + "\n\n" + (inp["body"] or ""))


SDK = vectors_of("sdk_request")


@pytest.mark.parametrize("vec", SDK, ids=[v["id"] for v in SDK])
def test_official_signer_requests_get_only_the_profile_notes(vec):
    inp = vec["input"]
    findings = oc.lint_request(_sdk_message(vec), {inp["keyid"]: PRIVATE.public_key},
                               now=inp["created"] + 5, expected_uri=inp["url"])
    assert _pairs(findings) == PROFILE_NOTES


OPERATIONS = [  # (kind, method, URL, token, body): every request the client makes
    ("grant", "POST", "https://auth.example/", None, b'{"access_token":{"access":[]},'
                                                     b'"client":"https://wallet.example/a"}'),
    ("continue", "POST", "https://auth.example/continue/G1", "CT", oc.continue_body("REF-1")),
    ("poll", "POST", "https://auth.example/continue/G1", "CT", None),
    ("cancel", "DELETE", "https://auth.example/continue/G1", "CT", None),
    ("rotate", "POST", "https://auth.example/token/T1", "AT", None),
    ("revoke", "DELETE", "https://auth.example/token/T1", "AT", None),
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_our_requests_lint_clean(operation):
    kind, method, url, token, body = operation
    signed = oc.sign_request(method, url, key=PRIVATE, key_id="k1", access_token=token,
                             body=body, created=1700000000)
    findings = oc.lint_request(signed, {"k1": PRIVATE.public_key}, request_kind=kind,
                               now=1700000001, expected_uri=url)
    assert _pairs(findings) == PROFILE_NOTES


# --- rule details that the vector cases do not reach -------------------------------------------

CLEAN = next(c for c in LINT_CASES if c["id"] == "lint-clean-continue")["input"]["message"]


def _edited(replace=None, drop=(), add=(), body=None):
    """The clean continuation with field lines replaced, dropped or added, or another body."""
    head, _, rest = text(CLEAN).partition("\n\n")
    lines = [line for line in head.split("\n") if not line.startswith(tuple(drop))]
    for old, new in (replace or {}).items():
        lines = [new if line.startswith(old) else line for line in lines]
    return oc.parse_message("\n".join(lines + list(add)) + "\n\n"
                            + (rest if body is None else body))


def _rules(message, **kw):
    return [f.rule for f in oc.lint_request(message, **kw) if f.severity != "note"]


@pytest.mark.parametrize("call, said", [  # our wording, pinned
    (lambda: oc.lint_request(_edited(), request_kind="pay"),
     "request kind: one of grant, continue, poll, cancel, rotate, revoke"),
    (lambda: oc.lint_request(oc.parse_message("HTTP/1.1 200 OK\nContent-Type: text/plain\n\n")),
     "message: lint reads a request, not a response"),
    (lambda: oc.lint_request("POST / HTTP/1.1"),
     "message: expected a Message (parse_message, request_message) or a SignedRequest"),
])
def test_refusals(call, said):
    assert str(raised(oc.UsageError, call)) == said


SIG_INPUT = 'Signature-Input: sig1=("@method" "@target-uri" "authorization" "content-digest" ' \
            '"content-length" "content-type");keyid="keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"' \
            ';created=1618884473'
DIGEST = next(line for line in CLEAN if line.startswith("Content-Digest:"))
NOT_CONTENT = ("covered-content", "the request has content, but content-digest is not covered; "
                                  "content-length is not covered; content-type is not covered")
NO_MATCH = ("signature-fields", "Signature-Input and Signature have no matching member (an Inner "
                                "List and a Byte Sequence)")
NO_VERIFY = ("signature", "the signature does not verify (nor over the common variants of "
                          "@target-uri)")
URI = "https://auth.interledger-test.dev/continue/4CF492MLVMSW9MKMXKHQ"


def _auth(value):
    return {"replace": {"Authorization:": "Authorization: " + value}}


def _sig_input(value):
    return {"replace": {"Signature-Input:": "Signature-Input: " + value}}


# (edit of the clean continuation, lint_request's options, its findings but the notes as
# (rule, message)): the messages are our own wording, pinned here as in tests/lint-findings.txt
RULE_DETAILS = {
    "authorization-lower-case": (_auth("gnap 33OMUKMKSKU80UPRY5NM"), {}, [
        ("authorization", "Authorization writes its scheme in another letter case or spacing "
                          "than 'GNAP ' and the token (the value is not shown)")]),
    "authorization-two-spaces": (_auth("GNAP  33OMUKMKSKU80UPRY5NM"), {}, [
        ("authorization", "Authorization writes its scheme in another letter case or spacing "
                          "than 'GNAP ' and the token (the value is not shown)")]),
    "authorization-twice": ({"add": ["Authorization: GNAP 33OMUKMKSKU80UPRY5NM"]}, {}, [
        ("authorization", "Authorization is sent more than once (the value is not shown)")]),
    "digest-no-dictionary": ({"replace": {"Content-Digest:": "Content-Digest: sha-512=("}}, {}, [
        ("digest-mismatch", "Content-Digest is not an RFC 8941 Dictionary")]),
    "digest-md5-only": ({"replace": {"Content-Digest:": "Content-Digest: md5=:AAAA:"}}, {}, [
        ("digest-algorithm", "Content-Digest uses md5: use sha-512 (or sha-256)")]),
    "digest-two-unknown": ({"replace": {"Content-Digest:": DIGEST + ", md5=:AA==:, crc=:AA==:"}},
                           {}, [("digest-algorithm",
                                 "Content-Digest uses crc, md5: use sha-512 (or sha-256)")]),
    # RFC 9110 §5.3: two field lines are one list; a wrong sha-256 on its own line is read
    "digest-two-lines": ({"replace": {"Content-Digest:": "Content-Digest: sha-256=:AAAA:"},
                          "add": [DIGEST]}, {}, [
        ("digest-mismatch", "Content-Digest: sha-256 does not match the body")]),
    "digest-parameter": ({"replace": {"Content-Digest:": DIGEST + ";x=X"}}, {}, []),
    # a vertical tab is no RFC 9110 §5.6.3 whitespace: it is not trimmed, the field is malformed
    "digest-vertical-tab": ({"replace": {"Content-Digest:": DIGEST + "\x0b"}}, {}, [
        ("digest-mismatch", "Content-Digest is not an RFC 8941 Dictionary")]),
    "digest-none": ({"drop": ["Content-Digest:"]}, {}, [
        ("covered-content", "the request has content, but there is no Content-Digest field")]),
    "body-not-json": ({"body": "interact_ref=x",
                       "replace": {"Content-Length:": "Content-Length: 14"}}, {}, [
        ("body-json", "the content is not JSON (as JSON.parse reads it): Rafiki cannot parse it"),
        ("digest-mismatch", "Content-Digest: sha-512 does not match the body")]),
    "cancel-with-content": ({}, {"request_kind": "cancel"}, [
        ("body-not-allowed", "a cancel request carries content (55 bytes): RFC 9635 sends none")]),
    "target-no-slash": ({}, {"expected_uri": URI + "/"}, [
        ("target-uri", "the target URI has no trailing slash where the URI the AS gave has one")]),
    "target-other": ({}, {"expected_uri": URI[:-20] + "OTHER"}, [
        ("target-uri", "the target URI is not the URI the AS gave")]),
    "target-none": ({"drop": ["Host:"]}, {"expected_uri": URI}, [
        ("target-uri", "the target URI is not the URI the AS gave")]),
    "input-malformed": (_sig_input("sig1=("), {}, [
        ("signature-fields", "signature-input: malformed field")]),
    "input-no-inner-list": (_sig_input("sig1=abc"), {}, [NO_MATCH]),
    "input-empty": (_sig_input(""), {}, [NO_MATCH, (
        "label", "Signature-Input has no member sig1: Rafiki reads only sig1 and answers 401 "
                 "invalid_client")]),
    "input-sig1-second": (_sig_input('sig2=("@method");created=1, ' + SIG_INPUT[17:]), {}, [
        ("one-signature", "Signature-Input has 2 members; send only sig1")]),
    "signature-no-bytes": ({"replace": {"Signature:": "Signature: sig1=?1"}}, {}, [NO_MATCH]),
    # the base64 of 3 bytes, undelimited: repaired to sig1=:AAAX: (its last letter kept)
    # (and the repaired message keeps the body: the content rules still see it)
    "signature-undelimited": ({"replace": {"Signature:": "Signature: sig1=AAAX"},
                               "drop": ["Content-Digest:"]}, {}, [
        ("signature-encoding", "the Signature value is base64 without the ':' delimiters of a "
                               "Byte Sequence: write sig1=:...:"),
        ("covered-content", "the request has content, but there is no Content-Digest field")]),
    "signature-vertical-tab": ({"replace": {"Signature:": "Signature: sig1=AAAX\x0b"}}, {}, [
        ("signature-fields", "signature: malformed field")]),
    # one base64 letter (6 bits, no whole byte): repaired, and still no Byte Sequence
    "signature-one-letter": ({"replace": {"Signature:": "Signature: sig1=X"}}, {}, [
        ("signature-fields", "signature: malformed field"),
        ("signature-encoding", "the Signature value is base64 without the ':' delimiters of a "
                               "Byte Sequence: write sig1=:...:")]),
    "keyid-missing": (_sig_input(SIG_INPUT[17:].replace(
        ';keyid="keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"', "")), {}, [
        ("keyid", 'keyid is missing: write keyid="<kid>"')]),
    "keyid-integer": (_sig_input(SIG_INPUT[17:].replace(
        '"keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"', "7")), {}, [
        ("keyid", 'keyid is not a String: write keyid="<kid>"')]),
    "keyid-quote": (_sig_input(SIG_INPUT[17:].replace("keyid-97a3", 'a\\"b')), {}, [
        ("keyid", "keyid holds ';' or '\"': the official verifier splits Signature-Input on ';' "
                  "and cannot find it")]),
    # a keyid that is no String names no key: the only key of the keys is taken
    "keyid-integer-one-key": (_sig_input(SIG_INPUT[17:].replace(
        '"keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"', "7")),
        {"keys": {"k": PRIVATE.public_key}}, [
        ("keyid", 'keyid is not a String: write keyid="<kid>"'),
        ("signature", "cannot build the signature base: keyid: signature parameter must be a "
                      "String")]),
    "keyid-unknown": ({"replace": {"Signature:": "Signature: sig1=:" + "A" * 86 + "==:"}},
                      {"keys": {"other": PRIVATE.public_key}}, [
        ("keyid-unknown", "keyid names no key of the given keys (JWKS)"), NO_VERIFY]),
    "base-not-built": (_sig_input('sig1=("@method" "@target-uri" "authorization" "x-missing")'
                                  ';keyid="k";created=1618884473'),
                       {"keys": PRIVATE.public_key}, [
        ("signature", "cannot build the signature base: x-missing: the field is not in the "
                      "message"), NOT_CONTENT]),
    # a failing signature over @authority tries only the forms of @target-uri that have one
    "over-authority": (_sig_input('sig1=("@method" "@authority" "@scheme");keyid="k"'
                                  ';created=1618884473'), {"keys": PRIVATE.public_key}, [
        ("covered", "not covered: @target-uri, authorization: Rafiki answers 401 "
                    "invalid_client"), NO_VERIFY, NOT_CONTENT]),
}


@pytest.mark.parametrize("edit, options, expected", RULE_DETAILS.values(), ids=list(RULE_DETAILS))
def test_rule_details(edit, options, expected):
    findings = [f for f in oc.lint_request(_edited(**edit), **options) if f.severity != "note"]
    assert [(f.rule, f.message) for f in findings] == expected


@pytest.mark.parametrize("path, expected", [("/tX", "/t"), ("/t", "/tX")])
def test_a_path_that_differs_in_more_than_its_slash_is_another_uri(path, expected):
    message = oc.parse_message(f"POST {path} HTTP/1.1\nHost: as.example\n\n")
    findings = oc.lint_request(message, expected_uri="https://as.example" + expected)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("target")] == [
        ("target-uri", "the target URI is not the URI the AS gave")]


@pytest.mark.parametrize("target, expected", [
    # neither URI has a normal form (userinfo; a fragment): not "the same URI written differently"
    ("https://u@as.example/t", "https://other.example/x#f"),
    # the paths differ by a slash, but the hosts differ too: not "a trailing slash"
    ("https://as.example//", "https://other.example"),
])
def test_a_uri_on_another_host_is_another_uri(target, expected):
    message = oc.request_message("POST", target)
    findings = oc.lint_request(message, expected_uri=expected)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("target")] == [
        ("target-uri", "the target URI is not the URI the AS gave")]


def test_a_target_uri_with_a_slash_where_the_as_gave_an_empty_path():
    # pins the empty path of the URI the AS gave read as "/" (RFC 3986 §6.2.3): "//" differs
    # from it by a trailing slash
    message = oc.request_message("POST", "https://as.example//")
    findings = oc.lint_request(message, expected_uri="https://as.example")
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("target")] == [
        ("target-uri", "the target URI has a trailing slash where the URI the AS gave has none")]


def test_an_empty_target_path_against_slashes_is_a_trailing_slash_difference():
    # pins the empty path of the target URI read as "/" (RFC 3986 §6.2.3): against "//" the two
    # differ only in trailing slashes (which way the message words it: not pinned here)
    message = oc.request_message("POST", "https://as.example")
    findings = oc.lint_request(message, expected_uri="https://as.example//")
    assert [(f.rule, "trailing slash" in f.message) for f in findings
            if f.rule.startswith("target")] == [("target-uri", True)]


@pytest.mark.parametrize("target, expected, why", [
    ("https://as.example/t/", "https://as.example/t", "a trailing slash where the URI the AS "
                                                     "gave has none"),
    ("https://as.example/t", "https://as.example/t/", "no trailing slash where the URI the AS "
                                                     "gave has one"),
    ("https://as.example/t//", "https://as.example/t/", "more trailing slashes than the URI the "
                                                       "AS gave"),
    ("https://as.example/t/", "https://as.example/t//", "fewer trailing slashes than the URI "
                                                        "the AS gave"),
    ("https://as.example", "https://as.example//", "no trailing slash where the URI the AS gave "
                                                  "has one"),
], ids=["one-extra", "one-missing", "more", "fewer", "empty-path"])
def test_the_trailing_slash_finding_says_which_way_the_uris_differ(target, expected, why):
    # it once said "a trailing slash where ... has none" whenever the target ended in "/", also
    # when the AS's URI ended in "/" too (found while accounting for mutation survivors)
    findings = oc.lint_request(oc.request_message("POST", target), expected_uri=expected)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("target")] == [
        ("target-uri", f"the target URI has {why}")]


@pytest.mark.parametrize("expected", ["", "/", "t/", "XXXX/"])
def test_a_request_without_a_target_uri_is_never_a_slash_away(expected):
    # pins the missing target URI compared as no URI at all, even with a bare path given as the
    # URI the AS gave (one that a placeholder path would match, up to its slash)
    message = oc.parse_message("POST /t HTTP/1.1\n\n")
    findings = oc.lint_request(message, expected_uri=expected)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("target")] == [
        ("target-uri", "the target URI is not the URI the AS gave")]


@pytest.mark.parametrize("expected, rule", [("http://localhost/t", "target-uri-form"),
                                             ("http://localhost/u", "target-uri")])
def test_an_http_target_uri_is_compared_in_its_normal_form_too(expected, rule):
    """(a local AS is reached over http on loopback: with the default port 80 it is the same
    URI, on another path another one)"""
    message = oc.parse_message("POST /t HTTP/1.1\nHost: localhost:80\n\n", scheme="http")
    findings = oc.lint_request(message, expected_uri=expected)
    assert [f.rule for f in findings if f.rule.startswith("target")] == [rule]


def test_created_that_is_no_integer_and_created_in_the_window():
    sig_input = ('Signature-Input: sig1=("@method" "@target-uri");keyid="k";created="1"')
    assert "created-missing" in _rules(_edited({"Signature-Input:": sig_input}))
    assert "created-old" not in _rules(_edited(), now=1618884473 + 300)
    assert "created-future" not in _rules(_edited(), now=1618884473 - 60)


def test_a_single_public_key_verifies():
    assert _rules(_edited(), keys=PRIVATE.public_key) == []


def test_target_uri_variants():
    """The forms a client signs by mistake (the ones equal to the target are left out)."""
    message = oc.parse_message("POST /tx?a=1 HTTP/1.1\nHost: As.example:443\n\n")
    assert oc._target_uri_variants(message) == [
        ("with the trailing slash toggled", "https://As.example:443/tx/?a=1"),
        ("without the default port", "https://As.example/tx?a=1"),
        ("without the query", "https://As.example:443/tx"),
        ("with http for https", "http://As.example:443/tx?a=1"),
        ("as the request target alone", "/tx?a=1"),
        ("in the WHATWG form", "https://as.example/tx?a=1"),
    ]
    root = oc.parse_message("POST / HTTP/1.1\nHost: as.example\n\n", scheme="ftp")
    assert oc._target_uri_variants(root) == [  # (no WHATWG form: normalize_url refuses ftp)
        ("with the trailing slash toggled", "ftp://as.example"),
        ("with http for https", "http://as.example/"),
        ("as the request target alone", "/")]
    port = oc.parse_message("POST /tx HTTP/1.1\nHost: as.example:443\n\n")
    assert oc._target_uri_variants(port) == [  # (the WHATWG form is the one without the port)
        ("with the trailing slash toggled", "https://as.example:443/tx/"),
        ("without the default port", "https://as.example/tx"),
        ("with http for https", "http://as.example:443/tx"),
        ("as the request target alone", "/tx")]
    slash = oc.parse_message("POST /tx/ HTTP/1.1\nHost: as.example\n\n")
    assert oc._target_uri_variants(slash)[0] == ("with the trailing slash toggled",
                                                 "https://as.example/tx")
    no_path = oc.parse_message("POST https://as.example HTTP/1.1\nHost: as.example\n\n")
    assert oc._target_uri_variants(no_path) == [
        ("with the trailing slash toggled", "https://as.example/"),
        ("with the default port", "https://as.example:443"),
        ("with http for https", "http://as.example")]
    no_request_target = oc.Message("POST", "https://as.example/tx", None, None, (), b"")
    assert [what for what, _ in oc._target_uri_variants(no_request_target)] == [
        "with the trailing slash toggled", "with the default port", "with http for https"]


@pytest.mark.parametrize("keys, found", [
    (PRIVATE.public_key, ("signature-target-uri", "the signature verifies over @target-uri in "
                                                  "the WHATWG form: https://as.example/t")),
    # keyid's key is tried over the variants, not another key of the JWKS (two mistakes at once)
    ({"k": SEED_01.public_key, "other": PRIVATE.public_key}, NO_VERIFY),
])
def test_a_signature_over_the_whatwg_form_is_found_after_a_form_without_authority(keys, found):
    """@authority covered: the path alone cannot make a base, and the forms after it are
    still tried. The request is signed here (Ed25519 by the RFC 9421 B.1.4 key) over the
    WHATWG form of its target URI, as a client that lower-cases the host signs it."""
    sig_input = oc.InnerList([oc.Item("@target-uri"), oc.Item("@authority")],
                             {"keyid": "k", "created": 1618884473})
    whatwg = oc.Message("POST", "https://as.example/t", "/t", None, (("host", "as.example"),))
    signature = PRIVATE.sign(oc.signature_base(whatwg, sig_input).encode())
    message = oc.parse_message(
        "POST /t HTTP/1.1\nHost: AS.example\nSignature-Input: "
        + oc.serialize_dictionary({"sig1": sig_input}) + "\nSignature: "
        + oc.serialize_dictionary({"sig1": oc.Item(signature)}) + "\n\n")
    findings = oc.lint_request(message, keys)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("signature")] == [found]


def test_a_target_uri_variant_keeps_the_request_target_it_covers():
    """@request-target covered beside @target-uri: each variant changes @target-uri only, and
    the request target stays the one on the request line. Signed here (Ed25519 by the RFC 9421
    B.1.4 key) over the target URI with the default port, as a client that keeps ":443"."""
    # pins that the variant message keeps the request's @request-target
    sig_input = oc.InnerList([oc.Item("@target-uri"), oc.Item("@request-target")],
                             {"keyid": "k", "created": 1618884473})
    with_port = oc.Message("POST", "https://as.example:443/t", "/t", None,
                           (("host", "as.example"),))
    signature = PRIVATE.sign(oc.signature_base(with_port, sig_input).encode())
    message = oc.parse_message(
        "POST /t HTTP/1.1\nHost: as.example\nSignature-Input: "
        + oc.serialize_dictionary({"sig1": sig_input}) + "\nSignature: "
        + oc.serialize_dictionary({"sig1": oc.Item(signature)}) + "\n\n")
    findings = oc.lint_request(message, PRIVATE.public_key)
    assert [(f.rule, f.message) for f in findings if f.rule.startswith("signature")] == [
        ("signature-target-uri", "the signature verifies over @target-uri with the default "
                                 "port: https://as.example:443/t")]


def test_an_undelimited_signature_over_the_path_alone_is_found():
    """The repaired message keeps the request target: the variant over the path is tried."""
    lines = [line.replace("sig1=:", "sig1=").rstrip(":") if line.startswith("Signature:")
             else line for line in CASES["lint-signed-over-path"]["input"]["message"]]
    findings = oc.lint_request(oc.parse_message(text(lines)), PRIVATE.public_key)
    assert [f.rule for f in findings if f.severity != "note"] == [
        "signature-target-uri", "signature-encoding"]


# --- the command line ---------------------------------------------------------------------------

CASES = {case["id"]: case for case in LINT_CASES}


def _case_file(tmp_path, case_id):
    return write(tmp_path, "request.txt", text(CASES[case_id]["input"]["message"]))


def _jwks_file(tmp_path, kid="keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"):
    return write(tmp_path, "jwks.json", json.dumps(oc.jwks({kid: PRIVATE.public_key})))


def test_cli_clean_request_exits_0_with_the_notes(tmp_path, capsys):
    code, out, err = run(capsys, "lint", "--message", _case_file(tmp_path, "lint-clean-continue"),
                         "--key", _jwks_file(tmp_path), "--request-kind", "continue",
                         "--now", "1618884480")
    assert (code, err) == (0, "")
    assert [line.split(":")[0] for line in out.splitlines()] == ["note tag", "note nonce"]
    assert out.splitlines()[0].endswith("[RFC 9635 §7.3.1]")


@pytest.mark.parametrize("case", LINT_CASES, ids=[c["id"] for c in LINT_CASES])
def test_cli_prints_each_case_as_the_findings_file_says(tmp_path, capsys, case):
    """Each of the case's inputs reaches lint_request through its option."""
    inp = case["input"]
    argv = ["lint", "--message", _case_file(tmp_path, case["id"])]
    if "keys" in inp:
        keys = {kid: PUBLIC[name] for kid, name in inp["keys"].items()}
        argv += ["--key", write(tmp_path, "jwks.json", json.dumps(oc.jwks(keys)))]
    for option, name in (("--request-kind", "request_kind"), ("--now", "now"),
                         ("--expected-uri", "expected_uri")):
        argv += [option, str(inp[name])] if name in inp else []
    code, out, err = run(capsys, *argv)
    assert out.splitlines() == (GOLDEN[case["id"]] or ["no findings"]) and err == ""
    assert code == (1 if case["result"] == "invalid" else 0)


def test_cli_json_is_ascii(tmp_path, capsys):
    """--format json escapes the '§' of the sources (ensure_ascii); the findings are the same."""
    code, out, _ = run(capsys, "lint", "--message", _case_file(tmp_path, "lint-clean-continue"),
                       "--format", "json")
    assert code == 0 and out.isascii() and "\\u00a7" in out
    assert [_line(oc.LintFinding(**f)) for f in json.loads(out)] == GOLDEN["lint-clean-continue"]


def test_cli_no_findings(tmp_path, capsys):
    code, out, _ = run(capsys, "lint", "--message", _case_file(tmp_path, "lint-rfc-gnap-params"))
    assert (code, out) == (0, "no findings\n")


def test_cli_error_exits_1_and_json_has_the_same_findings(tmp_path, capsys):
    path = _case_file(tmp_path, "lint-authorization-bearer")
    code, out, err = run(capsys, "lint", "--message", path, "--request-kind", "continue",
                         "--format", "json")
    assert (code, err) == (1, "")
    found = json.loads(out)
    assert [(f["rule"], f["severity"]) for f in found] == [
        tuple(p) for p in CASES["lint-authorization-bearer"]["expected"]["findings"]]
    assert set(found[0]) == {"severity", "rule", "message", "source"}
    code, text_out, _ = run(capsys, "lint", "--message", path, "--request-kind", "continue")
    assert code == 1 and text_out.startswith("error authorization: ")
    no_secret(out + text_out, *SECRETS)  # the token and the interact_ref are never echoed


def test_cli_reads_stdin(monkeypatch, capsys):
    data = text(CASES["lint-label-sig"]["input"]["message"]).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(capsys, "lint", "--message", "-")
    assert code == 1 and out.startswith("error label: ")


@pytest.mark.parametrize("argv, said", [
    (["lint"], "the following arguments are required: --message"),
    (["lint", "--message", "x", "--request-kind", "pay"], "argument --request-kind: invalid"),
    (["lint", "--message", "x", "--format", "env"], "argument --format: invalid"),
    (["lint", "--message", "x", "--now", "soon"], "argument --now: invalid int value"),
])
def test_cli_usage_errors_exit_2(capsys, argv, said):
    with pytest.raises(SystemExit) as exc:
        oc.main(argv)
    assert exc.value.code == 2 and said in capsys.readouterr().err


def test_cli_unreadable_message_or_key_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, "lint", "--message", str(tmp_path / "none.txt"))
    assert code == 2 and "cannot read" in err
    message = _case_file(tmp_path, "lint-clean-continue")
    code, _, err = run(capsys, "lint", "--message", message, "--key",
                       write(tmp_path, "bad.json", "{"))
    assert code == 2 and "public key" in err

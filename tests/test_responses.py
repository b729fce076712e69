"""The exact contract of building requests and reading responses (found by mutation testing):
the error type, message, JSON path and HTTP status of every refusal in sections 9-11 of
op_continue.py, both sides of each boundary, and the values the response dataclasses carry."""
import json
import re
from urllib.parse import quote, quote_plus

import pytest

import op_continue as oc

SECRET = "tok-SECRET"
SERVER = "https://as.example"


def _response_error(call, *args, **kwargs):
    """(str, path, status) of the ResponseError raised, checking its type exactly."""
    with pytest.raises(oc.ResponseError) as info:
        call(*args, **kwargs)
    assert type(info.value) is oc.ResponseError
    return str(info.value), info.value.path, info.value.status


# --- ResponseError itself (section 1) ---------------------------------------------------------

def test_response_error_defaults_and_empty_path():
    error = oc.ResponseError("bad")
    assert (str(error), error.path, error.status) == ("$: bad", "$", None)
    error = oc.ResponseError("bad", path="", status=502)
    assert (str(error), error.path, error.status) == ("bad", "", 502)
    error = oc.ResponseError("bad", path="$.x", status=200)
    assert (str(error), error.path, error.status) == ("$.x: bad", "$.x", 200)


# --- HTTP status and Content-Type of an answer (RFC 9635 §3, §3.6; RFC 9110 §15) -------------

JSON = "application/json"
GOOD = b'{"continue": 1}'


@pytest.mark.parametrize("status, ctype, data, empty, result", [
    (200, JSON, GOOD, False, {"continue": 1}),
    (200, "Application/JSON; charset=utf-8; x=y", GOOD, False, {"continue": 1}),
    (200, "application/problem+json", GOOD, False, {"continue": 1}),
    (200, " application/json ;charset=utf-8", b"[1]", False, [1]),
    (200, JSON, b"", True, None),         # RFC 9635 §5.4, §6.2: DELETE answers without a body
    (202, JSON, b"", True, None),
    (204, "", b"", True, None),
    (200, JSON, GOOD, True, None),         # the body of a DELETE answer is not needed
    (204, JSON, GOOD, True, None),
])
def test_interpret_success(status, ctype, data, empty, result):
    assert oc._interpret(status, ctype, data, (SECRET,), empty) == result


@pytest.mark.parametrize("status, ctype, data, empty, expected", [
    # 3xx: never followed, whatever the body
    (300, JSON, GOOD, False, "unexpected redirect (HTTP 300); redirects are never followed"),
    (303, "text/html", b"<a>", True,
     "unexpected redirect (HTTP 303); redirects are never followed"),
    (399, JSON, b"", False, "unexpected redirect (HTTP 399); redirects are never followed"),
    # other 2xx and 1xx
    (299, JSON, GOOD, False, "unexpected HTTP status 299"),
    (201, JSON, GOOD, False, "unexpected HTTP status 201"),
    (201, JSON, b"", True, "unexpected HTTP status 201"),
    (203, JSON, b"", True, "unexpected HTTP status 203"),
    (202, JSON, GOOD, False, "unexpected HTTP status 202"),
    (199, JSON, GOOD, False, "unexpected HTTP status 199"),
    # 4xx/5xx without a GNAP error object: what the body was
    (400, JSON, b"{not json", False, "HTTP 400 without a GNAP error object (application/json)"),
    (500, "application/problem+json; charset=utf-8", b"{", False,
     "HTTP 500 without a GNAP error object (application/problem+json)"),
    (400, "text/html", b"<html>", False, "HTTP 400 without a GNAP error object (text/html)"),
    (401, JSON, b'{"foo": 1}', False, "HTTP 401 without a GNAP error object (JSON)"),
    (400, JSON, b'{"error": 5}', False, "HTTP 400 without a GNAP error object (JSON)"),
    (404, JSON, b"[]", True, "HTTP 404 without a GNAP error object (JSON)"),
    (503, "", b"", False, "HTTP 503 without a GNAP error object (unknown content)"),
    (500, "Text/Weird Type", b"x", False,
     "HTTP 500 without a GNAP error object (unknown content)"),
    (500, "text/tok-secret", b"x", False,
     "HTTP 500 without a GNAP error object (unknown content)"),  # a secret is never echoed
    # a 200 that carries an error member but no valid error object
    (200, JSON, b'{"error": {"code": "bad code!"}}', False,
     "HTTP 200 without a GNAP error object (JSON)"),
])
def test_interpret_refusals_name_the_status(status, ctype, data, empty, expected):
    assert _response_error(oc._interpret, status, ctype, data, (SECRET,), empty) == (
        expected, "", status)


@pytest.mark.parametrize("ctype, data, expected", [
    ("text/html; charset=utf-8", b"<html></html>",
     ("$: body is not JSON (Content-Type is not application/json)", "$", 200)),
    ("application/json; charset=utf-8; x=y; z", b"", ("$: empty body", "$", 200)),
    (JSON, b"{", ("$: body is not valid JSON", "$", None)),
    (JSON, b'{"a": 1, "a": 2}', ("$: body is not valid JSON: a member name occurs twice", "$",
                                 None)),
])
def test_interpret_body_refusals(ctype, data, expected):
    assert _response_error(oc._interpret, 200, ctype, data, (), False) == expected


@pytest.mark.parametrize("status, data, code, description", [
    (400, b'{"error": {"code": "invalid_request", "description": "no"}}',
     "invalid_request", "no"),
    (401, b'{"error": "invalid_client"}', "invalid_client", None),
    (200, b'{"error": {"code": "user_denied"}}', "user_denied", None),
    (400, b'{"error": {"description": "body.access_token is required"}}', "unknown",
     "body.access_token is required"),
    (403, b'{"error": {"code": "a-tok-SECRET-b", "description": "x tok-SECRET y"}}', "unknown",
     "x [secure] y"),
])
def test_interpret_gnap_errors(status, data, code, description):
    with pytest.raises(oc.GrantError) as info:
        oc._interpret(status, "application/json; charset=utf-8", data, (SECRET,), False)
    error = info.value
    assert (error.status, error.code, error.description) == (status, code, description)
    text = f"HTTP {status}: {code}" + (f": {description}" if description else "")
    assert str(error) == text


# An AS or proxy may echo what it received in another form: our secret must not get through in
# any letter case, nor percent-encoded as urllib's quote and quote_plus write it.
ECHO_SECRET = "Tok/en+x~Q"  # "/" "+" are encoded by quote_plus, "+" by quote, "~" by neither
ECHOES = [str.lower, str.upper, quote, quote_plus, lambda s: quote(s).lower(),
          lambda s: quote_plus(s).upper(), lambda s: quote(s, safe="")]
ECHO_IDS = ["lower", "upper", "quote", "quote_plus", "quote-lower", "quote_plus-upper",
            "quote-safe-none"]


@pytest.mark.parametrize("echo", ECHOES, ids=ECHO_IDS)
def test_redact_blanks_echoed_forms_of_a_secret(echo):
    assert echo(ECHO_SECRET) != ECHO_SECRET
    text = f"bad token {echo(ECHO_SECRET)}, ref {echo('ref-1')}."
    assert oc._redact(text, ["", ECHO_SECRET, "ref-1"]) == "bad token [secure], ref [secure]."


def test_redact_blanks_the_longer_of_two_overlapping_secrets_whole():
    assert oc._redact("x abcdef y", ["abc", "ABCDEF"]) == "x [secure] y"


@pytest.mark.parametrize("echo", ECHOES, ids=ECHO_IDS)
def test_interpret_blanks_echoed_forms_of_a_secret(echo):
    body = json.dumps({"error": {"code": "invalid_client",
                                 "description": f"no grant for {echo(ECHO_SECRET)}"}})
    with pytest.raises(oc.GrantError) as info:
        oc._interpret(401, JSON, body.encode(), ("ref-1", ECHO_SECRET), False)
    assert str(info.value) == "HTTP 401: invalid_client: no grant for [secure]"


@pytest.mark.parametrize("echo", [str.lower, str.upper])
def test_interpret_refuses_an_echoed_secret_as_code_or_media_type(echo):
    secret = "Ref-9x"  # what the code and media type patterns let through
    body = json.dumps({"error": {"code": f"bad-{echo(secret)}"}}).encode()
    with pytest.raises(oc.GrantError) as info:
        oc._interpret(401, JSON, body, (secret,), False)
    assert str(info.value) == "HTTP 401: unknown"
    assert _response_error(oc._interpret, 500, f"text/{echo(secret)}", b"x", (secret,), False) \
        == ("HTTP 500 without a GNAP error object (unknown content)", "", 500)


# --- parse_json: strict RFC 8259 --------------------------------------------------------------

@pytest.mark.parametrize("data, why", [
    (b"{", ""), (b"\xff", ""), (b"", ""), (b"[" * 100000, ""),
    (b'{"a":1,"a":2}', ": a member name occurs twice"),
    (b'{"x":{"a":1,"b":{},"a":2}}', ": a member name occurs twice"),
    (b"NaN", ": NaN is no JSON number"),
    (b"[1, -Infinity]", ": -Infinity is no JSON number"),
    (b'{"a": Infinity}', ": Infinity is no JSON number"),
])
def test_parse_json_refusals(data, why):
    assert _response_error(oc.parse_json, data) == (f"$: body is not valid JSON{why}", "$", None)


# --- GNAP error objects (RFC 9635 §3.6) --------------------------------------------------------

@pytest.mark.parametrize("obj, expected", [
    ({"error": "invalid_client"}, (401, "invalid_client", None)),
    ({"error": {"code": "too_fast", "description": 5}}, (401, "too_fast", None)),
    ({"error": {"code": "too_fast", "description": "slow down"}},
     (401, "too_fast", "slow down")),
    ({"error": {"description": "only text"}}, (401, "unknown", "only text")),
])
def test_grant_error_from_json(obj, expected):
    error = oc.grant_error_from_json(401, obj)
    assert type(error) is oc.GrantError
    assert (error.status, error.code, error.description) == expected


@pytest.mark.parametrize("obj", [None, [], {"x": 1}, {"error": {"description": 5}},
                                 {"error": "bad code"}, {"error": "x" * 65}])
def test_grant_error_from_json_not_an_error(obj):
    assert oc.grant_error_from_json(400, obj) is None


# --- Response members: RFC 9635 §3.1 continue, §3.2.1 access_token, §3.3 interact ------------

MANAGE = "https://as.example/token/1"
ACCESS = [{"type": "incoming-payment", "actions": ["create", "read"],
           "identifier": "https://w.example/alice"}]
TOKEN = {"value": "AT", "manage": MANAGE, "access": ACCESS}
CONT = {"access_token": {"value": "CT"}, "uri": "https://as.example/continue/1"}
INTERACT = {"redirect": "https://as.example/interact/1", "finish": "server nonce~!"}


def _token(**changes):
    obj = {**TOKEN, **changes}
    return {k: v for k, v in obj.items() if v is not ...}


@pytest.mark.parametrize("obj, path, message", [
    ("x", "$.access_token", "expected an object"),
    (_token(value=...), "$.access_token.value", "expected a non-empty printable ASCII token"),
    (_token(value=""), "$.access_token.value", "expected a non-empty printable ASCII token"),
    (_token(value="a b"), "$.access_token.value", "expected a non-empty printable ASCII token"),
    (_token(value="a\x7f"), "$.access_token.value",
     "expected a non-empty printable ASCII token"),
    (_token(manage=...), "$.access_token.manage", "expected a string"),
    (_token(manage="http://as.example/t"), "$.access_token.manage", "expected an https URL"),
    (_token(manage="https://as.example/t#f"), "$.access_token.manage", "expected an https URL"),
    (_token(access=...), "$.access_token.access", "expected an array"),
    (_token(access={}), "$.access_token.access", "expected an array"),
    (_token(access=["x"]), "$.access_token.access[0]", "expected an object"),
    (_token(expires_in="5"), "$.access_token.expires_in", "expected an integer"),
    (_token(expires_in=True), "$.access_token.expires_in", "expected an integer"),
    (_token(expires_in=-1), "$.access_token.expires_in", "expected a non-negative integer"),
])
def test_access_token_refusals(obj, path, message):
    # called without a path: "$.access_token" is the default
    assert _response_error(oc.AccessToken.from_json, obj) == (f"{path}: {message}", path, None)


@pytest.mark.parametrize("expires_in, expected", [(..., None), (None, None), (0, 0), (1, 1)])
def test_access_token_values(expires_in, expected):
    token = oc.AccessToken.from_json(_token(expires_in=expires_in, value="!a~"))
    assert (token.value, token.manage, token.expires_in) == ("!a~", MANAGE, expected)
    assert token.access == (oc.Access("incoming-payment", ("create", "read"),
                                      "https://w.example/alice", None),)


def _access(**changes):
    obj = {"type": "outgoing-payment", "actions": ["create", "read"],
           "identifier": "https://w.example/alice", **changes}
    return {k: v for k, v in obj.items() if v is not ...}


P = "$.access_token.access[1]"


@pytest.mark.parametrize("item, path, message", [
    ("x", P, "expected an object"),
    (_access(type=...), P + ".type", "expected a string"),
    (_access(type="payments"), P + ".type", "unknown access type"),
    (_access(actions="create"), P + ".actions", "expected an array"),
    (_access(actions=["read", 7]), P + ".actions[1]", "expected a string"),
    (_access(actions=["read", "complete"]), P + ".actions[1]", "unknown action"),
    (_access(identifier=5), P + ".identifier", "expected a string"),
    (_access(identifier=...), P, "outgoing-payment access needs an identifier"),
    (_access(limits=[]), P + ".limits", "expected an object"),
    (_access(limits={"receiver": 1}), P + ".limits.receiver", "expected a string"),
    (_access(limits={"interval": 1}), P + ".limits.interval", "expected a string"),
    (_access(limits={"debitAmount": 1}), P + ".limits.debitAmount", "expected an object"),
])
def test_access_item_refusals(item, path, message):
    obj = _token(access=[ACCESS[0], item])
    assert _response_error(oc.AccessToken.from_json, obj, "$.access_token", oc._Ctx()) == (
        f"{path}: {message}", path, None)


def test_access_item_values():
    limits = {"receiver": "https://w.example/bob/incoming/1",
              "interval": "R/2026-01-01T00:00:00Z/P1M",
              "debitAmount": {"value": "18446744073709551615", "assetCode": "USD",
                              "assetScale": 255}}
    access = oc.Access.from_json(_access(limits=limits), "$")
    assert access == oc.Access(
        "outgoing-payment", ("create", "read"), "https://w.example/alice",
        oc.Limits("https://w.example/bob/incoming/1",
                  oc.Amount("18446744073709551615", "USD", 255), None,
                  "R/2026-01-01T00:00:00Z/P1M"))
    assert oc.Access.from_json({"type": "quote", "actions": []}, "$") == oc.Access("quote", ())


A = "$.a.debitAmount"


@pytest.mark.parametrize("amount, path, message", [
    ({"value": "18446744073709551616", "assetCode": "USD", "assetScale": 2}, A + ".value",
     "expected an unsigned 64-bit integer string"),
    ({"value": "-1", "assetCode": "USD", "assetScale": 2}, A + ".value",
     "expected an unsigned 64-bit integer string"),
    ({"value": "1", "assetCode": "USD", "assetScale": 256}, A + ".assetScale", "expected 0..255"),
    ({"value": "1", "assetCode": "USD", "assetScale": -1}, A + ".assetScale", "expected 0..255"),
    ({"value": "1", "assetCode": "USD", "assetScale": 2.0}, A + ".assetScale",
     "expected an integer"),
    ({"value": "1", "assetScale": 0}, A + ".assetCode", "expected a string"),
])
def test_amount_refusals(amount, path, message):
    assert _response_error(oc.Limits.from_json, {"debitAmount": amount}, "$.a") == (
        f"{path}: {message}", path, None)


def _cont(**changes):
    obj = {**CONT, **changes}
    return {k: v for k, v in obj.items() if v is not ...}


@pytest.mark.parametrize("obj, path, message", [
    (7, "$.continue", "expected an object"),
    (_cont(access_token="CT"), "$.continue.access_token", "expected an object"),
    (_cont(access_token={"value": ""}), "$.continue.access_token.value",
     "expected a non-empty printable ASCII token"),
    (_cont(uri=...), "$.continue.uri", "expected a string"),
    (_cont(uri="ftp://as.example/c"), "$.continue.uri", "expected an https URL"),
    (_cont(wait="5"), "$.continue.wait", "expected an integer"),
    (_cont(wait=-1), "$.continue.wait", "expected 0..3600 seconds"),
    (_cont(wait=3601), "$.continue.wait", "expected 0..3600 seconds"),
])
def test_continue_refusals(obj, path, message):
    assert _response_error(oc.Continue.from_json, obj) == (f"{path}: {message}", path, None)


@pytest.mark.parametrize("wait", [..., None, 0, 3600])
def test_continue_values(wait):
    cont = oc.Continue.from_json(_cont(wait=wait))
    assert (cont.access_token, cont.uri) == ("CT", "https://as.example/continue/1")
    assert cont.wait is (None if wait is ... else wait)


@pytest.mark.parametrize("obj, path, message", [
    ([], "$.interact", "expected an object"),
    ({"finish": "n"}, "$.interact.redirect", "expected a string"),
    ({"redirect": "https://as.example:99999/", "finish": "n"}, "$.interact.redirect",
     "expected an https URL"),
    ({"redirect": INTERACT["redirect"]}, "$.interact.finish", "expected a string"),
    ({"redirect": INTERACT["redirect"], "finish": ""}, "$.interact.finish",
     "expected non-empty printable ASCII"),
    ({"redirect": INTERACT["redirect"], "finish": "a\nb"}, "$.interact.finish",
     "expected non-empty printable ASCII"),
    ({"redirect": INTERACT["redirect"], "finish": "a\x7f"}, "$.interact.finish",
     "expected non-empty printable ASCII"),
])
def test_interact_refusals(obj, path, message):
    assert _response_error(oc.Interact.from_json, obj) == (f"{path}: {message}", path, None)


def test_interact_values():
    assert oc.Interact.from_json({**INTERACT, "finish": " ~"}) == oc.Interact(
        INTERACT["redirect"], " ~")


# --- The grant response as a whole (RFC 9635 §3) ---------------------------------------------

@pytest.mark.parametrize("obj, path, message", [
    ("x", "$.r", "expected an object"),
    ({}, "$.r", "expected access_token, subject or continue"),
    ({"interact": INTERACT}, "$.r", "expected access_token, subject or continue"),
    ({"subject": []}, "$.r.subject", "expected an object"),
    ({"subject": {}}, "$.r.subject.sub_ids", "expected a non-empty array"),
    ({"subject": {"sub_ids": []}}, "$.r.subject.sub_ids", "expected a non-empty array"),
    ({"subject": {"sub_ids": [{"id": "a"}, 1]}}, "$.r.subject.sub_ids[1]", "expected an object"),
    ({"subject": {"sub_ids": [{"id": "a"}, {"id": 1}]}}, "$.r.subject.sub_ids[1].id",
     "expected a string"),
    ({"continue": CONT, "interact": {**INTERACT, "redirect": 1}}, "$.r.interact.redirect",
     "expected a string"),
    ({"continue": {**CONT, "wait": 1.5}}, "$.r.continue.wait", "expected an integer"),
    ({"access_token": {**TOKEN, "value": 1}}, "$.r.access_token.value",
     "expected a non-empty printable ASCII token"),
])
def test_grant_refusals_under_a_given_path(obj, path, message):
    assert _response_error(oc.Grant.from_json, obj, "$.r") == (f"{path}: {message}", path, None)


def test_grant_default_path():
    assert _response_error(oc.Grant.from_json, {}) == (
        "$: expected access_token, subject or continue", "$", None)
    assert _response_error(oc.Grant.from_json, None) == ("$: expected an object", "$", None)


def test_grant_round_trip():
    obj = {"access_token": {**TOKEN, "expires_in": 600, "extra": 1},
           "continue": {**CONT, "wait": 5},
           "interact": INTERACT, "subject": {"sub_ids": [{"id": "https://w.example/a"}]},
           "unknown": True}
    grant = oc.Grant.from_json(obj)
    assert grant.is_finalized and grant.is_pending
    assert grant.subject == ("https://w.example/a",)
    assert grant.to_json() == {
        "access_token": {"value": "AT", "manage": MANAGE, "expires_in": 600, "access": ACCESS},
        "continue": {"access_token": {"value": "CT"}, "uri": CONT["uri"], "wait": 5},
        "interact": {"redirect": INTERACT["redirect"], "finish": INTERACT["finish"]},
        "subject": {"sub_ids": [{"id": "https://w.example/a", "format": "uri"}]},
    }
    pending = oc.Grant.from_json({"continue": CONT})
    assert not pending.is_finalized and not pending.is_pending
    assert pending.to_json() == {"continue": {"access_token": {"value": "CT"},
                                              "uri": CONT["uri"]}}


# --- Signing a request (RFC 9421 §3.1, RFC 9635 §7.3.1) --------------------------------------


# --- Request bodies (RFC 9635 §2, §5.1) ------------------------------------------------------


def test_generated_nonces_pass_the_command_line(capsys, monkeypatch):
    # a CLIENT_NONCE that `grant` prints must work as `hash --client-nonce VALUE` (argparse reads
    # a value that begins with "-" as an option: base64url nonces failed one time in 64)
    monkeypatch.setenv("INTERACT_REF", "r")
    for _ in range(200):
        nonce = oc.new_nonce()
        assert oc.main(["hash", "--client-nonce", nonce, "--server-nonce", nonce,
                        "--grant-endpoint", "https://as.example/"]) == 0
    capsys.readouterr()


def test_a_leading_dash_value_is_given_with_equals(capsys, monkeypatch):
    monkeypatch.setenv("INTERACT_REF", "r")
    argv = ["hash", "--client-nonce=-c", "--server-nonce", "s",
            "--grant-endpoint", "https://as.example/"]
    assert oc.main(argv) == 0
    expected = oc.interaction_hash("-c", "s", "r", "https://as.example/")
    assert capsys.readouterr().out == expected + "\n"


# --- Interaction hash (RFC 9635 §4.2.3) -----------------------------------------------------

HASH_ARGS = ("client-nonce", "server-nonce", "ref", "https://as.example/")


# --- Interaction finish redirect (RFC 9635 §4.2.1) -------------------------------------------


AMOUNT = {"value": "500", "assetCode": "USD", "assetScale": 2}


@pytest.mark.parametrize("amount, path", [
    ({**AMOUNT, "value": 5}, "$.l.debitAmount.value"),
    ({**AMOUNT, "value": str(1 << 64)}, "$.l.debitAmount.value"),
    ({**AMOUNT, "assetCode": 1}, "$.l.debitAmount.assetCode"),
    ({**AMOUNT, "assetScale": "2"}, "$.l.debitAmount.assetScale"),
    ("500", "$.l.debitAmount"),
])
def test_limit_amount_paths(amount, path):
    with pytest.raises(oc.ResponseError) as info:
        oc.Limits.from_json({"debitAmount": amount}, "$.l")
    assert info.value.path == path


def test_limits_and_amount_values():
    top = str((1 << 64) - 1)
    limits = oc.Limits.from_json({"receiver": "https://r.example/incoming-payments/1",
                                  "interval": "R/2017-03-01T13:00:00Z/P1M",
                                  "receiveAmount": {**AMOUNT, "value": top, "assetScale": 255},
                                  "debitAmount": {**AMOUNT, "assetScale": 0}}, "$.l")
    assert limits.receiveAmount == oc.Amount(top, "USD", 255)
    assert limits.debitAmount == oc.Amount("500", "USD", 0)
    assert limits.interval == "R/2017-03-01T13:00:00Z/P1M"
    assert limits.receiver == "https://r.example/incoming-payments/1"
    for bad, path in ((5, "$.l.receiver"), (5, "$.l.interval")):
        key = path.rsplit(".", 1)[1]
        with pytest.raises(oc.ResponseError) as info:
            oc.Limits.from_json({key: bad}, "$.l")
        assert info.value.path == path


SECRET_TOKEN = "SECRET-CONT-TOKEN-9"


def exact(message):
    """A pytest.raises pattern matching ``message`` exactly."""
    return "^" + re.escape(message) + "$"


def no_secret(exc, *secrets):
    blob = f"{exc}|{exc!r}|{getattr(exc, 'args', ())!r}"
    for secret in secrets:
        assert secret not in blob


SECRET_CONT = {"access_token": {"value": SECRET_TOKEN},
               "uri": "https://as.example/continue/1"}


def test_access_actions_must_be_an_array():
    obj = {"access_token": {"value": SECRET_TOKEN, "manage": "https://as.example/token/1",
                            "access": [{"type": "quote", "actions": "create"}]}}
    with pytest.raises(oc.ResponseError,
                       match=exact("$.access_token.access[0].actions: expected an array")) as e:
        oc.Grant.from_json(obj)
    assert e.value.path == "$.access_token.access[0].actions"
    no_secret(e.value, SECRET_TOKEN)


@pytest.mark.parametrize("finish", ["", "a\nb", "caf\u00e9"])
def test_interact_finish_must_be_printable(finish):
    obj = {"continue": SECRET_CONT,
           "interact": {"redirect": "https://as.example/i", "finish": finish}}
    with pytest.raises(oc.ResponseError,
                       match=exact("$.interact.finish: expected non-empty printable ASCII")) as e:
        oc.Grant.from_json(obj)
    no_secret(e.value, SECRET_TOKEN)


@pytest.mark.parametrize("sub_ids", [[], None, {"id": "x"}])
def test_grant_subject_needs_sub_ids(sub_ids):
    with pytest.raises(oc.ResponseError,
                       match=exact("$.subject.sub_ids: expected a non-empty array")):
        oc.Grant.from_json({"subject": {"sub_ids": sub_ids}})

"""Section 10 of op_continue.py, responses (RFC 9635 §3, as the Open Payments auth-server OpenAPI
shapes it): Grant, AccessToken with its access items and limits, Continue, Interact and the GNAP
error object (§3.6); each refusal's message, JSON path and status, and the values read."""

import pytest
from conftest import described, exact, no_secret, raised

import op_continue as oc

SECRET = "tok-SECRET"


# --- ResponseError itself (section 1) ---------------------------------------------------------

def test_response_error_defaults_and_empty_path():
    error = oc.ResponseError("bad")
    assert (str(error), error.path, error.status) == ("$: bad", "$", None)
    error = oc.ResponseError("bad", path=None, status=502)
    assert (str(error), error.path, error.status) == ("bad", None, 502)
    error = oc.ResponseError("bad", path="$.x", status=200)
    assert (str(error), error.path, error.status) == ("$.x: bad", "$.x", 200)


JSON = "application/json"


# --- GNAP error objects (RFC 9635 §3.6) --------------------------------------------------------

@pytest.mark.parametrize("obj, expected", [
    ({"error": "invalid_client"}, (401, "invalid_client", None)),
    ({"error": {"code": "too_fast", "description": 5}}, (401, "too_fast", None)),
    ({"error": {"code": "too_fast", "description": "slow down"}},
     (401, "too_fast", "slow down")),
    ({"error": {"description": "only text"}}, (401, "unknown", "only text")),
])
@pytest.mark.req("RFC9635-3.6-1")
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
@pytest.mark.req("RFC9635-3.2.1-1", "RFC9635-3.2.1-2", "RFC9635-3.2.1-3", "RFC9635-3.2.1-4",
                 "RFC9635-6.1-4")
def test_access_token_refusals(obj, path, message):
    # called without a path: "$.access_token" is the default
    assert described(raised(oc.ResponseError, oc.AccessToken.from_json, obj)) == \
        (f"{path}: {message}", path, None)


@pytest.mark.parametrize("expires_in, expected", [(..., None), (None, None), (0, 0), (1, 1)])
def test_access_token_values(expires_in, expected):
    token = oc.AccessToken.from_json(_token(expires_in=expires_in, value="!a~"))
    assert (token.value, token.manage, token.expires_in) == ("!a~", MANAGE, expected)
    assert token.access == (oc.Access("incoming-payment", ("create", "read"),
                                      "https://w.example/alice", None),)


# RFC 9635 §3.2.1: flags are kept (an extension flag too); §7.2: a bearer token is not presented
@pytest.mark.req("RFC9635-3.2.1-5")
def test_flags_are_kept_and_returned_in_to_json():
    token = oc.AccessToken.from_json(_token(flags=["durable", "x-extension"]))
    assert token.flags == ("durable", "x-extension")  # an extension flag is kept, not judged
    grant = oc.Grant.from_json({"access_token": _token(flags=["durable"])})
    assert grant.to_json()["access_token"]["flags"] == ["durable"]
    assert oc.AccessToken.from_json(TOKEN).flags == ()
    assert "flags" not in oc.Grant.from_json({"access_token": TOKEN}).to_json()["access_token"]


@pytest.mark.parametrize("flags, path, message", [  # (our wording, pinned)
    (["bearer"], "$.access_token.flags[0]", "a bearer token, which this client does not present "
     "(it signs every request; RFC 9635 section 7.2 sends a bearer token unsigned, as "
     "Authorization: Bearer)"),
    (["durable", "durable"], "$.access_token.flags[1]",
     "flag repeated (RFC 9635 section 3.2.1: at most once)"),
    ("durable", "$.access_token.flags", "expected an array"),
    ([7], "$.access_token.flags[0]", "expected a string"),
], ids=["bearer", "repeated", "not-an-array", "not-a-string"])
@pytest.mark.req("RFC9635-3.2.1-5", "RFC9635-7.2-4")
def test_a_bearer_or_malformed_flag_is_refused(flags, path, message):
    with pytest.raises(oc.ResponseError) as info:
        oc.AccessToken.from_json(_token(flags=flags))
    assert info.value.path == path and str(info.value) == f"{path}: {message}"


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
@pytest.mark.req("RFC9635-3.2.1-3")
def test_access_item_refusals(item, path, message):
    obj = _token(access=[ACCESS[0], item])
    # private _Ctx: the parse context Client passes to from_json; the public default is the caller's
    error = raised(oc.ResponseError, oc.AccessToken.from_json, obj, "$.access_token", oc._Ctx())
    assert described(error) == (
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
    error = raised(oc.ResponseError, oc.Limits.from_json, {"debitAmount": amount}, "$.a")
    assert described(error) == (
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
@pytest.mark.req("RFC9635-3.1-1", "RFC9635-3.1-2", "RFC9635-3.1-3")
def test_continue_refusals(obj, path, message):
    assert described(raised(oc.ResponseError, oc.Continue.from_json, obj)) == \
        (f"{path}: {message}", path, None)


@pytest.mark.parametrize("wait", [..., None, 0, 3600])
@pytest.mark.req("RFC9635-3.1-3")
def test_continue_values(wait):
    cont = oc.Continue.from_json(_cont(wait=wait))
    assert (cont.access_token_value, cont.uri) == ("CT", "https://as.example/continue/1")
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
@pytest.mark.req("RFC9635-3.3-1")
def test_interact_refusals(obj, path, message):
    assert described(raised(oc.ResponseError, oc.Interact.from_json, obj)) == \
        (f"{path}: {message}", path, None)


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
@pytest.mark.req("RFC9635-3-2", "RFC9635-3.2.1-1")
def test_grant_refusals_under_a_given_path(obj, path, message):
    assert described(raised(oc.ResponseError, oc.Grant.from_json, obj, "$.r")) == \
        (f"{path}: {message}", path, None)


def test_grant_default_path():
    assert described(raised(oc.ResponseError, oc.Grant.from_json, {})) == (
        "$: expected access_token, subject or continue", "$", None)
    assert described(raised(oc.ResponseError, oc.Grant.from_json, None)) == \
        ("$: expected an object", "$", None)


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


# --- Limits and amounts (Open Payments limits-outgoing) ---------------------------------------

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
@pytest.mark.req("RFC9635-3.3-1")
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

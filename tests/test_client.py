"""The continuation client against the local Rafiki-like AS (tests/local_as.py) on loopback:
every operation, every row of the Rafiki table in shared/open-payments-notes.md, and the CLI."""
import json

import pytest
from conftest import KID
from local_as import LocalAS

import op_continue as oc

FINISH_URI = "https://client.example/finish"
OUTGOING = [{"type": "outgoing-payment", "actions": ["create", "read"],
             "identifier": "https://wallet.example/alice",
             "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}}]
INCOMING = [{"type": "incoming-payment", "actions": ["create", "read"]}]


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now

# key and las (the local AS with a wallet for KID) come from conftest.py


@pytest.fixture
def client(key):
    return oc.Client(key, KID, allow_http=True, timeout=5)


def start_grant(client, las, access=OUTGOING, finish=True):
    nonce = oc.new_nonce()
    body = oc.grant_request_body(client=las.wallet, access=access,
                                 finish_uri=FINISH_URI if finish else None,
                                 nonce=nonce if finish else None)
    if not finish:
        body["interact"] = {"start": ["redirect"]}
    return client.request_grant(las.grant_endpoint, body), nonce


def approve(client, las):
    grant, nonce = start_grant(client, las)
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    oc.verify_interaction_hash(finish.hash, nonce, grant.interact.finish, finish.interact_ref,
                               las.grant_endpoint)
    return grant, finish.interact_ref


def test_interactive_flow_end_to_end(client, las):
    grant, nonce = start_grant(client, las)
    assert grant.is_pending and not grant.is_finalized
    assert grant.interact.redirect.startswith(las.url + "/interact/")
    redirect = las.approve(grant.continue_.uri)
    finish = oc.parse_finish_redirect(redirect)
    assert "=" in finish.hash or "+" in finish.hash or "/" in finish.hash or len(finish.hash) == 44
    oc.verify_interaction_hash(finish.hash, nonce, grant.interact.finish, finish.interact_ref,
                               las.grant_endpoint)  # Rafiki's padded base64 is accepted
    done = client.continue_grant(grant.continue_.uri, grant.continue_.access_token,
                                 finish.interact_ref)
    assert done.is_finalized
    token = done.access_token
    assert token.access[0].type == "outgoing-payment"
    assert token.access[0].limits.debitAmount == oc.Amount("500", "USD", 2)
    assert token.manage.startswith(las.url + "/token/")
    assert token.expires_in == 600
    for entry in las.requests_log:
        assert entry["verification"]["ok"], entry["verification"]
        assert entry["verification"]["problems"] == []


def test_non_interactive_grant_is_finalized_at_once(client, las):
    grant, _ = start_grant(client, las, access=INCOMING, finish=False)
    grant = client.request_grant(las.grant_endpoint, oc.grant_request_body(
        client=las.wallet, access=INCOMING))
    assert grant.is_finalized and grant.access_token.access[0].type == "incoming-payment"


def test_hash_mismatch_refuses_to_continue(client, las):
    grant, nonce = start_grant(client, las)
    finish = oc.parse_finish_redirect(las.approve(grant.continue_.uri))
    with pytest.raises(oc.VerificationError, match="refusing"):
        oc.verify_interaction_hash(finish.hash, nonce + "x", grant.interact.finish,
                                   finish.interact_ref, las.grant_endpoint)


def test_rejected_interaction(client, las):
    grant, _ = start_grant(client, las)
    with pytest.raises(oc.GrantError) as info:
        oc.parse_finish_redirect(las.reject(grant.continue_.uri))
    assert info.value.code == "grant_rejected"


@pytest.mark.parametrize("case, status, code", [
    ("reused interact_ref", 401, "request_denied"),
    ("unknown interact_ref", 404, "invalid_continuation"),
    ("wrong continue token", 401, "invalid_continuation"),
    ("cancelled grant", 401, "invalid_continuation"),
    ("key not in the JWKS", 401, "invalid_client"),
    ("unknown keyid", 400, "invalid_client"),
    ("poll a grant with finish", 401, "request_denied"),
])
def test_rafiki_table(client, las, key, case, status, code):
    grant, ref = approve(client, las)
    uri, token = grant.continue_.uri, grant.continue_.access_token
    if case == "reused interact_ref":
        client.continue_grant(uri, token, ref)
    elif case == "unknown interact_ref":
        ref = "not-" + ref
    elif case == "wrong continue token":
        token = "WRONG" + token
    elif case == "cancelled grant":
        client.cancel(uri, token)
    elif case == "key not in the JWKS":
        client = oc.Client(oc.PrivateKey.generate(), KID, allow_http=True)
    elif case == "unknown keyid":
        client = oc.Client(key, "no-such-key", allow_http=True)
    with pytest.raises(oc.GrantError) as info:
        if case == "poll a grant with finish":
            client.poll(uri, token)
        else:
            client.continue_grant(uri, token, ref)
    assert (info.value.status, info.value.code) == (status, code)


def test_too_fast_then_continue_after_wait(key):
    clock = Clock()
    with LocalAS(wait=5, clock=clock).start() as las:
        las.wallet = las.add_wallet("alice", oc.jwks({KID: key.public_key}))
        client = oc.Client(key, KID, allow_http=True)
        grant, ref = approve(client, las)
        assert grant.continue_.wait == 5
        with pytest.raises(oc.GrantError) as info:
            client.continue_grant(grant.continue_.uri, grant.continue_.access_token, ref)
        assert (info.value.status, info.value.code) == (400, "too_fast")
        clock.now += 5  # the interact_ref was not spent by the too_fast answer
        assert client.continue_grant(grant.continue_.uri, grant.continue_.access_token,
                                     ref).is_finalized


def test_poll_pending_grant_then_finalized(client, las):
    grant, _ = start_grant(client, las, finish=False)
    pending = client.poll(grant.continue_.uri, grant.continue_.access_token)
    assert not pending.is_finalized and not pending.is_pending
    assert pending.continue_.wait == 0
    las.approve(grant.continue_.uri)
    sleeps = []
    client.sleep = sleeps.append
    done = client.poll_until_done(pending.continue_, timeout=10)
    assert done.is_finalized and sleeps == [1]  # wait 0 is floored to MIN_POLL_INTERVAL


def test_poll_until_done_returns_pending_at_deadline(client, las):
    grant, _ = start_grant(client, las, finish=False)
    now = [0.0]
    client.clock = lambda: now[0]

    def fake_sleep(seconds):
        now[0] += seconds

    client.sleep = fake_sleep
    cont = oc.Continue(grant.continue_.access_token, grant.continue_.uri, 3)
    before = len(las.requests_log)
    result = client.poll_until_done(cont, timeout=10)
    # first poll after the 3 s wait; the AS then says wait 0, floored to 1 s: t = 3, 4, ..., 10
    assert not result.is_finalized and now[0] == 10
    assert len(las.requests_log) - before == 8


def test_rejected_grant_poll_is_denied(client, las):
    grant, _ = start_grant(client, las, finish=False)
    las.reject(grant.continue_.uri)
    with pytest.raises(oc.GrantError) as info:
        client.poll(grant.continue_.uri, grant.continue_.access_token)
    assert info.value.code == "request_denied"


def test_rotate_and_revoke(client, las):
    grant, ref = approve(client, las)
    token = client.continue_grant(grant.continue_.uri, grant.continue_.access_token,
                                  ref).access_token
    new = client.rotate(token.manage, token.value)
    assert new.value != token.value and new.manage != token.manage
    with pytest.raises(oc.GrantError) as info:
        client.rotate(token.manage, token.value)
    assert (info.value.status, info.value.code) == (401, "invalid_client")
    assert client.revoke(new.manage, new.value) is None
    with pytest.raises(oc.GrantError):
        client.revoke(new.manage, new.value)


def test_gnap_auth_signs_any_request(key, las, client):
    import requests
    grant, ref = approve(client, las)
    auth = oc.GnapAuth(key, KID, grant.continue_.access_token, allow_http=True)
    assert not isinstance(auth, requests.auth.AuthBase)  # requests calls any callable auth
    # requests' own json= uses ", " separators: GnapAuth re-serializes compactly before signing
    response = requests.post(grant.continue_.uri, json={"interact_ref": ref}, auth=auth,
                             timeout=5)
    assert response.status_code == 200, response.text
    assert "access_token" in response.json()
    assert las.requests_log[-1]["body"] == oc.continue_body(ref)


# --- the command line against the local AS ------------------------------------------------

@pytest.fixture
def env(monkeypatch, keyfile, las):
    return monkeypatch


def test_cli_continue_prints_the_docs_lines(env, client, las, capsys):
    grant, ref = approve(client, las)
    env.setenv("CONTINUE_URI", grant.continue_.uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token)
    env.setenv("INTERACT_REF", ref)
    assert oc.main(["continue", "--allow-http"]) == 0
    out = capsys.readouterr().out.splitlines()
    token = json.loads(las.requests_log[-1]["response"])["access_token"]
    assert out == [f"OUTGOING_PAYMENT_ACCESS_TOKEN = {token['value']}",
                   f"OUTGOING_PAYMENT_ACCESS_TOKEN_MANAGE_URL = {token['manage']}"]
    assert oc.main(["continue", "--allow-http"]) == oc.EXIT_GRANT_ERROR  # reused ref
    err = capsys.readouterr().err
    assert "request_denied" in err and ref not in err
    assert grant.continue_.access_token not in err


def test_cli_pending_exits_3(env, client, las, capsys):
    grant, _ = start_grant(client, las, finish=False)
    env.setenv("CONTINUE_URI", grant.continue_.uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", grant.continue_.access_token)
    assert oc.main(["poll", "--allow-http"]) == oc.EXIT_PENDING
    assert capsys.readouterr().out.splitlines() == [
        f"CONTINUE_URI = {grant.continue_.uri}",
        f"CONTINUE_ACCESS_TOKEN = {grant.continue_.access_token}",
        "CONTINUE_WAIT_SECONDS = 0"]
    las.approve(grant.continue_.uri)
    assert oc.main(["poll", "--allow-http", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["access_token"]["access"][0]["type"] == \
        "outgoing-payment"
    assert oc.main(["cancel", "--allow-http"]) == 0


def test_cli_rotate_revoke(env, client, las, capsys):
    grant, ref = approve(client, las)
    token = client.continue_grant(grant.continue_.uri, grant.continue_.access_token,
                                  ref).access_token
    env.setenv("MANAGE_URL", token.manage)
    env.setenv("ACCESS_TOKEN", token.value)
    assert oc.main(["rotate", "--allow-http"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ACCESS_TOKEN = ") and lines[1].startswith("MANAGE_URL = ")
    env.setenv("ACCESS_TOKEN", lines[0].split(" = ")[1])
    env.setenv("MANAGE_URL", lines[1].split(" = ")[1])
    assert oc.main(["revoke", "--allow-http"]) == 0


def test_cli_dry_run_json_sends_nothing(env, las, capsys, key):
    uri = las.url + "/continue/abc"
    env.setenv("CONTINUE_URI", uri)
    env.setenv("CONTINUE_ACCESS_TOKEN", "TOKEN-1")
    env.setenv("INTERACT_REF", "REF-1")
    assert oc.main(["continue", "--allow-http", "--dry-run", "--json", "--created", "7"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = oc.sign_request("POST", uri, key=key, key_id=KID, access_token="TOKEN-1",
                               body=b'{"interact_ref":"REF-1"}', created=7, allow_http=True)
    assert printed == {"method": "POST", "url": uri, "headers": dict(expected.headers),
                       "body": '{"interact_ref":"REF-1"}',
                       "signature_base": expected.signature_base}
    assert las.requests_log == []
    assert oc.main(["poll", "--allow-http", "--dry-run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["body"] == ""


def test_cli_usage_and_transport_errors(env, capsys):
    env.setenv("CONTINUE_URI", "http://127.0.0.1:9/continue/x")  # discard port: refused
    env.setenv("CONTINUE_ACCESS_TOKEN", "TOKEN-1")
    env.setenv("INTERACT_REF", "REF-1")
    assert oc.main(["continue"]) == oc.EXIT_USAGE  # http without --allow-http
    assert "https" in capsys.readouterr().err
    assert oc.main(["continue", "--allow-http", "--timeout", "2"]) == oc.EXIT_TRANSPORT_ERROR
    err = capsys.readouterr().err
    assert "nothing was sent" in err and "TOKEN-1" not in err and "REF-1" not in err
    env.delenv("INTERACT_REF")
    assert oc.main(["continue", "--allow-http"]) == oc.EXIT_USAGE
    assert "INTERACT_REF is not set" in capsys.readouterr().err

"""What the requirements trace of issue 16 found, fixed (each test fails on the code before it):
(b) poll_until_done ends at an error answer (RFC 9635 §5); (c) no call to a continue URI before
the AS's wait, in the Client and across CLI processes (RFC 9635 §3.1, §5); (d) access token
flags (RFC 9635 §3.2.1, §7.2); (e) the interaction hash over ASCII (RFC 9635 §4.2.3); (f) verify
requires what the Open Payments profile signs (RFC 9635 §7.3.1, RFC 9421 §3.2)."""
import json
import time
import types

import pytest
from conftest import run, write

import op_continue as oc

KID = "trace-key"
# RFC 9635 §5.2's example: a pending answer with a new continuation token and "wait": 30
URI = "https://server.example.com/continue"
TOKEN = "80UPRY5NM33OMUKMKSKU"  # RFC 9635 §5's continuation token
PENDING = {"continue": {"access_token": {"value": "33OMUKMKSKU80UPRY5NM"},
                        "uri": "https://server.example.com/continue", "wait": 30}}
NEXT = PENDING["continue"]["access_token"]["value"]
TOO_FAST = {"error": {"code": "too_fast", "description": 'polled grant faster than "wait" period'}}
# RFC 9635 §6.1's access token, in the Open Payments shape (manage is a URL, access is required)
ACCESS = [{"type": "outgoing-payment", "actions": ["create", "read"],
           "identifier": "https://wallet.example/alice"}]
TOKEN_JSON = {"value": "OS9M2PMHKUR64TB8N6BW7OZB8CDFONP219RP1LT0",
              "manage": "https://server.example.com/token/PRY5NM33O", "access": ACCESS}


class Clock:
    """A monotonic clock that moves only when slept on (sleeps recorded)."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def answering(client, *answers):
    """``client`` answers these (status, JSON) in turn; returns the list of signed requests."""
    sent, queue = [], list(answers)

    def send(signed):
        sent.append(signed)
        status, obj = queue.pop(0)
        return status, "application/json", json.dumps(obj).encode() if obj is not None else b""

    client.send = send
    return sent


@pytest.fixture
def client(key):
    client = oc.Client(key, KID)
    client.clock = Clock()
    client.sleep = client.clock.sleep
    return client


# --- (b) RFC 9635 §5: no continuation request after an answer without a new continue --------

def test_poll_until_done_ends_at_too_fast(client):
    sent = answering(client, (400, TOO_FAST), (200, PENDING), (200, PENDING))
    cont = oc.Continue(TOKEN, URI, 5)
    with pytest.raises(oc.GrantError) as info:
        client.poll_until_done(cont, timeout=100)
    assert (info.value.status, info.value.code) == (400, "too_fast")
    assert len(sent) == 1 and client.clock.sleeps == [5]  # one poll, after the wait, no more


# --- (c) RFC 9635 §3.1, §5: the wait before calling the continue URI again --------------------

@pytest.mark.parametrize("call", ["poll", "continue_grant", "cancel"])
def test_a_client_does_not_call_a_continue_uri_before_the_wait(client, call):
    sent = answering(client, (200, PENDING), (200, PENDING), (204, None))
    client.poll(URI, TOKEN)
    calls = {"poll": lambda: client.poll(URI, NEXT),
             "continue_grant": lambda: client.continue_grant(URI, NEXT, "4IFWWIKYBC2PQ6U56NL1"),
             "cancel": lambda: client.cancel(URI, NEXT)}
    client.clock.now += 29.5
    with pytest.raises(oc.TooSoonError) as info:
        calls[call]()
    assert isinstance(info.value, oc.UsageError) and info.value.seconds == 0.5
    assert str(info.value).startswith("continue URI: the AS's wait has 1 s left; nothing was sent")
    assert NEXT not in str(info.value) and len(sent) == 1
    client.clock.now += 0.5
    calls[call]()
    assert len(sent) == 2


def test_an_omitted_wait_is_five_seconds(client):
    """RFC 9635 §3.1 (the answer of Rafiki's finalized continuation has no wait)."""
    answering(client, (200, {"continue": {"access_token": {"value": NEXT}, "uri": URI}}),
              (200, PENDING))
    client.poll(URI, TOKEN)
    with pytest.raises(oc.TooSoonError) as info:
        client.poll(URI, NEXT)
    assert info.value.seconds == oc.DEFAULT_WAIT == 5
    client.clock.now += 5
    assert client.poll(URI, NEXT).continue_.wait == 30


def test_the_wait_belongs_to_the_uri_and_its_token(client):
    """RFC 9635 §5: the AS tells grants apart by "the continuation URI and the continuation
    access token"; another grant on the same stable URI is not held back."""
    sent = answering(client, (200, PENDING), (200, PENDING))
    client.poll(URI, TOKEN)
    client.poll(URI, "another-grant-token")
    with pytest.raises(oc.TooSoonError):  # the grant the wait was given for
        client.poll(URI, NEXT)
    assert len(sent) == 2


def test_poll_until_done_sleeps_the_wait_the_client_was_given(client):
    """Given a Continue with a shorter wait than the AS's answer said, it still waits the AS's."""
    sent = answering(client, (200, PENDING),
                     (200, {"access_token": TOKEN_JSON, "continue": PENDING["continue"]}))
    client.poll(URI, TOKEN)
    grant = client.poll_until_done(oc.Continue(NEXT, URI, 1), timeout=100)
    assert grant.is_finalized and client.clock.sleeps == [30] and len(sent) == 2


@pytest.fixture
def fake_time(monkeypatch):
    """op_continue's wall clock at 1700000000.25, its sleeps recorded (time moves with them)."""
    state = types.SimpleNamespace(now=1_700_000_000.25, sleeps=[])

    def sleep(seconds):
        state.sleeps.append(seconds)
        state.now += seconds

    monkeypatch.setattr(oc, "time", types.SimpleNamespace(
        time=lambda: state.now, sleep=sleep, monotonic=time.monotonic))
    return state


@pytest.fixture
def cli_env(keyfile, monkeypatch):
    for name, value in {"CONTINUE_URI": URI, "CONTINUE_ACCESS_TOKEN": TOKEN,
                        "INTERACT_REF": "4IFWWIKYBC2PQ6U56NL1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CONTINUE_NOT_BEFORE", raising=False)


def canned(monkeypatch, fake_time, *answers):
    """Client.send answers these in turn; each request is recorded with the time it was sent."""
    sent, queue = [], list(answers)

    def send(self, signed):
        sent.append((fake_time.now, signed))
        status, obj = queue.pop(0)
        return status, "application/json", json.dumps(obj).encode() if obj is not None else b""

    monkeypatch.setattr(oc.Client, "send", send)
    return sent


@pytest.mark.parametrize("answer, not_before", [
    (PENDING, 1_700_000_001 + 30),  # now, rounded up, plus the wait
    ({"continue": {"access_token": {"value": NEXT}, "uri": URI}}, 1_700_000_001 + 5),
    ({"continue": {"access_token": {"value": NEXT}, "uri": URI, "wait": 0}}, 1_700_000_000),
])
def test_the_env_format_passes_the_wait_on(cli_env, fake_time, monkeypatch, capsys, answer,
                                          not_before):
    canned(monkeypatch, fake_time, (200, answer))
    code, out, err = run(capsys, "poll", "--format", "env")
    assert (code, err) == (oc.EXIT_PENDING, "")
    assert f"export CONTINUE_NOT_BEFORE='{not_before}'" in out.splitlines()


@pytest.mark.parametrize("command", ["continue", "poll", "cancel"])
def test_continue_poll_and_cancel_wait_until_continue_not_before(cli_env, fake_time, monkeypatch,
                                                                 capsys, command):
    monkeypatch.setenv("CONTINUE_NOT_BEFORE", "1700000030")
    sent = canned(monkeypatch, fake_time, (204, None) if command == "cancel" else (200, PENDING))
    code, _, err = run(capsys, command)
    assert code in (oc.EXIT_OK, oc.EXIT_PENDING)
    assert fake_time.sleeps == [29.75]
    assert [at for at, _ in sent] == [1_700_000_030]  # sent once, after the wait
    assert err == ("op-continue: waiting 30 s before calling the continue URI: the AS's wait, "
                   "from CONTINUE_NOT_BEFORE (RFC 9635 section 5)\n")


def test_a_past_not_before_and_a_dry_run_do_not_wait(cli_env, fake_time, monkeypatch, capsys):
    sent = canned(monkeypatch, fake_time, (200, PENDING))
    assert run(capsys, "poll", "--not-before", "1700000000")[0] == oc.EXIT_PENDING
    assert run(capsys, "poll", "--not-before", "1700000030", "--dry-run")[0] == oc.EXIT_OK
    assert fake_time.sleeps == [] and len(sent) == 1


@pytest.mark.parametrize("value, message", [
    ("soon", "--not-before: expected unix seconds (digits only)"),
    ("1700003601", "--not-before: more than 3600 s ahead; not waiting that long"),
])
def test_a_wrong_not_before_is_a_usage_error(cli_env, fake_time, monkeypatch, capsys, value,
                                            message):
    sent = canned(monkeypatch, fake_time)
    assert run(capsys, "poll", "--not-before", value) == (2, "", f"op-continue: error: {message}\n")
    assert sent == [] and fake_time.sleeps == []


# --- (d) RFC 9635 §3.2.1 access token flags; §7.2 bearer tokens --------------------------------

def test_flags_are_kept_and_returned_in_to_json():
    token = oc.AccessToken.from_json(dict(TOKEN_JSON, flags=["durable", "x-extension"]))
    assert token.flags == ("durable", "x-extension")  # an extension flag is kept, not judged
    grant = oc.Grant.from_json({"access_token": dict(TOKEN_JSON, flags=["durable"])})
    assert grant.to_json()["access_token"]["flags"] == ["durable"]
    assert oc.AccessToken.from_json(TOKEN_JSON).flags == ()
    assert "flags" not in oc.Grant.from_json({"access_token": TOKEN_JSON}).to_json()["access_token"]


@pytest.mark.parametrize("flags, path, message", [
    (["bearer"], "$.access_token.flags[0]", "a bearer token, which this client does not present"),
    (["durable", "durable"], "$.access_token.flags[1]", "flag repeated"),
    ("durable", "$.access_token.flags", "expected an array"),
    ([7], "$.access_token.flags[0]", "expected a string"),
])
def test_a_bearer_or_malformed_flag_is_refused(flags, path, message):
    with pytest.raises(oc.ResponseError) as info:
        oc.AccessToken.from_json(dict(TOKEN_JSON, flags=flags))
    assert info.value.path == path and message in str(info.value)


# --- (e) RFC 9635 §4.2.3: the ASCII encoding of the hash base ---------------------------------

HASH_ARGS = ("VJLO6A4CATR0KRO", "MBDOFXG4Y5CVJCX821LH", "4IFWWIKYB2PQ6U56NL1",
             "https://server.example.com/tx")  # RFC 9635 §4.2.3's example


@pytest.mark.parametrize("index, name", [(0, "client nonce"), (1, "server nonce"),
                                         (2, "interact_ref"), (3, "grant endpoint")])
@pytest.mark.parametrize("bad", ["R\u00e9F-1", b"REF-1"], ids=["non-ascii", "bytes"])
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


def test_the_hash_command_names_a_non_ascii_interact_ref_without_its_value(monkeypatch, capsys):
    monkeypatch.setenv("INTERACT_REF", "R\u00e9F-SECRET")
    code, out, err = run(capsys, "hash", "--client-nonce", HASH_ARGS[0], "--server-nonce",
                         HASH_ARGS[1], "--grant-endpoint", HASH_ARGS[3])
    assert (code, out) == (2, "") and err.startswith("op-continue: error: interact_ref: ")
    assert "SECRET" not in err


# --- (f) RFC 9635 §7.3.1, RFC 9421 §3.2: verify requires what Open Payments signs --------------

BODY = '{"interact_ref":"4IFWWIKYBC2PQ6U56NL1"}'
POST = (f"POST /continue HTTP/1.1\nHost: server.example.com\nAuthorization: GNAP {TOKEN}\n"
        f"Content-Type: application/json\nContent-Digest: {oc.content_digest(BODY.encode())}\n"
        f"Content-Length: {len(BODY)}\n\n{BODY}")
GET = f"GET /stuff HTTP/1.1\nHost: resource.example.com\nAuthorization: GNAP {TOKEN}\n\n"
PROFILE = ("op-continue: invalid: not signed as the Open Payments profile requires (RFC 9635 "
           "section 7.3.1): {} (--profile none: RFC 9421 alone)\n")
SDK = ("@method", "@target-uri", "authorization", "content-digest", "content-length",
       "content-type")


def signed_file(tmp_path, key, message, covered, params):
    sig_input, signature = oc.sign_message(oc.parse_message(message), key,
                                           oc.signature_params(covered, params))
    head, _, body = message.partition("\n\n")
    return write(tmp_path, "signed.txt",
                 f"{head}\nSignature-Input: {sig_input}\nSignature: {signature}\n\n{body}")


@pytest.mark.parametrize("message, covered, params, problems", [
    (POST, (), (("created", 1),), 'not covered: "@method", "@target-uri", "authorization", '
                                  '"content-digest", "content-length", "content-type"'),
    (POST, SDK[:3], (("created", 1),),
     'not covered: "content-digest", "content-length", "content-type"'),
    (POST, SDK, (("created", 1), ("tag", "not-gnap")), 'a "tag" other than "gnap"'),
    (POST, SDK, (("keyid", "k"),), 'no "created" parameter'),
    (POST, SDK, (("created", 1), ("alg", "ed25519")), 'an "alg" parameter'),
    (GET, SDK[:2], (), 'not covered: "authorization"; no "created" parameter'),
], ids=["nothing", "body-not-covered", "tag", "no-created", "alg", "get"])
def test_verify_refuses_what_the_open_payments_profile_requires(tmp_path, key, capsys, message,
                                                                 covered, params, problems):
    path = signed_file(tmp_path, key, message, covered, params)
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (
        1, "", PROFILE.format(problems))
    code, out, _ = run(capsys, "verify", "--message", path, "--key", pub, "--profile", "none")
    assert (code, out) == (0, "valid\n")  # RFC 9421 alone: valid


@pytest.mark.parametrize("message, covered, params", [
    (POST, SDK, (("created", 1), ("tag", "gnap"))),  # RFC 9635 §7.3.1's tag
    (POST, SDK, (("keyid", "k"), ("created", 1))),  # the official SDK's: no tag
    (GET, SDK[:3], (("created", 1),)),  # no body: no content components
], ids=["tag-gnap", "sdk", "get"])
def test_verify_accepts_what_the_profile_allows(tmp_path, key, capsys, message, covered, params):
    path = signed_file(tmp_path, key, message, covered, params)
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (0, "valid\n", "")
    assert run(capsys, "verify", "--message", path, "--key", pub,
               "--profile", "open-payments") == (0, "valid\n", "")  # the default, named


def test_verify_sends_a_response_to_profile_none(tmp_path, key, capsys):
    response = "HTTP/1.1 200 OK\nContent-Type: application/json\n\n{}"
    path = signed_file(tmp_path, key, response, ("@status",), (("created", 1),))
    pub = write(tmp_path, "pub.pem", key.public_key.to_pem())
    assert run(capsys, "verify", "--message", path, "--key", pub) == (
        2, "", "op-continue: error: --profile open-payments is for requests (RFC 9635 section "
               "7.3.1): verify a response with --profile none\n")
    assert run(capsys, "verify", "--message", path, "--key", pub, "--profile", "none")[:2] == (
        0, "valid\n")

"""The public API as a new user meets it: every public name documented, argument mistakes refused
when made (before any I/O) with a message naming the input and the fix, and never a secret in
that message."""
import subprocess
import sys

import pytest
from conftest import ROOT, FakeResponse, fake_transport

import op_continue as oc

KID = "api-key"
URI = "https://auth.example/continue/abc"
TOKEN = "SECRET-TOKEN-1"
REF = "SECRET-INTERACT-REF-1"


def usage(fn, *args, **kwargs):
    """The UsageError ``fn`` raises: its message; checked to carry no exception chain."""
    with pytest.raises(oc.UsageError) as info:
        fn(*args, **kwargs)
    assert info.value.__context__ is None and info.value.__cause__ is None
    return str(info.value)


# --- Client.continue_grant: a missing interact_ref is a mistake, not a poll ------------------

def test_continue_grant_without_interact_ref_refuses_before_any_io(key, monkeypatch):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    monkeypatch.setenv("INTERACT_REF", "")
    monkeypatch.delenv("INTERACT_REF")
    message = usage(client.continue_grant, URI, TOKEN, oc.os.environ.get("INTERACT_REF"))
    assert message == ("interact_ref: missing (None); continuing without one is polling: "
                       "use Client.poll")
    assert adapter.calls == []  # nothing was sent, not even a poll
    assert TOKEN not in message


# --- GnapAuth: an ordinary class, checked when made --------------------------------------------

def test_import_leaves_requests_pynacl_and_argparse_unimported_and_gnapauth_visible(tmp_path):
    """GnapAuth is defined by the import itself (no PEP 562 __getattr__), so dir() and pydoc
    list it; requests, PyNaCl and argparse are still imported only when needed."""
    code = ("import sys, pydoc, op_continue as oc\n"
            "assert 'GnapAuth' in dir(oc) and 'GnapAuth' in vars(oc)\n"
            "assert 'class GnapAuth' in pydoc.render_doc(oc, renderer=pydoc.plaintext)\n"
            "loaded = {'requests', 'nacl', 'argparse'} & {m.split('.')[0] for m in sys.modules}\n"
            "assert not loaded, loaded\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_gnapauth_given_a_key_path_says_to_load_it(tmp_path):
    path = tmp_path / "private.key"
    oc.PrivateKey.generate().write_pem(path)
    for wrong in (str(path), path, oc.PrivateKey.generate().to_pem()):
        assert usage(oc.GnapAuth, wrong, KID, TOKEN) == (
            f"key: expected a PrivateKey, not {type(wrong).__name__}; use load_private_key(path), "
            "or PrivateKey.from_pem(text)")
    assert usage(oc.Client, str(path), KID).startswith("key: expected a PrivateKey, not str; ")


@pytest.mark.parametrize("args, kwargs, message", [
    ((KID, "two words"), {},
     "access token: must be printable ASCII without spaces or control characters"),
    (("a;b", TOKEN), {}, "key id must be printable ASCII without ';', '\"' or '\\'"),
    ((KID, TOKEN), {"origin": "https://rs.example/path"},
     "allowed origin: expected scheme://host[:port] only"),
    ((KID, TOKEN), {"origin": "http://rs.example"},
     "allowed origin: must use https (plain http only with allow_http)"),
    ((KID, TOKEN), {"allow_http": "yes"}, "allow_http: expected True or False"),
])
def test_gnapauth_checks_every_argument_when_made(key, args, kwargs, message):
    assert usage(oc.GnapAuth, key, *args, **kwargs) == message


# --- verify_message takes what sign_request and Client.sign return ----------------------------

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
    assert usage(oc.verify_message, wrong, key.public_key) == (
        "message: expected a Message (parse_message, request_message) or a SignedRequest")

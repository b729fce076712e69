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

"""The public API as a new user meets it: every public name documented, argument mistakes refused
when made (before any I/O) with a message naming the input and the fix, and never a secret in
that message."""
import pytest
from conftest import FakeResponse, fake_transport

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

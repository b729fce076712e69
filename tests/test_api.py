"""The public API as a new user meets it: every public name documented, argument mistakes refused
when made (before any I/O) with a message naming the input and the fix, and never a secret in
that message."""
import inspect
import re
import subprocess
import sys

import pytest
from conftest import KID, ROOT, FakeResponse, fake_transport

import op_continue as oc

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
    monkeypatch.delenv("INTERACT_REF", raising=False)
    message = usage(client.continue_grant, URI, TOKEN, oc.os.environ.get("INTERACT_REF"))
    assert message == ("interact_ref: missing (None); continuing without one is polling: "
                       "use Client.poll")
    assert adapter.calls == []  # nothing was sent, not even a poll
    assert TOKEN not in message


# --- GnapAuth: an ordinary class, checked when made --------------------------------------------

def test_import_leaves_requests_pynacl_and_argparse_unimported_and_gnapauth_visible(tmp_path):
    """GnapAuth is defined by the import itself (no PEP 562 __getattr__), so dir() and pydoc
    list it; requests, PyNaCl and argparse are still imported only when needed."""
    code = ("import sys, op_continue as oc\n"
            "loaded = {'requests', 'nacl', 'argparse'} & {m.split('.')[0] for m in sys.modules}\n"
            "assert not loaded, loaded\n"
            "import pydoc\n"
            "assert 'GnapAuth' in dir(oc) and 'GnapAuth' in vars(oc)\n"
            "assert 'class GnapAuth' in pydoc.render_doc(oc, renderer=pydoc.plaintext)\n")
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


# --- load_private_key: key text instead of a path, a path that is not there --------------------


# --- load_private_key: a private JWK file, a byte order mark -----------------------------------


# --- the key-file permissions warning: typed, and one line on the command line -----------------


# --- tokens copied with their quotes; each operation names its inputs ---------------------------

QUOTED = "is quoted (it begins or ends with a quote mark, as copied from a .env file); give " \
         "the value without the quotes"


@pytest.mark.parametrize("quoted", [f'"{TOKEN}"', f"'{TOKEN}'", f'"{TOKEN}', f"{TOKEN}'"])
def test_a_quoted_token_is_refused_without_echoing_it(key, quoted):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    calls = [
        (lambda: client.continue_grant(URI, quoted, REF), "continue access token"),
        (lambda: client.poll(URI, quoted), "continue access token"),
        (lambda: client.cancel(URI, quoted), "continue access token"),
        (lambda: client.rotate("https://auth.example/token/1", quoted), "access token"),
        (lambda: client.revoke("https://auth.example/token/1", quoted), "access token"),
        (lambda: client.sign("POST", URI, access_token=quoted), "access token"),
        (lambda: oc.GnapAuth(key, KID, quoted), "access token"),
        (lambda: client.continue_grant(URI, TOKEN, quoted.replace(TOKEN, REF)), "interact_ref"),
        (lambda: oc.continue_body(quoted.replace(TOKEN, REF)), "interact_ref"),
    ]
    for call, what in calls:
        message = usage(call)
        assert message == f"{what}: {QUOTED}"
        assert TOKEN not in message and REF not in message
    assert adapter.calls == []


@pytest.mark.parametrize("call, message", [
    (lambda c: c.request_grant("http://auth.example/", {}),
     "grant endpoint: must use https (plain http only with allow_http)"),
    (lambda c: c.continue_grant("https://auth.example/c/../x", TOKEN, REF),
     "continue URI: must be normalized (no dot segments, valid %-escapes)"),
    (lambda c: c.poll("auth.example/continue", TOKEN),
     "continue URI: must be an absolute URL with a host"),
    (lambda c: c.cancel(URI, None), "continue access token: must be a non-empty string"),
    (lambda c: c.continue_grant(URI, None, REF),
     "continue access token: must be a non-empty string"),
    (lambda c: c.rotate("https://auth.example/token#1", TOKEN),
     "manage URL: must not contain a fragment"),
    (lambda c: c.revoke("https://auth.example/token/1", ""), "access token: must be a non-empty "
                                                             "string"),
])
def test_client_operations_name_their_inputs(key, call, message):
    client = oc.Client(key, KID)
    adapter = fake_transport(client, FakeResponse([b"{}"]))
    assert usage(call, client) == message
    assert adapter.calls == []  # refused before any I/O: no token-less request either


# --- a rejected interaction is no "HTTP 0" ------------------------------------------------------


# --- every public name documented -------------------------------------------------------------

def _own_docstring(obj):
    """``obj``'s own docstring: not inherited (inspect.getdoc would inherit one), and not the
    signature a dataclass writes for a class without one."""
    doc = vars(obj).get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if isinstance(obj, type) and doc and doc.startswith(obj.__name__ + "("):
        return None  # dataclasses.dataclass's stand-in
    return (doc or "").strip() or None


def public_api():
    """(qualified name, object): everything in __all__, and the public methods and properties
    each public class defines itself."""
    for name in oc.__all__:
        obj = getattr(oc, name)
        yield name, obj
        if not isinstance(obj, type):
            continue
        for attr, member in vars(obj).items():
            if attr.startswith("_"):
                continue
            function = member.__func__ if isinstance(member, (classmethod, staticmethod)) \
                else member.fget if isinstance(member, property) else member
            if inspect.isfunction(function):
                yield f"{name}.{attr}", function


def test_every_public_name_has_a_docstring():
    names = [name for name, _ in public_api()]
    assert {"Client.sign", "SignedRequest.header", "GnapAuth", "Message.is_request",
            "PrivateKey.generate", "verify_message"} <= set(names)
    assert all(callable(getattr(oc, name)) for name in oc.__all__)  # no constant hides in there
    missing = [name for name, obj in public_api() if _own_docstring(obj) is None]
    assert missing == []


def test_the_readme_api_table_lists_every_public_name():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    using = readme.split("## Using it\n", 1)[1].split("\n## ", 1)[0]  # it stays in "Using it"
    table = using.split("| Name | What it is |\n", 1)[1].split("\n\n", 1)[0]
    first_cells = [row.split(" | ", 1)[0] for row in table.splitlines()[1:]]
    listed = set(re.findall(r"`(\w+)", " ".join(first_cells)))
    assert listed == set(oc.__all__)

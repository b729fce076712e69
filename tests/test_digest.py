"""Section 5 of op_continue.py, the Content-Digest field (RFC 9530 §2): computing it for each
supported algorithm and checking it against a body."""

import pytest
from conftest import exact, raised

import op_continue as oc


@pytest.mark.req("RFC9530-2-3", "RFC9530-5-1")
def test_content_digest_several_algorithms():
    body = b"hello"
    sha256 = oc.b64encode(oc.hashlib.sha256(body).digest())
    sha512 = oc.b64encode(oc.hashlib.sha512(body).digest())
    assert oc.content_digest(body, ("sha-256", "sha-512")) == \
        f"sha-256=:{sha256}:, sha-512=:{sha512}:"
    assert oc.content_digest(body) == oc.content_digest(body, ["sha-512"]) == f"sha-512=:{sha512}:"


@pytest.mark.parametrize("field", ["sha-512=", "sha-512=:x", ""])
@pytest.mark.req("RFC9530-2-1", "RFC9530-2-4", "RFC9530-5-2", "RFC8941-4.2-2")
def test_verify_content_digest_malformed(field):
    if field == "":  # an empty dictionary is well-formed but has no supported member
        message = "Content-Digest: no supported algorithm (sha-256, sha-512)"
    else:
        message = "Content-Digest: malformed field"
    assert str(raised(oc.VerificationError, oc.verify_content_digest, field, b"")) == message


BODY = b'{"hello": "world"}'


@pytest.mark.req("RFC9530-5-1")
def test_content_digest_unsupported_algorithm():
    with pytest.raises(oc.UsageError,
                       match=exact("unsupported digest algorithm (use sha-256 or sha-512)")):
        oc.content_digest(BODY, ["md5"])


@pytest.mark.req("RFC9530-2-3", "RFC9530-2-4")
def test_verify_content_digest_ignores_unknown_algorithms():
    field = "md5=:AAAA:, " + oc.content_digest(BODY, ["sha-256"])
    oc.verify_content_digest(field, BODY)  # md5 skipped, sha-256 checked
    with pytest.raises(oc.VerificationError, match="sha-256 does not match the body"):
        oc.verify_content_digest(field, BODY + b" ")


@pytest.mark.req("RFC9530-2-4", "RFC9530-5-2")
def test_verify_content_digest_only_unknown_algorithms():
    with pytest.raises(oc.VerificationError,
                       match=exact("Content-Digest: no supported algorithm (sha-256, sha-512)")):
        oc.verify_content_digest("md5=:AAAA:, sha-1=:AAAA:", BODY)


@pytest.mark.parametrize("field", ["sha-256=1", "sha-256=(:AAAA:)", 'sha-256="x"'])
@pytest.mark.req("RFC9530-2-2")
def test_verify_content_digest_member_not_a_byte_sequence(field):
    with pytest.raises(oc.VerificationError,
                       match=exact("Content-Digest: sha-256 is not a byte sequence")):
        oc.verify_content_digest(field, BODY)

# SPDX-License-Identifier: Apache-2.0
#
# Copyright 2026 The op_continue authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may not use
# this file except in compliance with the License. You may obtain a copy of the
# License at http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software distributed
# under the License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR
# CONDITIONS OF ANY KIND, either express or implied. See the License for the
# specific language governing permissions and limitations under the License.
"""Open Payments grant continuation client (GNAP RFC 9635 §5) in one file.

Implements RFC 9421 (HTTP Message Signatures, Ed25519), RFC 9530 (Content-Digest) and the
parts of RFC 8941 (Structured Field Values) those need, by hand.
Deps: requests, PyNaCl. Python >= 3.8. Read top to bottom: sections follow the protocol.
Vendoring: copy this file unchanged and keep this header; record __version__ and its sha256.
"""

# Theory of operation
# -------------------
# A signed request is built in five steps, each a section below:
#   body  -> Content-Digest (RFC 9530 §2)
#   message + covered components -> one line per component (RFC 9421 §2.1, §2.2)
#   lines + "@signature-params" -> the signature base (RFC 9421 §2.5)
#   base -> Ed25519 signature (RFC 9421 §3.3.6)
#   signature + parameters -> Signature-Input and Signature fields (RFC 9421 §4.1, §4.2)
# Verification runs the same steps over a received message and compares. Every failure raises
# one of the exception classes of section 1; nothing is retried, nothing is logged.

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import stat
import time
import warnings
from dataclasses import dataclass, field
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import nacl.exceptions
import nacl.signing

__version__ = "0.1.0+dev"
__all__ = [
    # errors (section 1)
    "Error", "UsageError", "SignatureBaseError", "VerificationError",
    "TransportError", "ResponseError", "GrantError",
    # structured fields (section 3)
    "Token", "Item", "InnerList", "parse_item", "parse_list", "parse_dictionary",
    "serialize_item", "serialize_list", "serialize_dictionary",
    # keys (section 4)
    "PrivateKey", "PublicKey", "load_private_key", "load_public_key", "jwks",
    # digest (section 5)
    "content_digest", "verify_content_digest",
    # messages, components, base (sections 6, 7)
    "Message", "parse_message", "signature_base", "component_line",
    # signing (section 8)
    "signature_params", "sign_message", "verify_message", "VerifiedSignature",
    "sign_ed25519", "verify_ed25519",
]


# =============================================================================
# 1. Errors
# =============================================================================
# Five public classes, split as h11 splits local and remote faults. Messages name the field and
# the problem, never the value: a token, key or interact_ref never reaches str(), repr() or args.


class Error(Exception):
    """Base class of every error this module raises."""


class UsageError(Error, ValueError):
    """The caller's input is wrong (bad key, bad URI, CR/LF in a value...), found before any I/O."""


class SignatureBaseError(UsageError):
    """A signature base cannot be built: one of the failures listed in RFC 9421 §2.5."""


class VerificationError(Error):
    """A signature (or its covered Content-Digest) does not verify.  Spec: RFC 9421 §3.2."""


class TransportError(Error):
    """The request could not be completed (timeout, refused, reset).

    ``request_sent`` is True when the request may have reached the server: an ``interact_ref``
    sent with it may then be spent, so it must not be sent again.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ResponseError(Error, ValueError):
    """The server's answer is not what the protocol allows; ``path`` names the JSON member."""

    def __init__(self, message: str, *, path: str = "$", status: Optional[int] = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.status = status


class GrantError(Error):
    """The AS answered with a GNAP error object.  Spec: RFC 9635 §3.6."""

    def __init__(self, status: int, code: str, description: Optional[str] = None) -> None:
        text = f"HTTP {status}: {code}"
        if description:
            text += f": {description}"
        super().__init__(text)
        self.status = status
        self.code = code
        self.description = description


# =============================================================================
# 2. Constants
# =============================================================================
# Names from the IANA registries and the Open Payments profile, so an auditor can grep them.

ALG_ED25519 = "ed25519"  # RFC 9421 §6.2.2 "HTTP Signature Algorithms" registry
DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}  # RFC 9530 §5
# RFC 9421 §2.3: the signature parameters, in registry order (used only to check names).
SIGNATURE_PARAMS = ("created", "expires", "nonce", "alg", "keyid", "tag")
# Fields whose structured type RFC 9421 and RFC 9530 define (RFC 9421 §4.1, §4.2; RFC 9530 §2,
# §3, §4); ``;sf`` and ``;key`` on any other field need the caller to name its type.
KNOWN_FIELD_TYPES = {
    "signature-input": "dictionary",
    "signature": "dictionary",
    "accept-signature": "dictionary",
    "content-digest": "dictionary",
    "repr-digest": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
}
DEFAULT_PORTS = {"http": 80, "https": 443}

# Exit codes of the command line (section 12): kept here, not os.EX_*, which is Unix-only.
EXIT_OK = 0
EXIT_INVALID = 1  # "verify": the signature does not verify
EXIT_USAGE = 2
EXIT_PENDING = 3
EXIT_GRANT_ERROR = 4
EXIT_RESPONSE_ERROR = 5
EXIT_TRANSPORT_ERROR = 6


# =============================================================================
# 3. Encoding and Structured Fields: RFC 8941 §3 "Structured Data Types", §4 "Working With..."
# =============================================================================
# RFC 9421 reads and writes its fields as Structured Fields. Bare items map to Python types:
# Integer -> int, Decimal -> float, String -> str, Token -> Token, Byte Sequence -> bytes,
# Boolean -> bool. Parameters are an insertion-ordered dict.


class Token(str):
    """An RFC 8941 §3.3.4 Token: serialized without quotes."""

    __slots__ = ()


BareItem = Union[int, float, str, bytes, bool]
Params = Dict[str, BareItem]


@dataclass(frozen=True)
class Item:
    """RFC 8941 §3.3 Item: a bare item with parameters."""

    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    """RFC 8941 §3.1.1 Inner List: items with parameters of its own."""

    items: Tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Union[Item, InnerList]

_TOKEN_RE = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*\Z")
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*\Z")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4), as Byte Sequences use."""
    return base64.b64encode(data).decode("ascii")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as JWK and RFC 9635 §4.2.3 use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Decode unpadded base64url strictly; raise UsageError naming ``what``."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise UsageError(f"{what}: expected unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- RFC 8941 §4.1 Serializing Structured Fields -------------------------------------------


def serialize_bare_item(value: BareItem) -> str:
    """Spec: RFC 8941 §4.1.3.1 "Serializing a Bare Item"."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "?1" if value else "?0"  # §4.1.9
    if isinstance(value, int):  # §4.1.4
        if not -999_999_999_999_999 <= value <= 999_999_999_999_999:
            raise UsageError("structured field: integer out of range")
        return str(value)
    if isinstance(value, float):  # §4.1.5
        rounded = round(value, 3)
        if abs(rounded) >= 1e12:
            raise UsageError("structured field: decimal out of range")
        text = f"{rounded:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, Token):  # §4.1.7
        if not _TOKEN_RE.match(value):
            raise UsageError("structured field: invalid token")
        return str(value)
    if isinstance(value, str):  # §4.1.6
        if any(not " " <= ch <= "~" for ch in value):
            raise UsageError("structured field: string has a character outside printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):  # §4.1.8
        return ":" + b64encode(value) + ":"
    raise UsageError(f"structured field: cannot serialize {type(value).__name__}")


def serialize_params(params: Params) -> str:
    """Spec: RFC 8941 §4.1.1.2 "Serializing Parameters"."""
    out = []
    for key, value in params.items():
        _check_key(key)
        out.append(";" + key if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


def _check_key(key: str) -> None:
    """RFC 8941 §4.1.1.3: a key is lcalpha or "*", then lcalpha / DIGIT / "_" / "-" / "." / "*"."""
    if not _KEY_RE.match(key):
        raise UsageError("structured field: invalid key")


def serialize_item(item: Item) -> str:
    """Spec: RFC 8941 §4.1.3 "Serializing an Item"."""
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_member(member: Member) -> str:
    """An Item, or an Inner List per RFC 8941 §4.1.1.1 "Serializing an Inner List"."""
    if isinstance(member, InnerList):
        inner = " ".join(serialize_item(item) for item in member.items)
        return f"({inner})" + serialize_params(member.params)
    return serialize_item(member)


def serialize_list(members: Sequence[Member]) -> str:
    """Spec: RFC 8941 §4.1.1 "Serializing a List"."""
    return ", ".join(serialize_member(member) for member in members)


def serialize_dictionary(members: Mapping[str, Member]) -> str:
    """Spec: RFC 8941 §4.1.2 "Serializing a Dictionary"."""
    out = []
    for key, member in members.items():
        _check_key(key)
        if isinstance(member, Item) and member.value is True:
            out.append(key + serialize_params(member.params))
        else:
            out.append(f"{key}={serialize_member(member)}")
    return ", ".join(out)


# --- RFC 8941 §4.2 Parsing Structured Fields ------------------------------------------------


class _SFParser:
    """A cursor over one field value; each method is one algorithm of RFC 8941 §4.2."""

    def __init__(self, text: str) -> None:
        if any(not " " <= ch <= "~" for ch in text):
            raise UsageError("structured field: value has a character outside printable ASCII")
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> UsageError:
        return UsageError(f"structured field: {what} at offset {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.pos += 1

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def top_level(self, parse: str) -> Any:
        """RFC 8941 §4.2: discard leading and trailing SP, parse, and fail on leftovers."""
        self.skip_sp()
        if parse == "list":
            value: Any = self.list_()
        elif parse == "dictionary":
            value = self.dictionary()
        else:
            value = self.item()
        self.skip_sp()
        if self.pos != len(self.text):
            raise self.fail("unexpected character")
        return value

    def list_(self) -> List[Member]:  # §4.2.1
        members: List[Member] = []
        while self.pos < len(self.text):
            members.append(self.item_or_inner_list())
            self.skip_ows()
            if self.pos == len(self.text):
                return members
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.pos += 1
            self.skip_ows()
            if self.pos == len(self.text):
                raise self.fail("trailing ','")
        return members

    def dictionary(self) -> Dict[str, Member]:  # §4.2.2
        members: Dict[str, Member] = {}
        while self.pos < len(self.text):
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                member = self.item_or_inner_list()
            else:
                member = Item(True, self.params())
            members[key] = member
            self.skip_ows()
            if self.pos == len(self.text):
                return members
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.pos += 1
            self.skip_ows()
            if self.pos == len(self.text):
                raise self.fail("trailing ','")
        return members

    def item_or_inner_list(self) -> Member:  # §4.2.1.1
        return self.inner_list() if self.peek() == "(" else self.item()

    def inner_list(self) -> InnerList:  # §4.2.1.2
        self.pos += 1  # "("
        items: List[Item] = []
        while self.pos < len(self.text):
            self.skip_sp()
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.params())
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")
        raise self.fail("unterminated inner list")

    def item(self) -> Item:  # §4.2.3
        value = self.bare_item()
        return Item(value, self.params())

    def bare_item(self) -> BareItem:  # §4.2.3.1
        ch = self.peek()
        if ch == "-" or ch.isdigit():
            return self.number()
        if ch == '"':
            return self.string()
        if ch == "*" or (ch.isalpha() and ch.isascii()):
            return self.token()
        if ch == ":":
            return self.byte_sequence()
        if ch == "?":
            return self.boolean()
        raise self.fail("expected a bare item")

    def params(self) -> Params:  # §4.2.3.2
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip_sp()
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:  # §4.2.3.3
        match = re.compile(r"[a-z*][a-z0-9_\-.*]*").match(self.text, self.pos)
        if not match:
            raise self.fail("expected a key")
        self.pos = match.end()
        return match.group()

    def number(self) -> Union[int, float]:  # §4.2.4
        match = re.compile(r"-?[0-9]+(\.[0-9]*)?").match(self.text, self.pos)
        if not match:
            raise self.fail("expected a digit")
        text = match.group()
        integer, _, fraction = text.lstrip("-").partition(".")
        if match.group(1) is None:
            if len(integer) > 15:
                raise self.fail("integer too long")
            self.pos = match.end()
            return int(text)
        if len(integer) > 12 or not 1 <= len(fraction) <= 3:
            raise self.fail("malformed decimal")
        self.pos = match.end()
        return float(text)

    def string(self) -> str:  # §4.2.5
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            self.pos += 1
            if ch == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\") or not nxt:
                    raise self.fail("bad escape in string")
                out.append(nxt)
                self.pos += 1
            elif ch == '"':
                return "".join(out)
            else:
                out.append(ch)
        raise self.fail("unterminated string")

    def token(self) -> Token:  # §4.2.6
        match = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*").match(self.text, self.pos)
        assert match  # bare_item checked the first character
        self.pos = match.end()
        return Token(match.group())

    def byte_sequence(self) -> bytes:  # §4.2.7
        end = self.text.find(":", self.pos + 1)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        body = self.text[self.pos + 1 : end]
        if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", body):
            raise self.fail("byte sequence is not base64")
        try:
            # "parsers SHOULD NOT fail when '=' padding is not present" -- RFC 8941 §4.2.7
            stripped = body.rstrip("=")
            value = base64.b64decode(stripped + "=" * (-len(stripped) % 4), validate=True)
        except binascii.Error:
            raise self.fail("byte sequence is not base64") from None
        self.pos = end + 1
        return value

    def boolean(self) -> bool:  # §4.2.8
        value = self.text[self.pos + 1 : self.pos + 2]
        if value not in ("0", "1"):
            raise self.fail("expected ?0 or ?1")
        self.pos += 2
        return value == "1"


def parse_item(text: str) -> Item:
    """Parse a field value as an Item.  Spec: RFC 8941 §4.2."""
    result: Item = _SFParser(text).top_level("item")
    return result


def parse_list(text: str) -> List[Member]:
    """Parse a field value as a List.  Spec: RFC 8941 §4.2."""
    result: List[Member] = _SFParser(text).top_level("list")
    return result


def parse_dictionary(text: str) -> Dict[str, Member]:
    """Parse a field value as a Dictionary.  Spec: RFC 8941 §4.2."""
    result: Dict[str, Member] = _SFParser(text).top_level("dictionary")
    return result


def _parse_structured(text: str, sf_type: str) -> Any:
    if sf_type not in ("item", "list", "dictionary"):
        raise UsageError("structured field type must be item, list or dictionary")
    return _SFParser(text).top_level(sf_type)


def _serialize_structured(value: Any, sf_type: str) -> str:
    if sf_type == "dictionary":
        return serialize_dictionary(value)
    if sf_type == "list":
        return serialize_list(value)
    return serialize_item(value)


# =============================================================================
# 4. Keys: Ed25519 (RFC 8032) in PKCS#8 / SPKI (RFC 8410) and JWK (RFC 8037)
# =============================================================================
# The Open Payments test wallet hands out a PKCS#8 PEM private key (some wallets show the PEM
# base64-encoded once more); the wallet address serves the public key as a JWK in jwks.json.
# A tiny DER reader is enough: RFC 8410 §7 fixes the layout, and anything else is refused by
# name. Key bytes never appear in an error message or repr.

# RFC 8410 §3: id-Ed25519 OBJECT IDENTIFIER ::= { 1 3 101 112 }, and the OIDs of keys that
# people commonly hand us by mistake, so the error can name them.
_OID_ED25519 = bytes.fromhex("2b6570")
_OID_NAMES = {
    bytes.fromhex("2a864886f70d010101"): "RSA",
    bytes.fromhex("2a864886f70d01010a"): "RSA-PSS",
    bytes.fromhex("2a8648ce3d0201"): "EC (ECDSA)",
    bytes.fromhex("2b656e"): "X25519",
    bytes.fromhex("2b656f"): "X448",
    bytes.fromhex("2b6571"): "Ed448",
}
_PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]*?)\s*-----END \1-----", re.DOTALL
)
_PEM_LABEL_PROBLEMS = {
    "ENCRYPTED PRIVATE KEY": "encrypted PEM private keys are not supported; decrypt it first",
    "RSA PRIVATE KEY": "the PEM holds an RSA key, expected Ed25519",
    "EC PRIVATE KEY": "the PEM holds an EC key, expected Ed25519",
    "OPENSSH PRIVATE KEY": "the PEM is in OpenSSH format; convert it to PKCS#8 first",
    "CERTIFICATE": "the PEM holds a certificate, expected a key",
}


def _der_next(data: bytes, pos: int, what: str) -> Tuple[int, bytes, int]:
    """Read one DER TLV at ``pos``: (tag, contents, position after it).  Spec: X.690 §8.1."""
    try:
        tag = data[pos]
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 2:
                raise UsageError(f"{what}: unsupported DER length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
    except IndexError:
        raise UsageError(f"{what}: truncated DER") from None
    if pos + length > len(data):
        raise UsageError(f"{what}: truncated DER")
    return tag, data[pos : pos + length], pos + length


def _der_algorithm(data: bytes, pos: int, what: str) -> Tuple[bytes, int]:
    """Read an AlgorithmIdentifier SEQUENCE and return (OID bytes, next position)."""
    tag, alg, pos = _der_next(data, pos, what)
    if tag != 0x30:
        raise UsageError(f"{what}: malformed AlgorithmIdentifier")
    tag, oid, _ = _der_next(alg, 0, what)
    if tag != 0x06:
        raise UsageError(f"{what}: malformed AlgorithmIdentifier")
    if oid != _OID_ED25519:
        name = _OID_NAMES.get(oid, "an unknown algorithm")
        raise UsageError(f"{what}: the key is {name}, expected Ed25519")
    if alg != b"\x06\x03" + _OID_ED25519:  # RFC 8410 §3: "the parameters MUST be absent"
        raise UsageError(f"{what}: Ed25519 AlgorithmIdentifier must have no parameters")
    return oid, pos


def _pem_body(text: Union[str, bytes], expected_label: str, what: str) -> bytes:
    """Return the DER inside a PEM block (RFC 7468), also accepting base64 of the PEM text."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise UsageError(f"{what}: not a PEM text (non-ASCII bytes)") from None
    if "-----BEGIN" not in text:
        # Some wallets display the PEM text base64-encoded once more.
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise UsageError(f"{what}: not a PEM text or base64 of one") from None
        if "-----BEGIN" not in decoded:
            raise UsageError(f"{what}: not a PEM text or base64 of one")
        text = decoded
    match = _PEM_RE.search(text)
    if not match:
        raise UsageError(f"{what}: malformed PEM (missing or mismatched BEGIN/END lines)")
    label = match.group(1)
    if label != expected_label:
        problem = _PEM_LABEL_PROBLEMS.get(label)
        if problem is None:
            problem = f"expected a '{expected_label}' PEM block, found '{label}'"
        raise UsageError(f"{what}: {problem}")
    try:
        return base64.b64decode("".join(match.group(2).split()), validate=True)
    except binascii.Error:
        raise UsageError(f"{what}: PEM body is not valid base64") from None


class PublicKey:
    """An Ed25519 public key (32 bytes).  Spec: RFC 8032 §5.1.5."""

    __slots__ = ("_verify_key", "raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise UsageError("Ed25519 public key must be 32 bytes")
        self.raw = raw
        self._verify_key = nacl.signing.VerifyKey(raw)

    @classmethod
    def from_pem(cls, text: Union[str, bytes]) -> PublicKey:
        """SubjectPublicKeyInfo PEM.  Spec: RFC 8410 §4."""
        what = "public key"
        der = _pem_body(text, "PUBLIC KEY", what)
        tag, spki, end = _der_next(der, 0, what)
        if tag != 0x30 or end != len(der):
            raise UsageError(f"{what}: malformed SubjectPublicKeyInfo")
        _, pos = _der_algorithm(spki, 0, what)
        tag, bits, pos = _der_next(spki, pos, what)
        if tag != 0x03 or pos != len(spki) or len(bits) != 33 or bits[0] != 0:
            raise UsageError(f"{what}: malformed Ed25519 public key")
        return cls(bits[1:])

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """An OKP JWK with crv Ed25519.  Spec: RFC 8037 §2."""
        if not isinstance(jwk, Mapping):
            raise UsageError("JWK: expected a JSON object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise UsageError("JWK: expected kty OKP and crv Ed25519")
        if "alg" in jwk and jwk["alg"] not in ("EdDSA", "Ed25519"):
            raise UsageError("JWK: alg must be EdDSA")
        raw = b64url_decode(jwk.get("x"), "JWK x")  # type: ignore[arg-type]
        if len(raw) != 32:
            raise UsageError("JWK x: expected 32 bytes")
        return cls(raw)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise VerificationError unless ``signature`` is valid.  Spec: RFC 8032 §5.1.7."""
        if len(signature) != 64:
            raise VerificationError("Ed25519 signature must be 64 bytes")
        try:
            self._verify_key.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            raise VerificationError("signature does not verify") from None

    def jwk(self, kid: str) -> Dict[str, str]:
        """The public JWK, members in the order the official Open Payments SDK writes them."""
        _check_key_id(kid)
        return {"alg": "EdDSA", "kid": kid, "kty": "OKP", "crv": "Ed25519",
                "x": b64url_encode(self.raw)}

    def to_pem(self) -> str:
        der = bytes.fromhex("302a300506032b6570032100") + self.raw
        return _pem_encode("PUBLIC KEY", der)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"PublicKey(x={b64url_encode(self.raw)!r})"


class PrivateKey:
    """An Ed25519 private key.  Its seed never appears in repr() or any error."""

    __slots__ = ("_signing_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise UsageError("Ed25519 private key seed must be 32 bytes")
        self._signing_key = nacl.signing.SigningKey(seed)
        self.public_key = PublicKey(bytes(self._signing_key.verify_key))

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(os.urandom(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """The raw 32-byte seed (RFC 8032 §5.1.5 "private key")."""
        return cls(seed)

    @classmethod
    def from_pem(cls, text: Union[str, bytes]) -> PrivateKey:
        """PKCS#8 PEM (or base64 of it).  Spec: RFC 8410 §7, RFC 5958 §2."""
        what = "private key"
        der = _pem_body(text, "PRIVATE KEY", what)
        tag, info, end = _der_next(der, 0, what)
        if tag != 0x30 or end != len(der):
            raise UsageError(f"{what}: malformed PKCS#8")
        tag, version, pos = _der_next(info, 0, what)
        if tag != 0x02 or version not in (b"\x00", b"\x01"):  # v1, or v2 (RFC 5958 §2)
            raise UsageError(f"{what}: unsupported PKCS#8 version")
        _, pos = _der_algorithm(info, pos, what)
        tag, wrapped, pos = _der_next(info, pos, what)
        if tag != 0x04:
            raise UsageError(f"{what}: malformed PKCS#8 privateKey")
        tag, seed, inner_end = _der_next(wrapped, 0, what)  # RFC 8410 §7: CurvePrivateKey
        if tag != 0x04 or inner_end != len(wrapped) or len(seed) != 32:
            raise UsageError(f"{what}: malformed Ed25519 private key")
        key = cls(seed)
        while pos < len(info):  # [0] attributes, [1] publicKey (v2)
            tag, value, pos = _der_next(info, pos, what)
            if tag == 0x81 and value[1:] != key.public_key.raw:
                raise UsageError(f"{what}: embedded public key does not match the private key")
            if tag not in (0xA0, 0x81):
                raise UsageError(f"{what}: malformed PKCS#8")
        return key

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PrivateKey:
        """An OKP JWK with ``d``.  Spec: RFC 8037 §2."""
        public = PublicKey.from_jwk(jwk)
        seed = b64url_decode(jwk.get("d"), "JWK d")  # type: ignore[arg-type]
        if len(seed) != 32:
            raise UsageError("JWK d: expected 32 bytes")
        key = cls(seed)
        if key.public_key != public:
            raise UsageError("JWK: x does not match d")
        return key

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature.  Spec: RFC 8032 §5.1.6."""
        return self._signing_key.sign(message).signature

    def to_pem(self) -> str:
        """PKCS#8 v1, the layout the official SDK and OpenSSL write.  Spec: RFC 8410 §7."""
        der = bytes.fromhex("302e020100300506032b657004220420") + bytes(self._signing_key)
        return _pem_encode("PRIVATE KEY", der)

    def write_pem(self, path: Union[str, os.PathLike]) -> None:  # type: ignore[type-arg]
        """Create ``path`` (never overwrite) with mode 0600 and write the PKCS#8 PEM."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UsageError("key file already exists; refusing to overwrite it") from None
        except OSError as exc:
            raise UsageError(f"cannot create key file: {exc.strerror}") from None
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(self.to_pem())

    def __repr__(self) -> str:
        return f"PrivateKey(<secret>, public_key={self.public_key!r})"


def _pem_encode(label: str, der: bytes) -> str:
    body = b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _read_key_file(path: Union[str, os.PathLike], what: str) -> bytes:  # type: ignore[type-arg]
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 16)
    except FileNotFoundError:
        raise UsageError(f"{what}: file not found") from None
    except OSError as exc:
        raise UsageError(f"{what}: cannot read file: {exc.strerror}") from None
    return data


def load_private_key(path: Union[str, os.PathLike]) -> PrivateKey:  # type: ignore[type-arg]
    """Read a PKCS#8 PEM (or base64-of-PEM) private key file; warn if others may read it."""
    data = _read_key_file(path, "private key")
    try:
        mode = os.stat(path).st_mode
    except OSError:  # pragma: no cover - the file was just read
        mode = 0
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn("private key file is readable by other users; chmod 600 it",
                      UserWarning, stacklevel=2)
    return PrivateKey.from_pem(data)


def load_public_key(data: Union[str, bytes]) -> Dict[Optional[str], PublicKey]:
    """Public keys from an SPKI PEM, a JWK, a JWKS, or a private key PEM: {kid or None: key}."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            raise UsageError("public key: invalid JSON") from None
        jwk_list = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
        if not isinstance(jwk_list, list) or not jwk_list:
            raise UsageError("public key: JWKS 'keys' must be a non-empty array")
        keys: Dict[Optional[str], PublicKey] = {}
        for jwk in jwk_list:
            kid = jwk.get("kid") if isinstance(jwk, dict) else None
            keys[kid if isinstance(kid, str) else None] = PublicKey.from_jwk(jwk)
        return keys
    if "PRIVATE KEY-----" in text:
        return {None: PrivateKey.from_pem(text).public_key}
    return {None: PublicKey.from_pem(text)}


def jwks(keys: Mapping[str, PublicKey]) -> Dict[str, List[Dict[str, str]]]:
    """The JWKS document a wallet address serves at /jwks.json: {"keys": [jwk, ...]}."""
    return {"keys": [key.jwk(kid) for kid, key in keys.items()]}


def _check_key_id(kid: str) -> None:
    # DEVIATION (interop with the official verifier): RFC 9421 allows any sf-string as keyid,
    # but @interledger/http-signature-utils finds keyid by splitting Signature-Input on ";".
    if not isinstance(kid, str) or not kid:
        raise UsageError("key id must be a non-empty string")
    if any(not "\x20" <= ch <= "\x7e" for ch in kid) or ";" in kid or '"' in kid or "\\" in kid:
        raise UsageError("key id must be printable ASCII without ';', '\"' or '\\'")


# =============================================================================
# 5. Content digest: RFC 9530 §2 "The Content-Digest Field"
# =============================================================================
# The digest is taken over the exact content bytes sent; the signature then covers the
# Content-Digest field, and so the body.


def content_digest(body: bytes, algorithms: Sequence[str] = ("sha-512",)) -> str:
    """The Content-Digest field value, e.g. ``sha-512=:...:``.  Spec: RFC 9530 §2."""
    members = []
    for algorithm in algorithms:
        hash_fn = DIGEST_ALGORITHMS.get(algorithm)
        if hash_fn is None:
            raise UsageError("unsupported digest algorithm (use sha-256 or sha-512)")
        members.append(f"{algorithm}=:{b64encode(hash_fn(body).digest())}:")
    return ", ".join(members)


def verify_content_digest(field_value: str, body: bytes) -> None:
    """Raise VerificationError unless every supported digest in ``field_value`` matches.

    Spec: RFC 9530 §2; members with algorithms this module does not implement are ignored
    (RFC 9530 §5, "insecure" ones included), but at least one must be sha-256 or sha-512.
    """
    try:
        members = parse_dictionary(field_value)
    except UsageError:
        raise VerificationError("Content-Digest: malformed field") from None
    checked = 0
    for algorithm, member in members.items():
        hash_fn = DIGEST_ALGORITHMS.get(algorithm)
        if hash_fn is None:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise VerificationError(f"Content-Digest: {algorithm} is not a byte sequence")
        if not hmac.compare_digest(member.value, hash_fn(body).digest()):
            raise VerificationError(f"Content-Digest: {algorithm} does not match the body")
        checked += 1
    if not checked:
        raise VerificationError("Content-Digest: no supported algorithm (sha-256, sha-512)")


# =============================================================================
# 6. Messages and components: RFC 9421 §2 "HTTP Message Components"
# =============================================================================
# A Message holds what RFC 9421 can cover: the request's method and target URI, or the
# response's status, the header fields in order, and the content bytes. Each covered component
# becomes one value: §2.1 for HTTP fields, one function per derived component for §2.2.

# RFC 3986 Appendix B: the regular expression for splitting a URI reference.
_URI_RE = re.compile(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?")
_FIELD_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 §5.1: token


@dataclass(frozen=True)
class Message:
    """An HTTP request (``method`` set) or response (``status`` set), as RFC 9421 §1.1 sees it.

    ``fields`` are (lower-case name, value) pairs in message order, obs-fold already replaced
    by one space (RFC 9112 §5.2); ``body`` is the exact content bytes.
    """

    method: Optional[str] = None
    target_uri: Optional[str] = None
    request_target: Optional[str] = None
    status: Optional[int] = None
    fields: Tuple[Tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return self.status is None

    def field_values(self, name: str) -> List[str]:
        """Every value of field ``name`` (lower case), in order."""
        return [value for key, value in self.fields if key == name]

    def with_fields(self, extra: Iterable[Tuple[str, str]]) -> Message:
        return Message(self.method, self.target_uri, self.request_target, self.status,
                       self.fields + tuple((n.lower(), v) for n, v in extra), self.body)


def request_message(method: str, url: str, headers: Iterable[Tuple[str, str]] = (),
                    body: bytes = b"") -> Message:
    """A request to be signed: the target URI is ``url`` exactly as it will be sent."""
    parts = _split_uri(url)
    target = (parts["path"] or "/") + ("?" + parts["query"] if parts["query"] is not None else "")
    return Message(method=method, target_uri=url, request_target=target,
                   fields=tuple((name.lower(), value) for name, value in headers), body=body)


def parse_message(data: Union[str, bytes], scheme: str = "https") -> Message:
    """Parse an HTTP/1.1 message as printed in the RFCs (RFC 9112 §2.1, §3, §4, §5).

    Lines may end in CRLF or LF; the content is every byte after the first empty line.
    ``scheme`` completes the target URI of an origin-form request (RFC 9112 §3.3).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    lines: List[str] = []
    pos = 0
    body = b""
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        chunk = raw[pos:] if end < 0 else raw[pos:end]
        pos = len(raw) if end < 0 else end + 1
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
        if not chunk:
            body = raw[pos:]
            break
        lines.append(chunk.decode("latin-1"))
    if not lines:
        raise UsageError("message: empty")
    start, header_lines = lines[0], lines[1:]
    fields: List[Tuple[str, str]] = []
    for line in header_lines:
        if line[:1] in (" ", "\t"):  # RFC 9112 §5.2 obs-fold: replace with one SP
            if not fields:
                raise UsageError("message: continuation line before any field")
            name, value = fields[-1]
            fields[-1] = (name, value.rstrip(" \t") + " " + line.strip(" \t"))
            continue
        name, colon, value = line.partition(":")
        if not colon or not _FIELD_NAME_RE.match(name):  # RFC 9112 §5.1: no space before ":"
            raise UsageError("message: malformed field line")
        fields.append((name.lower(), value.strip(" \t")))
    if start.startswith("HTTP/"):
        match = re.fullmatch(r"HTTP/\d\.\d ([0-9]{3})(?: .*)?", start)
        if not match:
            raise UsageError("message: malformed status line")
        return Message(status=int(match.group(1)), fields=tuple(fields), body=body)
    match = re.fullmatch(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/\d\.\d", start)
    if not match:
        raise UsageError("message: malformed request line")
    method, target = match.group(1), match.group(2)
    hosts = [value for name, value in fields if name == "host"]
    host = hosts[0] if hosts else None
    # RFC 9112 §3.3 "Reconstructing the Target URI"
    if target.startswith("/"):  # origin-form
        uri = f"{scheme}://{host}{target}" if host is not None else None
    elif target == "*":  # asterisk-form: empty path and query
        uri = f"{scheme}://{host}" if host is not None else None
    elif _URI_RE.match(target) and "://" in target:  # absolute-form
        uri = target
    else:  # authority-form (CONNECT)
        uri = f"{scheme}://{target}"
    return Message(method=method, target_uri=uri, request_target=target,
                   fields=tuple(fields), body=body)


def _split_uri(uri: Optional[str]) -> Dict[str, Optional[str]]:
    if uri is None:
        raise SignatureBaseError("the message has no target URI (missing Host field?)")
    match = _URI_RE.match(uri)
    assert match  # the RFC 3986 regex matches every string
    return {"scheme": match.group(2), "authority": match.group(4), "path": match.group(5),
            "query": match.group(7), "fragment": match.group(9)}


def _normalized_authority(scheme: str, authority: str) -> str:
    """RFC 9110 §4.2.3: lower-case host, default port omitted."""
    match = re.fullmatch(r"(\[[^\]@]*\]|[^:@\[\]]*)(?::([0-9]*))?", authority)
    if not match:
        raise SignatureBaseError("@authority: malformed authority (userinfo is not allowed)")
    host, port = match.group(1).lower(), match.group(2)
    if not port or int(port) == DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


# --- RFC 9421 §2.2 Derived Components: one function each ----------------------------------


def _component_method(message: Message) -> str:
    """RFC 9421 §2.2.1 Method: the method as sent, case-sensitive ("no transformation")."""
    if message.method is None:
        raise SignatureBaseError("@method: the message is not a request")
    return message.method


def _component_target_uri(message: Message) -> str:
    """RFC 9421 §2.2.2 Target URI: the full target URI of the request."""
    return _request_uri(message, "@target-uri")


def _component_authority(message: Message) -> str:
    """RFC 9421 §2.2.3 Authority: normalized per RFC 9110 §4.2.3."""
    parts = _split_uri(_request_uri(message, "@authority"))
    if parts["authority"] is None or parts["scheme"] is None:
        raise SignatureBaseError("@authority: the target URI has no authority")
    return _normalized_authority(parts["scheme"], parts["authority"])


def _component_scheme(message: Message) -> str:
    """RFC 9421 §2.2.4 Scheme: lower case."""
    scheme = _split_uri(_request_uri(message, "@scheme"))["scheme"]
    if scheme is None:
        raise SignatureBaseError("@scheme: the target URI has no scheme")
    return scheme.lower()


def _component_request_target(message: Message) -> str:
    """RFC 9421 §2.2.5 Request Target: as on the HTTP/1.1 request line."""
    if message.request_target is None:
        raise SignatureBaseError("@request-target: the message is not a request")
    return message.request_target


def _component_path(message: Message) -> str:
    """RFC 9421 §2.2.6 Path: "An empty path string is normalized as a single slash"."""
    return _split_uri(_request_uri(message, "@path"))["path"] or "/"


def _component_query(message: Message) -> str:
    """RFC 9421 §2.2.7 Query: with the leading "?"; an absent query is "?" alone."""
    query = _split_uri(_request_uri(message, "@query"))["query"]
    return "?" + (query or "")


def _component_query_param(message: Message, name: str) -> str:
    """RFC 9421 §2.2.8 Query Parameters: the value of the parameter ``name`` (encoded form)."""
    query = _split_uri(_request_uri(message, "@query-param"))["query"] or ""
    values = [_form_encode(value) for key, value in _form_urlencoded_parse(query)
              if _form_encode(key) == name]
    if not values:
        raise SignatureBaseError("@query-param: the named parameter is not in the query")
    if len(values) > 1:
        raise SignatureBaseError("@query-param: the named parameter occurs more than once")
    return values[0]


def _component_status(message: Message) -> str:
    """RFC 9421 §2.2.9 Status Code: three digits; "MUST NOT be used in a request"."""
    if message.status is None:
        raise SignatureBaseError("@status: the message is a request")
    return f"{message.status:03d}"


_DERIVED_COMPONENTS = {
    "@method": _component_method,
    "@target-uri": _component_target_uri,
    "@authority": _component_authority,
    "@scheme": _component_scheme,
    "@request-target": _component_request_target,
    "@path": _component_path,
    "@query": _component_query,
    "@status": _component_status,
}


def _request_uri(message: Message, name: str) -> str:
    if not message.is_request:
        raise SignatureBaseError(f"{name}: the message is a response (use ;req)")
    uri = message.target_uri
    if uri is None:
        raise SignatureBaseError(f"{name}: the request has no target URI (missing Host?)")
    return uri


def _form_urlencoded_parse(query: str) -> List[Tuple[str, str]]:
    """WHATWG URL §5.1 "application/x-www-form-urlencoded parsing" (as RFC 9421 §2.2.8 asks)."""
    pairs = []
    for sequence in query.split("&"):
        if not sequence:
            continue
        name, _, value = sequence.partition("=")
        pairs.append((_percent_decode(name.replace("+", " ")),
                      _percent_decode(value.replace("+", " "))))
    return pairs


def _percent_decode(text: str) -> str:
    """WHATWG URL §1.3 "percent-decode", then UTF-8 decode without BOM or fail."""
    raw = text.encode("utf-8")
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x25 and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 1 : i + 3]):
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "replace")


_FORM_SAFE = frozenset(b"*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _form_encode(text: str) -> str:
    """WHATWG URL "percent-encode after encoding" with the application/x-www-form-urlencoded
    percent-encode set, space as %20 (RFC 9421 §2.2.8)."""
    return "".join(chr(b) if b in _FORM_SAFE else f"%{b:02X}" for b in text.encode("utf-8"))


# --- RFC 9421 §2.1 HTTP Fields ---------------------------------------------------------------


def _field_component(message: Message, name: str, params: Params,
                     field_types: Mapping[str, str]) -> str:
    """The value of a covered HTTP field, with the sf, key and bs parameters (RFC 9421 §2.1)."""
    if name != name.lower():
        # "the component name for an HTTP field is the lowercased form of its field name"
        raise SignatureBaseError("component name of an HTTP field must be lower case")
    if "tr" in params:
        raise SignatureBaseError("tr: trailer fields are not supported")
    values = message.field_values(name)
    if not values:
        raise SignatureBaseError(f"{name}: the field is not in the message")
    # §2.1 steps 2 and 4: strip each value, join with ", " (obs-fold was replaced on parsing).
    values = [value.strip(" \t") for value in values]
    if "bs" in params:  # §2.1.3 Binary-Wrapped HTTP Fields
        if "sf" in params or "key" in params:
            raise SignatureBaseError(f"{name}: bs cannot be combined with sf or key")
        return ", ".join(":" + b64encode(value.encode("latin-1")) + ":" for value in values)
    combined = ", ".join(values)
    if "sf" not in params and "key" not in params:
        return combined
    sf_type = field_types.get(name) or KNOWN_FIELD_TYPES.get(name)
    if sf_type is None:
        raise SignatureBaseError(f"{name}: structured type unknown (sf and key need it)")
    try:
        parsed = _parse_structured(combined, sf_type)
    except UsageError as exc:
        raise SignatureBaseError(f"{name}: not a valid structured field ({exc})") from None
    if "key" in params:  # §2.1.2 Dictionary Structured Field Members
        key = params["key"]
        if sf_type != "dictionary":
            raise SignatureBaseError(f"{name}: key needs a Dictionary field")
        if not isinstance(key, str) or isinstance(key, Token) or key not in parsed:
            raise SignatureBaseError(f"{name}: the dictionary has no member named by key")
        return serialize_member(parsed[key])
    return _serialize_structured(parsed, sf_type)  # §2.1.1 Strict Serialization


_FIELD_PARAMS = {"sf", "key", "bs", "req", "tr"}


def component_value(message: Message, identifier: Item, request: Optional[Message] = None,
                    field_types: Optional[Mapping[str, str]] = None) -> str:
    """The component value for one covered component identifier.  Spec: RFC 9421 §2."""
    name, params = identifier.value, identifier.params
    if not isinstance(name, str) or isinstance(name, Token):
        raise SignatureBaseError("component identifier must be a String")
    for param, value in params.items():
        if param in {"key", "name"}:
            if not isinstance(value, str) or isinstance(value, Token):
                raise SignatureBaseError(f"{param} parameter must be a String")
        elif value is not True:
            raise SignatureBaseError(f"{param} parameter must be a bare flag (true)")
    target = message
    if "req" in params:  # §2.4 Signing Request Components in a Response Message
        if message.is_request:
            raise SignatureBaseError("req parameter on a component of a request message")
        if request is None:
            raise SignatureBaseError("req parameter but no request message given")
        target = request
    if name.startswith("@"):
        allowed = {"req", "name"} if name == "@query-param" else {"req"}
        if set(params) - allowed:
            raise SignatureBaseError(f"{name}: parameter not allowed on this component")
        if name == "@query-param":
            query_name = params.get("name")
            if not isinstance(query_name, str):
                raise SignatureBaseError("@query-param: the name parameter is required")
            value = _component_query_param(target, query_name)
        elif name in _DERIVED_COMPONENTS:
            value = _DERIVED_COMPONENTS[name](target)
        else:
            raise SignatureBaseError("unknown derived component")
    else:
        if set(params) - _FIELD_PARAMS:
            raise SignatureBaseError(f"{name}: unknown component parameter")
        value = _field_component(target, name, params, field_types or {})
    # The signature base is US-ASCII with one component per line (RFC 9421 §2.5).
    if any(not " " <= ch <= "~" and ch != "\t" for ch in value):
        raise SignatureBaseError(f"{name}: value has a newline or non-ASCII character")
    return value


def component_line(message: Message, identifier: Item, request: Optional[Message] = None,
                   field_types: Optional[Mapping[str, str]] = None) -> str:
    """One signature base line: ``<identifier>: <value>``.  Spec: RFC 9421 §2.5 step 2."""
    value = component_value(message, identifier, request, field_types)
    return f"{serialize_item(identifier)}: {value}"


# =============================================================================
# 7. Signature base: RFC 9421 §2.5 "Creating the Signature Base"
# =============================================================================


def signature_base(message: Message, signature_params: InnerList,
                   request: Optional[Message] = None,
                   field_types: Optional[Mapping[str, str]] = None) -> str:
    """One line per covered component, then @signature-params, no trailing LF.

    ``signature_params`` is the Inner List of RFC 9421 §2.3: the covered component identifiers
    and the signature parameters, in the order given.  Spec: RFC 9421 §2.5.
    """
    # "All errors produced as described MUST fail the algorithm immediately" -- RFC 9421 §2.5
    lines = []
    seen = set()
    for identifier in signature_params.items:
        if identifier.value == "@signature-params":
            raise SignatureBaseError("@signature-params cannot be a covered component")
        key = (identifier.value, frozenset(identifier.params.items()))
        if key in seen:
            raise SignatureBaseError("a component identifier is covered twice")
        seen.add(key)
        lines.append(component_line(message, identifier, request, field_types))
    _check_signature_params(signature_params.params)
    lines.append(f'"@signature-params": {serialize_member(signature_params)}')
    return "\n".join(lines)


def _check_signature_params(params: Params) -> None:
    """RFC 9421 §2.3: created and expires are Integers; nonce, alg, keyid and tag Strings."""
    for name, value in params.items():
        if name in ("created", "expires"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SignatureBaseError(f"{name}: signature parameter must be an Integer")
        elif name in ("nonce", "alg", "keyid", "tag"):
            if not isinstance(value, str) or isinstance(value, Token):
                raise SignatureBaseError(f"{name}: signature parameter must be a String")


# =============================================================================
# 8. Signing and verifying: RFC 9421 §3.1, §3.2, §3.3.6, §4.1, §4.2
# =============================================================================


def sign_ed25519(key: PrivateKey, base: str) -> bytes:
    """Sign the signature base's ASCII bytes.  Spec: RFC 9421 §3.3.6 (EdDSA, edwards25519)."""
    return key.sign(base.encode("ascii"))


def verify_ed25519(key: PublicKey, base: str, signature: bytes) -> None:
    """Raise VerificationError unless ``signature`` is valid.  Spec: RFC 9421 §3.3.6."""
    key.verify(base.encode("ascii"), signature)


def signature_params(covered: Sequence[Union[str, Item]],
                     params: Sequence[Tuple[str, BareItem]]) -> InnerList:
    """Build the RFC 9421 §2.3 Inner List; ``params`` keep the order given."""
    items = tuple(c if isinstance(c, Item) else Item(c) for c in covered)
    return InnerList(items, dict(params))


def _check_alg(params: Params) -> None:
    alg = params.get("alg")
    if alg is not None and alg != ALG_ED25519:
        raise UsageError("unsupported algorithm (only ed25519 can sign and verify)")


def sign_message(message: Message, key: PrivateKey, params: InnerList, *, label: str = "sig1",
                 request: Optional[Message] = None,
                 field_types: Optional[Mapping[str, str]] = None) -> Tuple[str, str]:
    """Sign ``message``; return the Signature-Input and Signature field values.

    Spec: RFC 9421 §3.1 "Creating a Signature", §4.1, §4.2.
    """
    _check_key(label)
    _check_alg(params.params)
    base = signature_base(message, params, request, field_types)
    signature = sign_ed25519(key, base)
    return f"{label}={serialize_member(params)}", f"{label}=:{b64encode(signature)}:"


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verify_message established."""

    label: str
    covered: Tuple[str, ...]  # serialized component identifiers
    params: Dict[str, BareItem]
    keyid: Optional[str]
    base: str


def _combined_dictionary(message: Message, name: str) -> Dict[str, Member]:
    values = message.field_values(name)
    if not values:
        raise VerificationError(f"{name}: field missing")
    try:
        return parse_dictionary(", ".join(v.strip(" \t") for v in values))
    except UsageError:
        raise VerificationError(f"{name}: malformed field") from None


def verify_message(message: Message, keys: Union[PublicKey, Mapping[Optional[str], PublicKey]],
                   *, label: Optional[str] = None, request: Optional[Message] = None,
                   field_types: Optional[Mapping[str, str]] = None,
                   required: Sequence[str] = (), max_age: Optional[int] = None,
                   now: Optional[float] = None) -> VerifiedSignature:
    """Verify one signature on ``message``; raise VerificationError on any failure.

    ``keys`` is one key or {keyid: key}; ``required`` names components that must be covered
    (e.g. ``'"@method"'``); ``max_age`` (seconds) requires ``created`` and bounds its age.
    When ``content-digest`` is covered, the digest is checked against the content too.
    Spec: RFC 9421 §3.2 "Verifying a Signature".
    """
    inputs = _combined_dictionary(message, "signature-input")
    signatures = _combined_dictionary(message, "signature")
    if label is None:
        if len(inputs) != 1:
            raise VerificationError("several signatures: choose one with a label")
        label = next(iter(inputs))
    sig_input, sig_value = inputs.get(label), signatures.get(label)
    if sig_input is None or sig_value is None:
        raise VerificationError("Signature-Input and Signature have no matching label")
    if not isinstance(sig_input, InnerList):
        raise VerificationError("Signature-Input member is not an Inner List")
    if not isinstance(sig_value, Item) or not isinstance(sig_value.value, bytes):
        raise VerificationError("Signature member is not a Byte Sequence")
    params = sig_input.params
    _check_alg(params)
    try:
        _check_signature_params(params)
    except SignatureBaseError as exc:
        raise VerificationError(str(exc)) from None
    covered = tuple(serialize_item(item) for item in sig_input.items)
    missing = [name for name in required if name not in covered]
    if missing:
        raise VerificationError("a required component is not covered: " + ", ".join(missing))
    _check_times(params, max_age, time.time() if now is None else now)
    keyid = params.get("keyid")
    key = _select_key(keys, keyid if isinstance(keyid, str) else None)
    try:
        base = signature_base(message, sig_input, request, field_types)
    except SignatureBaseError as exc:
        raise VerificationError(f"cannot build the signature base: {exc}") from None
    verify_ed25519(key, base, sig_value.value)
    for item in sig_input.items:
        if item.value == "content-digest":  # RFC 9530 §6.3: check what the signature covers
            target = request if "req" in item.params and request is not None else message
            verify_content_digest(component_value(message, item, request, field_types),
                                  target.body)
    return VerifiedSignature(label, covered, dict(params),
                             keyid if isinstance(keyid, str) else None, base)


def _check_times(params: Params, max_age: Optional[int], now: float) -> None:
    """RFC 9421 §3.2 step 6 and §7.2.2: created/expires against the verifier's clock."""
    created, expires = params.get("created"), params.get("expires")
    if isinstance(expires, int) and now > expires:
        raise VerificationError("signature expired")
    if max_age is not None:
        if not isinstance(created, int):
            raise VerificationError("created is required")
        if created > now + 60:
            raise VerificationError("created is in the future")
        if now - created > max_age:
            raise VerificationError("signature is too old")


def _select_key(keys: Union[PublicKey, Mapping[Optional[str], PublicKey]],
                keyid: Optional[str]) -> PublicKey:
    if isinstance(keys, PublicKey):
        return keys
    if keyid is not None and keyid in keys:
        return keys[keyid]
    if len(keys) == 1 and None in keys:
        return keys[None]
    raise VerificationError("no key for this keyid")

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
Deps: requests >= 2.20, PyNaCl >= 1.3. Python >= 3.7.
Read top to bottom: sections follow the protocol.
Vendoring: copy this file unchanged and keep this header; record __version__ and its sha256.
"""

# Theory of operation
# -------------------
# Each section uses only those above it. Sections 3 to 8 are HTTP Message Signatures and what
# they stand on; a signed request is built from them in five steps:
#   body  -> Content-Digest (RFC 9530 §2; section 5)
#   message + covered components -> one line per component (RFC 9421 §2.1, §2.2; section 6)
#   lines + "@signature-params" -> the signature base (RFC 9421 §2.5; section 7)
#   base -> Ed25519 signature (RFC 9421 §3.3.6; section 8)
#   signature + parameters -> Signature-Input and Signature fields (RFC 9421 §4.1, §4.2; 8)
# Verification runs the same steps over a received message and compares. Sections 9 to 11 are
# GNAP as Open Payments profiles it: the requests (RFC 9635 §2, §5, §6), the responses (§3), the
# interaction finish (§4.2); section 12 is the client that sends them (the only I/O), 13 a
# linter for another client's requests, 14 the command line. Every failure raises one of the
# exception classes of section 1; nothing is retried, nothing is logged.

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import ipaddress
import json
import math
import os
import re
import stat
import sys
import threading
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

# PyNaCl (nacl.signing, nacl.exceptions) is imported where a key is made, so the offline
# commands that need no key (hash, digest, base) start without it.

__version__ = "0.2.0"
__all__ = [
    # errors (section 1)
    "Error", "UsageError", "SignatureBaseError", "TooSoonError", "VerificationError",
    "TransportError", "ResponseError", "GrantError",
    # structured fields (section 3)
    "Token", "Item", "InnerList", "parse_item", "parse_list", "parse_dictionary",
    "serialize_item", "serialize_list", "serialize_dictionary",
    # keys (section 4)
    "PrivateKey", "PublicKey", "load_private_key", "load_public_key", "jwks", "KeyFileWarning",
    # digest (section 5)
    "content_digest", "verify_content_digest",
    # messages, components, base (sections 6, 7)
    "Message", "parse_message", "MessageWarning", "request_message", "normalize_url",
    "component_value", "component_line",
    "signature_base",
    # signing (section 8)
    "signature_params", "sign_message", "SignedRequest", "verify_message", "VerifiedSignature",
    "sign_ed25519", "verify_ed25519",
    # requests (section 9)
    "sign_request", "json_body", "continue_body", "grant_request_body",
    "grant_request", "continue_request", "poll_request", "cancel_request", "rotate_request",
    "revoke_request",
    # responses (section 10)
    "Grant", "AccessToken", "Continue", "Interact", "Access", "Limits", "Amount",
    "grant_error_from_json", "parse_json",
    # the interaction finish (section 11)
    "new_nonce", "InteractionFinish", "parse_finish_redirect", "interaction_hash",
    "verify_interaction_hash",
    # client (section 12)
    "Client", "GnapAuth",
    # linting another client's request (section 13) and command line (section 14)
    "LintFinding", "lint_request", "main",
]


# =============================================================================
# 1. Errors
# =============================================================================
# Error, and under it the caller's faults (UsageError; SignatureBaseError, TooSoonError) apart
# from the other side's or the network's (VerificationError, TransportError, ResponseError,
# GrantError), as h11 splits local and remote faults. Messages name the field and
# the problem, never the value: a token, key or interact_ref never reaches str(), repr() or args.
# Nor the exception chain: an error that replaces a caught exception is made in the except block
# but raised after the try statement. (`raise ... from None` only hides __context__; it still
# holds the caught exception and its input -- a UnicodeDecodeError's bytes, a JSONDecodeError's
# document -- for any traceback printer or error reporter that walks the chain.)


class Error(Exception):
    """Base class of every error this module raises."""


class UsageError(Error, ValueError):
    """The caller's input is wrong (bad key, bad URI, CR/LF in a value...), found before any I/O."""


class SignatureBaseError(UsageError):
    """A signature base cannot be built: one of the failures listed in RFC 9421 §2.5."""


class TooSoonError(UsageError):
    """A call to a continue URI before the ``wait`` of the AS's last answer has passed: nothing
    was sent (RFC 9635 §5). ``seconds`` is the time left; sleep that long, then call again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"continue URI: the AS's wait has {math.ceil(seconds)} s left; nothing "
                         "was sent (RFC 9635 section 5: the client MUST NOT call the "
                         "continuation URI before waiting)")
        self.seconds = seconds


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
    """The server's answer is not what the protocol allows. ``path`` is where in the body: a
    JSONPath-like expression, ``$`` for the body as a whole, ``$.continue.uri`` for a member,
    ``$.access_token.access[0]`` for an array element; None when the fault is not in the body
    (a redirect, an unexpected status). ``status`` is the HTTP status, when there was one."""

    def __init__(self, message: str, *, path: Optional[str] = "$",
                 status: Optional[int] = None) -> None:
        super().__init__(message if path is None else f"{path}: {message}")
        self.path = path
        self.status = status


class GrantError(Error):
    """The AS answered with a GNAP error object (RFC 9635 §3.6), or the interaction finish
    redirect said the grant was not approved: then ``status`` is None (no HTTP answer)."""

    def __init__(self, status: Optional[int], code: str,
                 description: Optional[str] = None) -> None:
        text = code if status is None else f"HTTP {status}: {code}"
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

# Exit codes of the command line (section 14): kept here, not os.EX_*, which is Unix-only.
EXIT_OK = 0
EXIT_INVALID = 1  # "verify": the signature does not verify; "lint": an error finding
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

# The ABNF rules that regular expressions of this module spell, each named once and reused:
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|"
#           / "~" / DIGIT / ALPHA                                        -- RFC 9110 §5.6.2
#   token = 1*tchar  (a field name, RFC 9110 §5.1; a method, RFC 9110 §9.1)
_TCHAR = r"!#$%&'*+\-.^_`|~0-9A-Za-z"  # (the inside of a [character class])
_TOKEN = rf"[{_TCHAR}]+"
#   sf-token = ( ALPHA / "*" ) *( tchar / ":" / "/" )                     -- RFC 8941 §3.3.4
_SF_TOKEN_RE = re.compile(rf"[A-Za-z*][{_TCHAR}:/]*")
#   key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )  -- RFC 8941 §3.1.2
_SF_KEY = r"[a-z*][a-z0-9_\-.*]*"
_SF_KEY_RE = re.compile(_SF_KEY)
#   base64 = ALPHA / DIGIT / "+" / "/" / "="  (RFC 8941 §3.3.5; "=" only as padding, at the
#   end, so the class below leaves it out); the base64url alphabet replaces "+" "/" by "-" "_"
#   (RFC 4648 §5), unpadded where JWK and RFC 9635 §4.2.3 use it
_BASE64 = "[A-Za-z0-9+/]"
_BASE64URL = "[A-Za-z0-9_-]"
#   token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="  -- RFC 9110 §11.2
#   (the credentials of Authorization: GNAP <token>)
_TOKEN68 = r"[A-Za-z0-9\-._~+/]+=*"
# The three character rules a value we sign or read is held to, each named after its ABNF:
#   VCHAR = %x21-7E  ; visible (printing) characters -- RFC 5234 Appendix B.1
#   (tokens, interact_refs, nonces, URLs: no SP, no control character)
_VCHARS_RE = re.compile(r"[!-~]*\Z")
#   sf-string = DQUOTE *( unescaped / escaped ) DQUOTE  -- RFC 8941 §3.3.3
#   unescaped = %x20-21 / %x23-5B / %x5D-7E ; escaped = "\" ( DQUOTE / "\" )
#   (so a String carries SP and VCHAR, %x20-7E, once '"' and '\' are escaped)
_SF_STRING_CHARS_RE = re.compile(r"[ -~]*\Z")
#   field-value = *field-content ; field-vchar = VCHAR / obs-text  -- RFC 9110 §5.5
#   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
#   (without obs-text, %x80-FF: a signature base is ASCII, RFC 9421 §2.5)
_FIELD_VALUE_CHARS_RE = re.compile(r"[\t -~]*\Z")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 §4), as Byte Sequences use."""
    return base64.b64encode(data).decode("ascii")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as JWK and RFC 9635 §4.2.3 use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Decode unpadded base64url strictly; raise UsageError naming ``what``."""
    if not isinstance(text, str) or not re.fullmatch(_BASE64URL + "*", text) or len(text) % 4 == 1:
        raise UsageError(f"{what}: expected unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


MAX_USER_JSON_DEPTH = 32  # arrays and objects in a JWK(S) file or --access (which nests 4 deep)


def _user_json(text: str, what: str, invalid: str) -> Any:
    """JSON the user gave (a JWK file, --access); UsageError ``invalid`` if it does not parse.

    Nesting deeper than MAX_USER_JSON_DEPTH is refused too: json.loads would raise
    RecursionError on it, or json.dumps, when the value is written out again.
    """
    too_deep = UsageError(f"{what}: JSON nested more than {MAX_USER_JSON_DEPTH} levels deep")
    failure: Optional[UsageError] = None
    try:
        value = json.loads(text)
    except RecursionError:
        failure = too_deep
    except ValueError:
        failure = UsageError(invalid)
    if failure is not None:
        raise failure
    nodes, depth = [value], 0
    while True:  # one level per pass, without recursion
        containers = [node for node in nodes if isinstance(node, (dict, list))]
        if not containers:
            return value
        depth += 1
        if depth > MAX_USER_JSON_DEPTH:
            raise too_deep
        nodes = [child for node in containers
                 for child in (node.values() if isinstance(node, dict) else node)]


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
        if not abs(value) < 1e12:  # also NaN and the infinities (and too big to quantize)
            raise UsageError("structured field: decimal out of range")
        # §4.1.5 rounds the decimal number -- the float's shortest repr: 0.0025, not the binary
        # 0.00250000000000000005... -- to three places, half to even, and only then checks for
        # 12 integer digits. Our own Context: the caller's decimal context must not matter.
        from decimal import ROUND_HALF_EVEN, Context, Decimal  # here: ~1.5 ms off the import
        rounded = Decimal(repr(value)).quantize(Decimal("0.001"), ROUND_HALF_EVEN,
                                                Context(prec=28, traps=[]))
        if not rounded.copy_abs() < 10**12:
            raise UsageError("structured field: decimal out of range")
        # "If input_decimal is less than (but not equal to) 0" -- after rounding (§4.1.5 step 2)
        text = ("-" if rounded < 0 else "") + f"{rounded.copy_abs():f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, Token):  # §4.1.7
        if not _SF_TOKEN_RE.fullmatch(value):
            raise UsageError("structured field: invalid token")
        return str(value)
    if isinstance(value, str):  # §4.1.6
        if not _SF_STRING_CHARS_RE.match(value):
            raise UsageError("structured field: string has a character outside printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):  # §4.1.8
        return ":" + b64encode(value) + ":"
    raise UsageError(f"structured field: cannot serialize {type(value).__name__}")


def _check_key(key: str) -> None:
    """RFC 8941 §4.1.1.3: a key is lcalpha or "*", then lcalpha / DIGIT / "_" / "-" / "." / "*"."""
    if not _SF_KEY_RE.fullmatch(key):
        raise UsageError("structured field: invalid key")


def serialize_params(params: Params) -> str:
    """Spec: RFC 8941 §4.1.1.2 "Serializing Parameters"."""
    out = []
    for key, value in params.items():
        _check_key(key)
        out.append(";" + key if value is True else f";{key}={serialize_bare_item(value)}")
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _serialized_string(value: str) -> str:
    """serialize_bare_item of a String, remembered: every signature serializes its covered
    component identifiers twice (base lines, Signature-Input), and they are the same few."""
    return serialize_bare_item(value)


def serialize_item(item: Item) -> str:
    """Spec: RFC 8941 §4.1.3 "Serializing an Item"."""
    if type(item.value) is str and not item.params:  # e.g. a component identifier: "@method"
        return _serialized_string(item.value)
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_member(member: Member) -> str:
    """An Item, or an Inner List per RFC 8941 §4.1.1.1 "Serializing an Inner List"."""
    if isinstance(member, InnerList):
        inner = " ".join([serialize_item(item) for item in member.items])
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
        # HTAB is allowed only where §4.2.1 and §4.2.2 allow OWS (around a member's comma)
        if not _FIELD_VALUE_CHARS_RE.match(text):
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
        while self.more_members(first=not members):
            members.append(self.item_or_inner_list())
        return members

    def dictionary(self) -> Dict[str, Member]:  # §4.2.2
        members: Dict[str, Member] = {}
        while self.more_members(first=not members):
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.item_or_inner_list()
            else:
                members[key] = Item(True, self.params())
        return members

    def more_members(self, first: bool) -> bool:
        """The comma handling shared by §4.2.1 and §4.2.2: True while a member follows."""
        if first:
            return self.pos < len(self.text)
        self.skip_ows()
        if self.pos == len(self.text):
            return False
        if self.peek() != ",":
            raise self.fail("expected ','")
        self.pos += 1
        self.skip_ows()
        if self.pos == len(self.text):
            raise self.fail("trailing ','")
        return True

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
        match = _SF_KEY_RE.match(self.text, self.pos)
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
            elif ch == "\t":  # not VCHAR or SP
                raise self.fail("bad character in string")
            else:
                out.append(ch)
        raise self.fail("unterminated string")

    def token(self) -> Token:  # §4.2.6
        match = _SF_TOKEN_RE.match(self.text, self.pos)
        assert match  # bare_item checked the first character
        self.pos = match.end()
        return Token(match.group())

    def byte_sequence(self) -> bytes:  # §4.2.7
        end = self.text.find(":", self.pos + 1)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        body = self.text[self.pos + 1 : end]
        stripped = body.rstrip("=")
        padding = len(body) - len(stripped)
        # RFC 8941 §4.2.7: "parsers SHOULD NOT fail when "=" padding is not present"; padding
        # that is present must be right (checked here: Python < 3.11 would accept "==" for "=").
        if (not re.fullmatch(_BASE64 + "*", stripped) or len(stripped) % 4 == 1
                or padding not in (0, -len(stripped) % 4)):
            raise self.fail("byte sequence is not base64")
        value = base64.b64decode(stripped + "=" * (-len(stripped) % 4))
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
    if pos + 2 > len(data):
        raise UsageError(f"{what}: truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 2:
            raise UsageError(f"{what}: unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
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


_UTF8_BOM = b"\xef\xbb\xbf"


def _pem_body(text: Union[str, bytes], expected_label: str, what: str) -> bytes:
    """Return the DER inside a PEM block (RFC 7468), also accepting base64 of the PEM text and
    a leading UTF-8 byte order mark (as some Windows editors save text)."""
    if isinstance(text, bytes):
        text = text[len(_UTF8_BOM):] if text.startswith(_UTF8_BOM) else text
        if not text.isascii():  # (no decode and catch: a UnicodeDecodeError keeps the bytes)
            raise UsageError(f"{what}: not a PEM text (non-ASCII bytes)")
        text = text.decode("ascii")
    text = text[1:] if text.startswith("\ufeff") else text
    if "-----BEGIN" not in text:
        # Some wallets display the PEM text base64-encoded once more.
        try:
            decoded = base64.b64decode("".join(text.split()), validate=True)
        except ValueError:  # binascii.Error, or a non-ASCII character
            decoded = b""  # refused just below, outside this handler
        if not decoded.isascii() or b"-----BEGIN" not in decoded:
            raise UsageError(f"{what}: not a PEM text or base64 of one")
        text = decoded.decode("ascii")
    # A file may hold several blocks: RFC 9421 B.1.4 prints the public and the private key
    # together. The block with the expected label is used; the first one names the problem.
    blocks = list(_PEM_RE.finditer(text))
    if not blocks:
        raise UsageError(f"{what}: malformed PEM (missing or mismatched BEGIN/END lines)")
    match = next((block for block in blocks if block.group(1) == expected_label), blocks[0])
    label = match.group(1)
    if label != expected_label:
        problem = _PEM_LABEL_PROBLEMS.get(label)
        if problem is None:
            problem = f"expected a '{expected_label}' PEM block, found '{label}'"
        raise UsageError(f"{what}: {problem}")
    try:
        return base64.b64decode("".join(match.group(2).split()), validate=True)
    except binascii.Error:
        failure = UsageError(f"{what}: PEM body is not valid base64")
    raise failure  # after the try statement: see section 1


def _bad_signature_error() -> Any:
    import nacl.exceptions

    return nacl.exceptions.BadSignatureError


def _pem_encode(label: str, der: bytes) -> str:
    body = b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _check_key_id(kid: str) -> None:
    # DEVIATION DEV-keyid (interop with the official verifier): RFC 9421 allows any sf-string
    # as keyid, but @interledger/http-signature-utils finds keyid by splitting Signature-Input
    # on ";".
    if not isinstance(kid, str) or not kid:
        raise UsageError("key id must be a non-empty string")
    if not _SF_STRING_CHARS_RE.match(kid) or ";" in kid or '"' in kid or "\\" in kid:
        raise UsageError("key id must be printable ASCII without ';', '\"' or '\\'")


class PublicKey:
    """An Ed25519 public key (32 bytes).  Spec: RFC 8032 §5.1.5."""

    __slots__ = ("_verify_key", "raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise UsageError("Ed25519 public key must be 32 bytes")
        self.raw = raw
        import nacl.signing

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
        failure: Optional[VerificationError] = None
        try:
            self._verify_key.verify(message, signature)
        except _bad_signature_error():
            failure = VerificationError("signature does not verify")
        if failure is not None:
            raise failure

    def jwk(self, kid: str) -> Dict[str, str]:
        """The public JWK, members in the order the official Open Payments SDK writes them."""
        _check_key_id(kid)
        return {"alg": "EdDSA", "kid": kid, "kty": "OKP", "crv": "Ed25519",
                "x": b64url_encode(self.raw)}

    def to_pem(self) -> str:
        """SubjectPublicKeyInfo PEM.  Spec: RFC 8410 §4."""
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
        import nacl.signing

        self._signing_key = nacl.signing.SigningKey(seed)
        self.public_key = PublicKey(bytes(self._signing_key.verify_key))

    @classmethod
    def generate(cls) -> PrivateKey:
        """A new key from 32 bytes of os.urandom (RFC 8032 §5.1.5: the seed is random)."""
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
            if tag == 0x81 and value != b"\x00" + key.public_key.raw:  # BIT STRING, 0 unused
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
        failure: Optional[UsageError] = None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            failure = UsageError("key file already exists; refusing to overwrite it")
        except OSError as exc:
            failure = UsageError(f"cannot create key file: {exc.strerror}")
        if failure is not None:
            raise failure
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(self.to_pem())

    def __repr__(self) -> str:
        return f"PrivateKey(<secret>, public_key={self.public_key!r})"


def _looks_like_encoded_key(text: str) -> bool:
    """Whether ``text`` decodes as base64 or base64url to a PEM text, or to as many bytes as
    an Ed25519 seed (32), a PKCS#8 key (48) or a seed and public key (64) have."""
    decoded = b""  # (each pattern admits only text that decodes: nothing can raise here)
    if re.fullmatch(_BASE64 + "+={0,2}", text) and len(text) % 4 == 0:
        decoded = base64.b64decode(text)
    elif re.fullmatch(_BASE64URL + "+", text) and len(text) % 4 != 1:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return b"-----BEGIN" in decoded or len(decoded) in (32, 48, 64)


def _read_key_file(path: Union[str, os.PathLike],  # type: ignore[type-arg]
                   what: str) -> Tuple[bytes, int]:
    """The file's first 64 KiB and its st_mode, both from the one open file. Errors name the
    path (a path is no secret), unless the value looks like key text rather than a path."""
    if isinstance(path, str) and ("-----BEGIN" in path or "\n" in path):
        raise UsageError(f"{what}: got key text, expected a file path; for PEM text use "
                         "PrivateKey.from_pem(text)")
    if isinstance(path, str) and path.lstrip().startswith("{"):
        raise UsageError(f"{what}: got JSON text, expected a file path; for a JWK use "
                         "PrivateKey.from_jwk(json.loads(text))")
    if not isinstance(path, (str, bytes, os.PathLike)):  # (open() takes an int: a descriptor)
        raise UsageError(f"{what}: expected a file path (str or os.PathLike), not "
                         f"{type(path).__name__}")
    shown = repr(os.fsdecode(path))
    if isinstance(path, str) and _looks_like_encoded_key(path):  # never echo a key
        shown = ("(not shown: it looks like a key, not a path; for key text use "
                 "PrivateKey.from_pem(text))")
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 16), os.fstat(handle.fileno()).st_mode
    except FileNotFoundError:
        failure = UsageError(f"{what}: file not found: {shown}")
    except OSError as exc:
        failure = UsageError(f"{what}: cannot read file {shown}: {exc.strerror}")
    except ValueError:  # a NUL character in the path
        failure = UsageError(f"{what}: the file path contains a NUL character")
    raise failure  # after the try statement: see section 1


class KeyFileWarning(UserWarning):
    """load_private_key: the key file is readable by other users. A category of its own, so that
    a caller can filter it, or turn it into an error (``warnings.simplefilter("error",
    KeyFileWarning)``); the command line prints it as one ``op-continue: warning:`` line."""


def load_private_key(path: Union[str, os.PathLike]) -> PrivateKey:  # type: ignore[type-arg]
    """Read a private key file: PKCS#8 PEM (or base64 of it), or a private Ed25519 JWK (with
    ``d``); a UTF-8 byte order mark is skipped. Warns (KeyFileWarning) if others may read it.

    ``path`` is a file path; for key text in memory use PrivateKey.from_pem or from_jwk.
    """
    data, mode = _read_key_file(path, "private key")
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(KeyFileWarning("private key file is readable by other users; chmod 600 it"),
                      stacklevel=2)
    data = data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data
    if data.lstrip().startswith(b"{"):  # a JWK (RFC 8037 §2); PEM never starts with "{"
        jwk = _user_json(data.decode("utf-8", "replace"), "private key",
                         "private key: the file starts with '{' but is not valid JSON")
        if not isinstance(jwk, dict) or "keys" in jwk:
            raise UsageError("private key: expected one JWK object (not a JWKS or other JSON)")
        if "d" not in jwk:
            raise UsageError('private key: the JWK has no "d": it is a public key')
        return PrivateKey.from_jwk(jwk)
    return PrivateKey.from_pem(data)


def load_public_key(data: Union[str, bytes]) -> Dict[Optional[str], PublicKey]:
    """Public keys from an SPKI PEM, a JWK, a JWKS, or a private key PEM: {kid or None: key}."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = text[1:] if text.startswith("\ufeff") else text  # a UTF-8 byte order mark
    if text.lstrip().startswith("{"):
        doc = _user_json(text, "public key", "public key: invalid JSON")
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


# =============================================================================
# 5. Content digest: RFC 9530 §2 "The Content-Digest Field"
# =============================================================================
# The digest is taken over the exact content bytes sent; the signature then covers the
# Content-Digest field, and so the body.


def content_digest(body: bytes, algorithms: Sequence[str] = ("sha-512",)) -> str:
    """The Content-Digest field value, e.g. ``sha-512=:...:``.  Spec: RFC 9530 §2."""
    # RFC 9530 §2: "calculated using a hashing algorithm applied to the actual message content"
    # (the bytes given, which are the bytes sent); each member's value is
    # RFC 9530 §2: "a Byte Sequence (Section 3.3.5 of [STRUCTURED-FIELDS])", so :base64:.
    if algorithms == ("sha-512",):  # the default, on every signed request with a body
        return "sha-512=:" + b64encode(hashlib.sha512(body).digest()) + ":"
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
    failure: Optional[VerificationError] = None
    try:
        members = parse_dictionary(field_value)
    except UsageError:
        failure = VerificationError("Content-Digest: malformed field")
    if failure is not None:
        raise failure
    supported = [(name, member) for name, member in members.items()
                 if name in DIGEST_ALGORITHMS]
    if not supported:
        raise VerificationError("Content-Digest: no supported algorithm (sha-256, sha-512)")
    for algorithm, member in supported:
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise VerificationError(f"Content-Digest: {algorithm} is not a byte sequence")
        if not hmac.compare_digest(member.value, DIGEST_ALGORITHMS[algorithm](body).digest()):
            raise VerificationError(f"Content-Digest: {algorithm} does not match the body")


# =============================================================================
# 6. Messages and components: RFC 9421 §2 "HTTP Message Components"
# =============================================================================
# A Message holds what RFC 9421 can cover: the request's method and target URI, or the
# response's status, the header fields in order, and the content bytes. Each covered component
# becomes one value: §2.1 for HTTP fields, one function per derived component for §2.2. The URL
# a request goes to is checked here too (normalize_url): its normal form is the @target-uri.

# RFC 3986 Appendix B: the regular expression for splitting a URI reference.
_URI_RE = re.compile(r"^((?P<scheme>[^:/?#]+):)?(//(?P<authority>[^/?#]*))?(?P<path>[^?#]*)"
                     r"(\?(?P<query>[^#]*))?(#(?P<fragment>.*))?")  # (named: $2 $4 $5 $7 $9)
_FIELD_NAME_RE = re.compile(_TOKEN + r"\Z")  # RFC 9110 §5.1: field-name = token


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
        """True for a request, False for a response (which has a ``status``)."""
        return self.status is None

    def field_values(self, name: str) -> List[str]:
        """Every value of field ``name`` (lower case), in order."""
        return [value for key, value in self.fields if key == name]

    def with_fields(self, extra: Iterable[Tuple[str, str]]) -> Message:
        """A copy with the (name, value) pairs ``extra`` appended, names lower-cased: e.g. the
        Signature-Input and Signature fields that sign_message returned."""
        return Message(self.method, self.target_uri, self.request_target, self.status,
                       self.fields + tuple((n.lower(), v) for n, v in extra), self.body)


def _split_uri(uri: str) -> Dict[str, Optional[str]]:
    match = _URI_RE.match(uri)
    assert match  # the RFC 3986 regex matches every string
    return match.groupdict()


def request_message(method: str, url: str, headers: Iterable[Tuple[str, str]] = (),
                    body: bytes = b"") -> Message:
    """A request to be signed: the target URI is ``url`` exactly as it will be sent."""
    parts = _split_uri(url)
    target = (parts["path"] or "/") + ("?" + parts["query"] if parts["query"] is not None else "")
    return Message(method=method, target_uri=url, request_target=target,
                   fields=tuple([(name.lower(), value) for name, value in headers]), body=body)


class MessageWarning(UserWarning):
    """parse_message: the message parses, but probably not as its author meant -- a field line
    ending in a backslash (RFC 8792 line wrapping left in, as copied from an RFC), or a
    Content-Length that is not the body's length. The command line prints each as one
    ``op-continue: warning:`` line; ``warnings.simplefilter("error", MessageWarning)`` makes
    them errors."""


def _message_warnings(fields: Sequence[Tuple[str, str]], wrapped: Sequence[str],
                      body: bytes) -> None:
    """Warn (MessageWarning) about what parse_message found suspicious; values are not shown."""
    for name in dict.fromkeys(wrapped):  # each field once, in message order
        warnings.warn(MessageWarning(
            f"message: a {name} field line ends in '\\', as RFC 8792 wraps long lines: unwrap "
            f"it (join the next line, without its leading spaces), else the backslash is part "
            f"of the value and the next line a continuation (obs-fold)"), stacklevel=3)
    for name, value in fields:  # RFC 9110 §8.6: Content-Length = 1*DIGIT (compared as text)
        if (name == "content-length" and re.fullmatch(r"[0-9]{1,20}", value)
                and (value.lstrip("0") or "0") != str(len(body))):
            warnings.warn(MessageWarning(
                f"message: Content-Length is {value} but the body has {len(body)} bytes: "
                f"the body is every byte after the empty line, a final newline included (an "
                f"editor or echo may add one); remove the extra bytes or correct "
                f"Content-Length"), stacklevel=3)


def parse_message(data: Union[str, bytes], scheme: str = "https") -> Message:
    """Parse an HTTP/1.1 message as printed in the RFCs (RFC 9112 §2.1, §3, §4, §5).

    Lines may end in CRLF or LF; the content is every byte after the first empty line.
    ``scheme`` completes the target URI of an origin-form request (RFC 9112 §3.3).
    Warns (MessageWarning) about a field line ending in a backslash (RFC 8792 wrapping) and a
    Content-Length that disagrees with the body.
    """
    failure: Optional[UsageError] = None
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:
        failure = UsageError("message: text is not encodable as UTF-8 (lone surrogate)")
    if failure is not None:
        raise failure
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
    wrapped: List[str] = []  # names of fields with a line ending in "\" (RFC 8792 §7)
    for line in header_lines:
        if line[:1] in (" ", "\t"):  # RFC 9112 §5.2 obs-fold: replace with one SP
            if not fields:
                raise UsageError("message: continuation line before any field")
            name, value = fields[-1]
            folded = line.strip(" \t")  # (a blank continuation adds no trailing SP)
            fields[-1] = (name, value + " " + folded if folded else value)
        else:
            name, colon, value = line.partition(":")
            if not colon or not _FIELD_NAME_RE.match(name):  # RFC 9112 §5.1: no SP before ":"
                raise UsageError("message: malformed field line")
            fields.append((name.lower(), value.strip(" \t")))
        if line.rstrip(" \t").endswith("\\"):
            wrapped.append(fields[-1][0])
    _message_warnings(fields, wrapped, body)
    if start.startswith("HTTP/"):
        match = re.fullmatch(r"HTTP/\d\.\d ([0-9]{3})(?: .*)?", start)
        if not match:
            raise UsageError("message: malformed status line")
        return Message(status=int(match.group(1)), fields=tuple(fields), body=body)
    match = re.fullmatch(rf"({_TOKEN}) (\S+) HTTP/\d\.\d", start)
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


_AUTHORITY_RE = re.compile(r"(\[[^\]@]*\]|[^:@\[\]]*)(?::([0-9]*))?")


def _normalized_authority(scheme: str, authority: str) -> str:
    """RFC 9110 §4.2.3: lower-case host, default port omitted."""
    match = _AUTHORITY_RE.fullmatch(authority)
    if not match:
        raise SignatureBaseError("@authority: malformed authority (userinfo is not allowed)")
    host, port = match.group(1).lower(), match.group(2)
    digits = (port or "").lstrip("0")
    if len(digits) > 5 or int(digits or "0") > 65535:
        raise SignatureBaseError("@authority: port out of range")
    if not port or int(digits or "0") == DEFAULT_PORTS.get(scheme.lower()):
        return host
    return f"{host}:{port}"


# The URL a request is signed for and sent to: normalize_url checks it and returns the form that
# the official SDK signs as @target-uri (§2.2.2), a WHATWG URL parser's.
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_PORT_SUFFIX_RE = re.compile(r":[0-9]+\Z")
_DOT_SEGMENT_RE = re.compile(r"(^|/)\.\.?(/|$)")
_BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_HOSTS:
        return True
    try:  # an IPv4 literal in 127.0.0.0/8, not a DNS name that merely starts with "127."
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


_NORMALIZED_URLS: Dict[Tuple[str, bool], str] = {}  # only URLs that passed every check


def normalize_url(url: object, what: str = "URL", allow_http: bool = False) -> str:
    """Check a URL we will call and return it in the form a WHATWG parser gives (lower-case
    scheme and host, default port dropped, "/" for an empty path), which is what the official
    SDK signs as @target-uri. Refuses what would make the signed and sent URIs differ.

    DEVIATION DEV-url-form (interop with the official SDK): RFC 9635 §3.1 and §3.2.1 give the
    client a URI to call as it is; we sign and send its WHATWG form, as the SDK does.
    """
    if not isinstance(url, str) or not url:
        raise UsageError(f"{what}: must be a non-empty string")
    cached = _NORMALIZED_URLS.get((url, allow_http))
    if cached is not None:  # the same continue URI is signed again and again: check it once
        return cached
    if not _VCHARS_RE.match(url):
        raise UsageError(f"{what}: must be ASCII without spaces or control characters")
    parts = _split_uri(url)
    scheme = (parts["scheme"] or "").lower()
    authority = parts["authority"]
    if not authority:
        raise UsageError(f"{what}: must be an absolute URL with a host")
    if "@" in authority:
        raise UsageError(f"{what}: must not contain userinfo")
    if parts["fragment"] is not None:
        raise UsageError(f"{what}: must not contain a fragment")
    failure: Optional[UsageError] = None
    try:
        host_port = _normalized_authority(scheme, authority)
    except SignatureBaseError:
        failure = UsageError(f"{what}: malformed host")
    if failure is not None:
        raise failure
    host = _PORT_SUFFIX_RE.sub("", host_port)
    if host != host_port:  # a WHATWG parser reads the port as a number: ":08443" is ":8443"
        host_port = f"{host}:{int(host_port[len(host) + 1:])}"  # (never the default port)
    if scheme == "http":
        if not allow_http:
            raise UsageError(f"{what}: must use https (plain http only with allow_http)")
        if not _is_loopback(host):
            raise UsageError(f"{what}: plain http is allowed only for a loopback host")
    elif scheme != "https":
        raise UsageError(f"{what}: must use https")
    path = parts["path"] or "/"
    if _DOT_SEGMENT_RE.search(path) or _BAD_PERCENT_RE.search(url):
        raise UsageError(f"{what}: must be normalized (no dot segments, valid %-escapes)")
    query = "" if parts["query"] is None else "?" + parts["query"]
    normalized = f"{scheme}://{host_port}{path}{query}"
    if len(_NORMALIZED_URLS) >= 256:
        _NORMALIZED_URLS.clear()
    _NORMALIZED_URLS[(url, allow_http)] = normalized
    return normalized


# --- RFC 9421 §2.2 Derived Components: one function each ----------------------------------


def _component_method(message: Message) -> str:
    """RFC 9421 §2.2.1 Method: the method as sent, case-sensitive ("no transformation")."""
    if message.method is None:
        raise SignatureBaseError("@method: the message is not a request")
    return message.method


def _request_uri(message: Message, name: str) -> str:
    if not message.is_request:
        raise SignatureBaseError(f"{name}: the message is a response (use ;req)")
    uri = message.target_uri
    if uri is None:
        raise SignatureBaseError(f"{name}: the request has no target URI (missing Host?)")
    return uri


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


def _percent_decode(text: str) -> str:
    """WHATWG URL §1.3 "percent-decode", then UTF-8 decode without BOM or fail.

    The input is first made a USVString as a browser would: a lone surrogate (from argv's
    surrogateescape, say) becomes U+FFFD instead of failing to encode."""
    raw = re.sub("[\ud800-\udfff]", "\ufffd", text).encode("utf-8")
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


_FORM_SAFE = frozenset(b"*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _form_encode(text: str) -> str:
    """WHATWG URL "percent-encode after encoding" with the application/x-www-form-urlencoded
    percent-encode set, space as %20 (RFC 9421 §2.2.8)."""
    return "".join(chr(b) if b in _FORM_SAFE else f"%{b:02X}" for b in text.encode("utf-8"))


def _component_query_param(message: Message, name: str) -> str:
    """RFC 9421 §2.2.8 Query Parameters: the value of the parameter ``name`` (encoded form)."""
    query = _split_uri(_request_uri(message, "@query-param"))["query"] or ""
    values = [_form_encode(value) for key, value in _form_urlencoded_parse(query)
              if _form_encode(key) == name]
    if not values:
        raise SignatureBaseError("@query-param: the named parameter is not in the query")
    # DEVIATION DEV-query-param: §2.2.8 says such a parameter "MUST NOT be included" (and
    # RECOMMENDS @query); asked to cover it anyway, we refuse to build the base at all.
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


# --- RFC 9421 §2.1 HTTP Fields ---------------------------------------------------------------


def _field_component(message: Message, name: str, params: Params,
                     field_types: Mapping[str, str]) -> str:
    """The value of a covered HTTP field, with the sf, key and bs parameters (RFC 9421 §2.1)."""
    if name != name.lower():
        # "the component name for an HTTP field is the lowercased form of its field name"
        raise SignatureBaseError("component name of an HTTP field must be lower case")
    if "tr" in params:
        raise SignatureBaseError("tr: trailer fields are not supported")
    # §2.1 steps 2 and 4: strip each value, join with ", " (obs-fold was replaced on parsing).
    values = [value.strip(" \t") for key, value in message.fields if key == name]
    if not values:
        raise SignatureBaseError(f"{name}: the field is not in the message")
    failure: Optional[SignatureBaseError] = None
    if "bs" in params:  # §2.1.3 Binary-Wrapped HTTP Fields
        if "sf" in params or "key" in params:
            raise SignatureBaseError(f"{name}: bs cannot be combined with sf or key")
        try:
            return ", ".join(":" + b64encode(value.encode("latin-1")) + ":" for value in values)
        except UnicodeEncodeError:
            failure = SignatureBaseError(f"{name}: value has a character outside Latin-1")
        raise failure  # after the try statement: see section 1
    combined = ", ".join(values)
    if "sf" not in params and "key" not in params:
        return combined
    sf_type = field_types.get(name) or KNOWN_FIELD_TYPES.get(name)
    if sf_type is None:
        raise SignatureBaseError(f"{name}: structured type unknown (sf and key need it)")
    try:
        parsed = _parse_structured(combined, sf_type)
    except UsageError as exc:
        failure = SignatureBaseError(f"{name}: not a valid structured field ({exc})")
    if failure is not None:
        raise failure
    if "key" in params:  # §2.1.2 Dictionary Structured Field Members
        key = params["key"]
        if sf_type != "dictionary":
            raise SignatureBaseError(f"{name}: key needs a Dictionary field")
        if not isinstance(key, str) or isinstance(key, Token) or key not in parsed:
            raise SignatureBaseError(f"{name}: the dictionary has no member named by key")
        return serialize_member(parsed[key])
    return _serialize_structured(parsed, sf_type)  # §2.1.1 Strict Serialization


_FIELD_PARAMS = frozenset({"sf", "key", "bs", "req", "tr"})  # §2.1, §2.4, §6.5.2
_DERIVED_PARAMS = frozenset({"req"})  # §2.2, §2.4
_QUERY_PARAM_PARAMS = frozenset({"req", "name"})  # §2.2.8


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
        allowed = _QUERY_PARAM_PARAMS if name == "@query-param" else _DERIVED_PARAMS
        if not params.keys() <= allowed:
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
        if not params.keys() <= _FIELD_PARAMS:
            raise SignatureBaseError(f"{name}: unknown component parameter")
        value = _field_component(target, name, params, field_types or {})
    # The signature base is US-ASCII with one component per line (RFC 9421 §2.5).
    if not _FIELD_VALUE_CHARS_RE.match(value):
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
# The one string that a signer signs and a verifier recreates: a line "<identifier>: <value>"
# per covered component, in the order covered (values from section 6), then the
# "@signature-params" line, whose value is also the Signature-Input value without its label.
# Signing and verifying (section 8) both build it here; any error stops the algorithm.


def _check_signature_params(params: Params) -> None:
    """RFC 9421 §2.3: created and expires are Integers; nonce, alg, keyid and tag Strings."""
    for name, value in params.items():
        if name in ("created", "expires"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise SignatureBaseError(f"{name}: signature parameter must be an Integer")
        elif name in ("nonce", "alg", "keyid", "tag"):
            if not isinstance(value, str) or isinstance(value, Token):
                raise SignatureBaseError(f"{name}: signature parameter must be a String")


def signature_base(message: Message, params: InnerList,
                   request: Optional[Message] = None,
                   field_types: Optional[Mapping[str, str]] = None) -> str:
    """One line per covered component, then @signature-params, no trailing LF.

    ``params`` is the Inner List of RFC 9421 §2.3, as signature_params makes it: the covered
    component identifiers and the signature parameters, in the order given.  Spec: RFC 9421 §2.5.
    """
    # "All errors produced as described MUST fail the algorithm immediately" -- RFC 9421 §2.5
    lines = []
    seen = set()
    for identifier in params.items:
        if identifier.value == "@signature-params":
            raise SignatureBaseError("@signature-params cannot be a covered component")
        # §2.1: "the order of parameters is not significant when comparing two component
        # identifiers for equality checks"
        key = (identifier.value, frozenset(identifier.params.items()))
        # Step 2.1 of RFC 9421 §2.5: "If the component identifier (including its parameters)"
        # RFC 9421 §2.5: "has already been added to the signature base, produce an error."
        if key in seen:
            raise SignatureBaseError("a component identifier is covered twice")
        seen.add(key)
        lines.append(component_line(message, identifier, request, field_types))
    _check_signature_params(params.params)
    # RFC 9421 §2.5: "3. Append the signature parameters component (Section 2.3)"
    lines.append(f'"@signature-params": {serialize_member(params)}')
    return "\n".join(lines)


# =============================================================================
# 8. Signing and verifying: RFC 9421 §3.1, §3.2, §3.3.6, §4.1, §4.2
# =============================================================================
# Signing (sign_message, RFC 9421 §3.1): the covered components and parameters as an Inner List
# (signature_params), the signature base of section 7, Ed25519 over its ASCII bytes (§3.3.6),
# and the Signature-Input (§4.1) and Signature (§4.2) values under one label. Verifying
# (verify_message, §3.2, its steps labelled there): read both fields and choose the label,
# check the parameters and what the application requires, choose the key, recreate the base,
# verify it; then, when content-digest is covered, the digest against the content. A
# SignedRequest (what sign_request returns, section 9) can be verified as the message it sends.


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


def _sign_message(message: Message, key: PrivateKey, params: InnerList, *, label: str,
                  request: Optional[Message],
                  field_types: Optional[Mapping[str, str]]) -> Tuple[str, str, str]:
    """sign_message, also returning the signature base (sign_request keeps it)."""
    # RFC 9421 §3.1: "In order to create a signature, a signer MUST apply the following"
    # algorithm; its steps 1-4 (key and algorithm, created, covered components) are the
    # caller's ``key`` and ``params``; only ed25519 is implemented.
    _check_key(label)
    _check_alg(params.params)
    # Step 5, RFC 9421 §3.1: "The signer creates the signature base using these parameters"
    base = signature_base(message, params, request, field_types)
    # Step 6, RFC 9421 §3.1: "The signer uses the HTTP_SIGN primitive function to sign"
    signature = sign_ed25519(key, base)
    # Step 7, RFC 9421 §3.1: "output value to be included in the Signature field" (§4.2).
    # RFC 9421 §3.1 step 4: "The serialized value of this set is later used as the value of the
    # Signature-Input field": the value of the base's last line, "@signature-params" (§2.5).
    serialized_params = base.rsplit("\n", 1)[-1].partition(": ")[2]
    return f"{label}={serialized_params}", f"{label}=:{b64encode(signature)}:", base


def sign_message(message: Message, key: PrivateKey, params: InnerList, *, label: str = "sig1",
                 request: Optional[Message] = None,
                 field_types: Optional[Mapping[str, str]] = None) -> Tuple[str, str]:
    """Sign ``message``; return the Signature-Input and Signature field values.

    Spec: RFC 9421 §3.1 "Creating a Signature", §4.1, §4.2.
    """
    sig_input, signature, _ = _sign_message(message, key, params, label=label, request=request,
                                            field_types=field_types)
    return sig_input, signature


@dataclass(frozen=True)
class SignedRequest:
    """A signed request ready to send: its method, URL, headers and body bytes, as signed.

    On the wire (Client.send) the transport adds ``Accept-Encoding: identity`` (ours: see
    Client._read) and, with urllib3 1.26 and later, ``User-Agent: python-urllib3/<version>``, and
    ends each line with CRLF (RFC 9112 §2.1); neither header is covered by the signature.
    ``repr()`` shows ``Authorization`` as ``[secure]`` and never the body (it may hold an
    ``interact_ref``); ``signature_base`` is kept for teaching but is also hidden from repr,
    since it contains the Authorization value. ``secrets`` are the secret values the request
    carries (its access token, an interact_ref in its body), never shown in repr: a Client
    blanks them from any server text it puts in an error message.
    """

    method: str
    url: str
    headers: Tuple[Tuple[str, str], ...] = field(repr=False)
    body: bytes = field(repr=False)
    signature_base: str = field(repr=False)
    secrets: Tuple[str, ...] = field(default=(), repr=False)

    def header(self, name: str) -> Optional[str]:
        """The value of header ``name`` (any letter case) as it will be sent, or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def safe_headers(self) -> Dict[str, str]:
        """The headers with Authorization replaced by "[secure]", for logs and reprs."""
        return {k: "[secure]" if k.lower() == "authorization" else v for k, v in self.headers}

    def __repr__(self) -> str:
        return (f"SignedRequest(method={self.method!r}, url={self.url!r}, "
                f"headers={self.safe_headers()!r}, body=<{len(self.body)} bytes>)")

    def to_json(self) -> Dict[str, Any]:
        """The request as one JSON object (the CLI's --dry-run --json), secrets included:
        ``signature_base`` holds the Authorization value too."""
        return {"method": self.method, "url": self.url, "headers": dict(self.headers),
                "body": self.body.decode("utf-8"), "signature_base": self.signature_base}


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
        failure = VerificationError(f"{name}: malformed field")
    raise failure  # after the try statement: see section 1


def _as_message(value: object, what: str) -> Message:
    """A Message, or the request a SignedRequest sends, as a Message."""
    if isinstance(value, SignedRequest):
        return request_message(value.method, value.url, value.headers, value.body)
    if not isinstance(value, Message):
        raise UsageError(f"{what}: expected a Message (parse_message, request_message) or a "
                         "SignedRequest")
    return value


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
    if keyid in keys:
        return keys[keyid]
    if len(keys) == 1 and (keyid is None or None in keys):  # one key, nothing to choose
        return next(iter(keys.values()))
    raise VerificationError("no key for this keyid")


def verify_message(message: Union[Message, SignedRequest],
                   keys: Union[PublicKey, Mapping[Optional[str], PublicKey]],
                   *, label: Optional[str] = None,
                   request: Union[Message, SignedRequest, None] = None,
                   field_types: Optional[Mapping[str, str]] = None,
                   required: Sequence[str] = (), max_age: Optional[int] = None,
                   now: Optional[float] = None) -> VerifiedSignature:
    """Verify one signature on ``message``; raise VerificationError on any failure.

    ``message`` (and ``request``) is a Message (parse_message, request_message) or a
    SignedRequest (sign_request, Client.sign), verified as the request it sends.
    ``keys`` is one key or {keyid: key}; ``required`` names components that must be covered
    (e.g. ``'"@method"'``); ``max_age`` (seconds) requires ``created`` and bounds its age.
    When ``content-digest`` is covered, the digest is checked against the content too.
    Generic: which components, parameters (``tag``, ``created``) and age a signature needs is
    the application's choice (RFC 9421 §1.4, §3.2), so it requires only what ``required`` and
    ``max_age`` name; the verify command adds the Open Payments profile (_profile_problems).
    Spec: RFC 9421 §3.2 "Verifying a Signature".
    """
    # RFC 9421 §3.2: "In order to verify a signature, a verifier MUST apply the following"
    # algorithm, whose steps are numbered below as the RFC numbers them.
    message = _as_message(message, "message")
    request = None if request is None else _as_message(request, "request")
    # Step 1: "Parse the Signature and Signature-Input fields as described in Sections 4.1 and
    # 4.2, and extract the signatures to be verified and their labels."
    inputs = _combined_dictionary(message, "signature-input")
    signatures = _combined_dictionary(message, "signature")
    # Step 1.1: with more than one signature, the caller's ``label`` chooses.
    if label is None:
        if len(inputs) != 1:
            raise VerificationError("several signatures: choose one with a label")
        label = next(iter(inputs))
    # Step 1.2: a Signature without a Signature-Input of the same label is an error.
    sig_input, sig_value = inputs.get(label), signatures.get(label)
    if sig_input is None or sig_value is None:
        raise VerificationError("Signature-Input and Signature have no matching label")
    # Step 2: the Signature-Input value is a parameterized Inner List: covered components and
    # signature parameters.
    if not isinstance(sig_input, InnerList):
        raise VerificationError("Signature-Input member is not an Inner List")
    # Step 3: the Signature value gives the byte array of the signature.
    if not isinstance(sig_value, Item) or not isinstance(sig_value.value, bytes):
        raise VerificationError("Signature member is not a Byte Sequence")
    # Step 4: the signature parameters meet this document's requirements (§2.3) and the
    # application's (``required``, ``max_age``: §3.2.1); an ``alg`` parameter, if present, is
    # checked here too (step 6.4: it must name an algorithm we allow, only ed25519).
    params = sig_input.params
    failure: Optional[VerificationError] = None
    try:
        _check_alg(params)
        _check_signature_params(params)
    except UsageError as exc:  # SignatureBaseError is a UsageError too
        failure = VerificationError(str(exc))
    if failure is not None:
        raise failure
    covered = tuple(serialize_item(item) for item in sig_input.items)
    missing = [name for name in required if name not in covered]
    if missing:
        raise VerificationError("a required component is not covered: " + ", ".join(missing))
    _check_times(params, max_age, time.time() if now is None else now)
    # Step 5: the key material: ``keys`` is the verifier's configuration; a keyid picks one.
    keyid = params.get("keyid")
    keyid = keyid if isinstance(keyid, str) else None  # (a str: _check_signature_params)
    key = _select_key(keys, keyid)
    # Step 6: the algorithm is ed25519, the one this module allows (6.1) and the one the key
    # material determines (6.3); an alg parameter naming another failed at step 4 (6.5).
    # Step 7: "recreate the signature base, using the algorithm defined in Section 2.5"
    try:
        base = signature_base(message, sig_input, request, field_types)
    except SignatureBaseError as exc:
        failure = VerificationError(f"cannot build the signature base: {exc}")
    if failure is not None:
        raise failure
    # Steps 8 and 9: HTTP_VERIFY (§3.3.6, Ed25519) over the recreated base; its result is the
    # result: verify_ed25519 raises VerificationError on a bad signature.
    verify_ed25519(key, base, sig_value.value)
    # Then the content: RFC 9635 §7.3.1: "The verifier MUST validate this field value."
    for item in sig_input.items:
        if item.value == "content-digest":  # RFC 9530 §6.3: check what the signature covers
            target = request if "req" in item.params and request is not None else message
            if "bs" in item.params:  # the component value is the field, byte-wrapped
                digest = ", ".join(v.strip(" \t") for v in target.field_values(item.value))
            else:
                digest = component_value(message, item, request, field_types)
                member = item.params.get("key")
                if isinstance(member, str):  # the value of one member: name it again
                    digest = f"{member}={digest}"
            verify_content_digest(digest, target.body)
    return VerifiedSignature(label, covered, dict(params), keyid, base)


# =============================================================================
# 9. Requests: RFC 9635 §2, §5, §6 as Open Payments profiles them
# =============================================================================
# Every request is signed the way the official SDK (@interledger/http-signature-utils
# createHeaders) signs it, so that the Rafiki AS, which runs the official verifier, accepts it:
#   covered = "@method" "@target-uri" ["authorization"] ["content-digest" "content-length"
#             "content-type"], label sig1, params keyid then created, no alg.

LABEL = "sig1"
COVERED_BASE = ("@method", "@target-uri")
COVERED_AUTHORIZATION = ("authorization",)
COVERED_CONTENT = ("content-digest", "content-length", "content-type")
_METHOD_RE = re.compile(r"[A-Z]+")


def _check_vchars(value: object, what: str) -> str:
    """Tokens, nonces and interact_refs: 1*VCHAR (see _VCHARS_RE), so no SP, CR/LF or NUL can
    split a header or a signature base line (RFC 9110 §5.5, RFC 9421 §2.5). A quote mark at
    either end is refused too: no token68 value (RFC 9635 §3.2.1) has one, but a value copied
    from a .env file often does."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"{what}: must be a non-empty string")
    if not _VCHARS_RE.match(value):
        raise UsageError(f"{what}: must be printable ASCII without spaces or control characters")
    if value[0] in "\"'" or value[-1] in "\"'":
        raise UsageError(f"{what}: is quoted (it begins or ends with a quote mark, as copied "
                         "from a .env file); give the value without the quotes")
    return value


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def json_body(obj: Mapping[str, Any]) -> bytes:
    """Compact JSON, as JavaScript's JSON.stringify writes it.

    DEVIATION DEV-compact-json (interop with Rafiki): the AS checks Content-Digest against
    JSON.stringify(JSON.parse(body)), not the bytes received (RFC 9530 §2 says the content), so
    we send exactly that serialization and the two agree.
    """
    try:
        return _COMPACT_JSON.encode(obj).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: from a "\ud800" escape, or from argv
        failure = UsageError("JSON body: text is not encodable as UTF-8 (lone surrogate)")
    raise failure  # after the try statement: see section 1


# The covered component identifiers of sign_request, by (authorization?, body?): frozen values,
# built once (and serialized once: see _serialized_string).
_COVERED = {
    (auth, content): signature_params(COVERED_BASE + (COVERED_AUTHORIZATION if auth else ())
                                      + (COVERED_CONTENT if content else ()), ()).items
    for auth in (False, True) for content in (False, True)
}


def sign_request(method: str, url: str, *, key: PrivateKey, key_id: str,
                 access_token: Optional[str] = None, body: Optional[bytes] = None,
                 created: Optional[int] = None, allow_http: bool = False,
                 secrets: Sequence[str] = ()) -> SignedRequest:
    """Sign one Open Payments request as the official SDK does (see the section comment): the
    request as a Message (request_message), signed by sign_message's §3.1 steps. ``secrets``
    names the secret values in ``body`` (an interact_ref); with the access token they become
    the SignedRequest's ``secrets``.

    Spec: RFC 9421 §3.1, RFC 9530 §2, RFC 9635 §7.3.1 "HTTP Message Signatures".
    """
    method = method.upper()
    if not _METHOD_RE.fullmatch(method):
        raise UsageError("method: must be letters only")
    url = normalize_url(url, "URL", allow_http)
    _check_key_id(key_id)
    if isinstance(secrets, str) or not all(isinstance(value, str) for value in secrets):
        raise UsageError("secrets: expected a list of strings (not one string)")
    if created is None:
        created = int(time.time())
    elif isinstance(created, bool) or not isinstance(created, int) or created < 0:
        raise UsageError("created: must be a non-negative integer (unix seconds)")
    headers: List[Tuple[str, str]] = []
    if access_token is not None:
        # RFC 9635 §7.2: "The access token MUST be sent using the HTTP "Authorization" ..."
        # RFC 9635 §7.2: "... and the "GNAP" authorization scheme along with a key proof"
        headers.append(("Authorization", "GNAP " + _check_vchars(access_token, "access token")))
    headers += [("Accept", "application/json"), ("Content-Type", "application/json")]
    if body is not None:
        # Content-Digest: RFC 9635 §7.3.1: "When the request message has content, the signer"
        # RFC 9635 §7.3.1: "MUST calculate this field value and include the field in the request."
        # DEVIATION DEV-digest-alg (interop with the official SDK and Rafiki): for the string
        # form of the proof method RFC 9635 §7.3.1 says "the content digest algorithm MUST be
        # sha-256"; Open Payments declares no proof method and its SDK and AS use sha-512.
        headers += [("Content-Length", str(len(body))), ("Content-Digest", content_digest(body))]
    message = request_message(method, url, headers, body or b"")
    # RFC 9635 §7.3.1: "The covered components of the signature MUST include the following:"
    # @method, @target-uri, then content-digest "When the message contains request content",
    # and authorization "When the request is bound to an access token" (_COVERED, above).
    # RFC 9635 §7.3.1: "The signer MUST include the `created` signature parameter"; no alg:
    # RFC 9635 §7.3.1: "The explicit `alg` signature parameter MUST NOT be included"
    # DEVIATION DEV-tag (interop with the official SDK): RFC 9635 §7.3.1 "The signer MUST
    # include the tag signature parameter with the value gnap"; the SDK omits it, and so do we,
    # to stay byte-identical with its requests (Rafiki does not look for it).
    # DEVIATION DEV-nonce (interop with the official SDK): §7.3.1 "The signer SHOULD include the
    # nonce parameter"; the SDK sends none, and neither do we.
    params = InnerList(_COVERED[access_token is not None, body is not None],
                       {"keyid": key_id, "created": created})
    sig_input, signature, base = _sign_message(message, key, params, label=LABEL, request=None,
                                             field_types=None)
    headers += [("Signature-Input", sig_input), ("Signature", signature)]
    token = () if access_token is None else (access_token,)
    return SignedRequest(method, url, tuple(headers), message.body, base,
                         token + tuple(secrets))


def continue_body(interact_ref: Optional[str]) -> Optional[bytes]:
    """RFC 9635 §5.1: {"interact_ref": ...}; no body at all for a poll (§5.2).

    DEVIATION DEV-poll-body (none: listed because Rafiki differs): §5.2 polls "but does not
    include message content", and we send none; Rafiki also accepts ``{}``, as the same poll.
    """
    if interact_ref is None:
        return None
    # == json_body({"interact_ref": ...}); encode_basestring escapes '"' and '\\' as it does
    return ('{"interact_ref":' + json.encoder.encode_basestring(
        _check_vchars(interact_ref, "interact_ref")) + "}").encode("ascii")


def grant_request_body(*, client: str, access: Sequence[Mapping[str, Any]],
                       finish_uri: Optional[str] = None, nonce: Optional[str] = None,
                       allow_http: bool = False) -> Dict[str, Any]:
    """An Open Payments grant request (RFC 9635 §2): access_token.access, client, and, for an
    interactive grant, interact.start ["redirect"] with a finish redirect carrying our nonce.
    The finish URI is checked as every URL is (https, or loopback http with ``allow_http``),
    and sent as given."""
    body: Dict[str, Any] = {"access_token": {"access": [dict(a) for a in access]},
                            "client": normalize_url(client, "client wallet address", True)}
    if finish_uri is not None:
        normalize_url(finish_uri, "finish URI", allow_http)
        body["interact"] = {"start": ["redirect"],
                            "finish": {"method": "redirect", "uri": finish_uri,
                                       "nonce": _check_vchars(nonce, "nonce")}}
    return body


# --- The operations: one builder each, returning the SignedRequest that Client sends ---------
# Each checks its operands by the names the caller knows them by, then signs with sign_request.
# Client's methods send what these return; the CLI's --dry-run prints it.


def _check_operands(url: str, url_what: str, allow_http: bool, token: Optional[str] = None,
                    token_what: Optional[str] = None) -> None:
    """Check an operation's URL and, if it takes one, its token (None too: it must not go
    without Authorization), by the names the caller knows them by."""
    normalize_url(url, url_what, allow_http)
    if token_what is not None:
        _check_vchars(token, token_what)


def grant_request(grant_endpoint: str, body: Mapping[str, Any], *, key: PrivateKey,
                  key_id: str, created: Optional[int] = None,
                  allow_http: bool = False) -> SignedRequest:
    """The grant request: POST ``body`` (see grant_request_body) to the AS's grant endpoint,
    signed without Authorization, since the client has no token yet.  Spec: RFC 9635 §2."""
    _check_operands(grant_endpoint, "grant endpoint", allow_http)
    return sign_request("POST", grant_endpoint, key=key, key_id=key_id, body=json_body(body),
                        created=created, allow_http=allow_http)


def continue_request(uri: str, access_token: str, interact_ref: str, *, key: PrivateKey,
                     key_id: str, created: Optional[int] = None,
                     allow_http: bool = False) -> SignedRequest:
    """Continue after the interaction: POST ``{"interact_ref": ...}`` to the continue URI with
    the continuation token.  Spec: RFC 9635 §5.1.

    ``interact_ref`` is required: None (an unset environment variable, say) raises UsageError;
    continuing without one is poll_request.
    """
    if interact_ref is None:
        raise UsageError("interact_ref: missing (None); continuing without one is polling: "
                         "use poll_request or Client.poll")
    _check_operands(uri, "continue URI", allow_http, access_token, "continue access token")
    # RFC 9635 §5.1: "The client instance MUST include that value as the field `interact_ref`"
    # RFC 9635 §5.1: "in a POST request to the continuation URI."
    # RFC 9635 §5: "the client instance MUST present the continuation access token"
    return sign_request("POST", uri, key=key, key_id=key_id, access_token=access_token,
                        body=continue_body(interact_ref), created=created,
                        allow_http=allow_http, secrets=(interact_ref,))


def poll_request(uri: str, access_token: str, *, key: PrivateKey, key_id: str,
                 created: Optional[int] = None, allow_http: bool = False) -> SignedRequest:
    """Continue while the interaction is pending ("polling"): POST the continue URI with the
    continuation token and no body.  Spec: RFC 9635 §5.2."""
    _check_operands(uri, "continue URI", allow_http, access_token, "continue access token")
    # RFC 9635 §5.2: "POST request to the continuation URI ... does not include message content"
    # (no body=: sign_request then sends no Content-Digest either)
    return sign_request("POST", uri, key=key, key_id=key_id, access_token=access_token,
                        created=created, allow_http=allow_http)


def cancel_request(uri: str, access_token: str, *, key: PrivateKey, key_id: str,
                   created: Optional[int] = None, allow_http: bool = False) -> SignedRequest:
    """Cancel the grant request: DELETE the continue URI with the continuation token.
    Spec: RFC 9635 §5.4."""
    _check_operands(uri, "continue URI", allow_http, access_token, "continue access token")
    # RFC 9635 §5.4: "the client instance makes an HTTP DELETE request to the continuation URI"
    return sign_request("DELETE", uri, key=key, key_id=key_id, access_token=access_token,
                        created=created, allow_http=allow_http)


def rotate_request(manage_url: str, access_token: str, *, key: PrivateKey, key_id: str,
                   created: Optional[int] = None, allow_http: bool = False) -> SignedRequest:
    """Rotate an access token: POST its manage URL with the token.  Spec: RFC 9635 §6.1."""
    _check_operands(manage_url, "manage URL", allow_http, access_token, "access token")
    # RFC 9635 §6.1: "the client instance makes an HTTP POST to the token management URI"
    # RFC 9635 §6.1: "with no message content"
    return sign_request("POST", manage_url, key=key, key_id=key_id, access_token=access_token,
                        created=created, allow_http=allow_http)


def revoke_request(manage_url: str, access_token: str, *, key: PrivateKey, key_id: str,
                   created: Optional[int] = None, allow_http: bool = False) -> SignedRequest:
    """Revoke an access token: DELETE its manage URL with the token.  Spec: RFC 9635 §6.2."""
    _check_operands(manage_url, "manage URL", allow_http, access_token, "access token")
    # RFC 9635 §6.2: "The client instance makes an HTTP DELETE request to the token management"
    # RFC 9635 §6.2: "URI, presenting the access token and signing the request"
    return sign_request("DELETE", manage_url, key=key, key_id=key_id,
                        access_token=access_token, created=created, allow_http=allow_http)


# =============================================================================
# 10. Responses: RFC 9635 §3 "Grant Response", as the Open Payments auth-server OpenAPI shapes it
# =============================================================================
# parse_json reads an answer's bytes as JSON, refusing what RFC 8259 leaves open (duplicate names,
# NaN, huge integers). Then each class validates a parsed JSON value in from_json and raises
# ResponseError naming the JSON path of the first mismatch, never its value. Unknown members
# are tolerated and dropped: RFC 9635 §3 lets extensions add response members (the "GNAP Grant
# Response Parameters" registry) and states no client duty for the ones it does not know, so
# dropping them is our choice; the classes hold every member the Open Payments auth-server
# OpenAPI defines, access items included.


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # RFC 8259 §4: names SHOULD be unique; we refuse, as I-JSON does
            raise ResponseError("body is not valid JSON: a member name occurs twice")
        out[key] = value
    return out


def _reject_constant(name: str) -> None:  # RFC 8259 §6: "NaN and Infinity are not permitted"
    raise ResponseError(f"body is not valid JSON: {name} is no JSON number")


MAX_INTEGER_DIGITS = 20  # a uint64 has 20 digits; Open Payments sends larger amounts as strings


def _bounded_int(text: str) -> int:
    """RFC 8259 §6 lets a parser limit numbers; we refuse a long integer before int() reads it:
    before Python 3.11, int() of a megabyte of digits costs seconds of CPU."""
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ResponseError(f"body is not valid JSON: integer too long "
                            f"(over {MAX_INTEGER_DIGITS} digits)")
    return int(text)


def parse_json(data: bytes) -> Any:
    """Strict JSON (RFC 8259): UTF-8, no duplicate members, no NaN/Infinity, integers of at most
    20 digits; ResponseError."""
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates,
                          parse_constant=_reject_constant, parse_int=_bounded_int)
    except ResponseError as exc:  # from a hook above: it says why
        failure = exc
    except (UnicodeDecodeError, ValueError, RecursionError):
        failure = ResponseError("body is not valid JSON")
    raise failure  # after the try statement: see section 1


MAX_WAIT_SECONDS = 3600  # a larger continue.wait is treated as malformed, not obeyed


def _origin(normalized_url: str) -> str:
    """The origin (scheme, host and port) of a URL that normalize_url returned."""
    scheme, _, rest = normalized_url.partition("://")
    return f"{scheme}://{rest.partition('/')[0]}"


@dataclass(frozen=True)
class _Ctx:
    """How to check the URLs of one response: plain http to loopback or not, and the origins
    they may have (None: any; the Client passes the origin of the URL it called)."""

    allow_http: bool = False
    origins: Optional[Tuple[str, ...]] = None


def _obj(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError("expected an object", path=path)
    return value


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ResponseError("expected a string", path=path)
    return value


def _int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResponseError("expected an integer", path=path)
    return value


def _secret(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or not _VCHARS_RE.match(value):
        raise ResponseError("expected a non-empty printable ASCII token", path=path)
    return value


def _url(value: object, path: str, ctx: _Ctx) -> str:
    """A URL the client will call with a token: https (or loopback http when allowed) and, for
    a Client, on the AS's origin, so that a response cannot send the next signed request, and
    its token, to another host (RFC 9635 §3.1 gives the URI; it says nothing of where)."""
    text = _str(value, path)
    try:
        normalized = normalize_url(text, path, ctx.allow_http)
    except UsageError:
        normalized = ""
    if not normalized:
        raise ResponseError("expected an https URL", path=path)
    if ctx.origins is not None and _origin(normalized) not in ctx.origins:
        raise ResponseError(f"expected a URL on the origin {ctx.origins[0]} (or an allowed "
                            "origin)", path=path)
    return text


@dataclass(frozen=True)
class Amount:
    """Open Payments amount: value (uint64 as a string), assetCode, assetScale."""

    value: str
    assetCode: str
    assetScale: int

    @classmethod
    def from_json(cls, obj: object, path: str) -> Amount:
        """Validate the parsed JSON ``obj`` found at ``path``; ResponseError names the first
        mismatch."""
        o = _obj(obj, path)
        value = _str(o.get("value"), path + ".value")
        if not re.fullmatch(r"[0-9]{1,20}", value) or int(value) >= 1 << 64:
            raise ResponseError("expected an unsigned 64-bit integer string", path=path + ".value")
        scale = _int(o.get("assetScale"), path + ".assetScale")
        if not 0 <= scale <= 255:
            raise ResponseError("expected 0..255", path=path + ".assetScale")
        return cls(value, _str(o.get("assetCode"), path + ".assetCode"), scale)


@dataclass(frozen=True)
class Limits:
    """Open Payments outgoing-payment limits (receiver, debitAmount, receiveAmount, interval)."""

    receiver: Optional[str] = None
    debitAmount: Optional[Amount] = None
    receiveAmount: Optional[Amount] = None
    interval: Optional[str] = None

    @classmethod
    def from_json(cls, obj: object, path: str) -> Limits:
        """Validate the parsed JSON ``obj`` found at ``path``; ResponseError names the first
        mismatch."""
        o = _obj(obj, path)
        amounts = {n: Amount.from_json(o[n], f"{path}.{n}") if n in o else None
                   for n in ("debitAmount", "receiveAmount")}
        receiver = _str(o["receiver"], path + ".receiver") if "receiver" in o else None
        interval = _str(o["interval"], path + ".interval") if "interval" in o else None
        return cls(receiver, amounts["debitAmount"], amounts["receiveAmount"], interval)


ACCESS_ACTIONS = {  # the Open Payments auth-server OpenAPI: access-incoming/-outgoing/-quote
    "incoming-payment": ("create", "complete", "read", "read-all", "list", "list-all"),
    "outgoing-payment": ("create", "read", "read-all", "list", "list-all"),
    "quote": ("create", "read", "read-all"),
}


@dataclass(frozen=True)
class Access:
    """One access right (RFC 9635 §8 "Resource Access Rights", Open Payments access-item)."""

    type: str
    actions: Tuple[str, ...]
    identifier: Optional[str] = None
    limits: Optional[Limits] = None

    @classmethod
    def from_json(cls, obj: object, path: str) -> Access:
        """Validate the parsed JSON ``obj`` found at ``path``: a known type, its known actions,
        an identifier for outgoing-payment; ResponseError names the first mismatch."""
        o = _obj(obj, path)
        kind = _str(o.get("type"), path + ".type")
        if kind not in ACCESS_ACTIONS:
            raise ResponseError("unknown access type", path=path + ".type")
        raw_actions = o.get("actions")
        if not isinstance(raw_actions, list):
            raise ResponseError("expected an array", path=path + ".actions")
        actions = tuple(_str(a, f"{path}.actions[{i}]") for i, a in enumerate(raw_actions))
        for i, action in enumerate(actions):
            if action not in ACCESS_ACTIONS[kind]:
                raise ResponseError("unknown action", path=f"{path}.actions[{i}]")
        identifier = _str(o["identifier"], path + ".identifier") if "identifier" in o else None
        if kind == "outgoing-payment" and identifier is None:
            raise ResponseError("outgoing-payment access needs an identifier", path=path)
        limits = Limits.from_json(o["limits"], path + ".limits") if "limits" in o else None
        return cls(kind, actions, identifier, limits)


def _flags(value: object, path: str) -> Tuple[str, ...]:
    """RFC 9635 §3.2.1 access token flags: distinct strings, "bearer" refused (see AccessToken)."""
    if not isinstance(value, list):
        raise ResponseError("expected an array", path=path)
    flags = tuple(_str(f, f"{path}[{i}]") for i, f in enumerate(value))
    for i, flag in enumerate(flags):
        if flag in flags[:i]:
            raise ResponseError("flag repeated (RFC 9635 section 3.2.1: at most once)",
                                path=f"{path}[{i}]")
        if flag == "bearer":  # RFC 9635 §7.2: "MUST be sent using" Authorization: Bearer
            raise ResponseError("a bearer token, which this client does not present (it signs "
                                "every request; RFC 9635 section 7.2 sends a bearer token "
                                "unsigned, as Authorization: Bearer)", path=f"{path}[{i}]")
    return flags


@dataclass(frozen=True)
class AccessToken:
    """RFC 9635 §3.2.1 "Access Token": value (secret, never shown), manage, expires_in, access,
    flags.

    ``flags`` keeps the AS's flags in order: "durable" (the token may outlive a rotation) and
    any extension flag, as strings; a flag given twice is malformed ("Flag values MUST NOT be
    included more than once"). A "bearer" flag is refused (ResponseError): RFC 9635 §7.2 sends
    a bearer token as ``Authorization: Bearer`` without a signature, which this client never
    does (it presents every token as ``GNAP`` with a signature, the only way the Open Payments
    profile issues and accepts them), so it could not use the token as the RFC requires.
    """

    value: str = field(repr=False)
    manage: str
    access: Tuple[Access, ...]
    expires_in: Optional[int] = None
    flags: Tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: object, path: str = "$.access_token",
                  ctx: _Ctx = _Ctx()) -> AccessToken:
        """Validate the parsed JSON ``obj`` found at ``path``; ``ctx`` says where the manage URL
        may point. ResponseError names the first mismatch, never a value."""
        o = _obj(obj, path)
        value = _secret(o.get("value"), path + ".value")
        # DEVIATION DEV-manage-uri (the Open Payments auth-server OpenAPI): RFC 9635 §3.2.1 and
        # §6 make manage an object (uri, access_token); Open Payments sends a URI string and the
        # access token itself manages the token (rotate, revoke).
        manage = _url(o.get("manage"), path + ".manage", ctx)
        raw_access = o.get("access")
        if not isinstance(raw_access, list):
            raise ResponseError("expected an array", path=path + ".access")
        access = tuple(Access.from_json(a, f"{path}.access[{i}]") for i, a in enumerate(raw_access))
        expires_in = None
        if o.get("expires_in") is not None:
            expires_in = _int(o["expires_in"], path + ".expires_in")
            if expires_in < 0:
                raise ResponseError("expected a non-negative integer", path=path + ".expires_in")
        flags = _flags(o["flags"], path + ".flags") if "flags" in o else ()
        return cls(value, manage, access, expires_in, flags)


@dataclass(frozen=True)
class Continue:
    """RFC 9635 §3.1 "Request Continuation": the continuation token's value (secret), the
    continue URI and the wait (seconds). ``access_token_value`` is the string at
    ``continue.access_token.value``: a Grant's ``access_token`` is an AccessToken object."""

    access_token_value: str = field(repr=False)
    uri: str
    wait: Optional[int] = None

    @classmethod
    def from_json(cls, obj: object, path: str = "$.continue",
                  ctx: _Ctx = _Ctx()) -> Continue:
        """Validate the parsed JSON ``obj`` found at ``path``; ``ctx`` says where the continue URI
        may point. ResponseError names the first mismatch, never a value."""
        o = _obj(obj, path)
        token = _obj(o.get("access_token"), path + ".access_token")
        value = _secret(token.get("value"), path + ".access_token.value")
        uri = _url(o.get("uri"), path + ".uri", ctx)
        wait = None
        if o.get("wait") is not None:
            wait = _int(o["wait"], path + ".wait")
            if not 0 <= wait <= MAX_WAIT_SECONDS:
                raise ResponseError(f"expected 0..{MAX_WAIT_SECONDS} seconds", path=path + ".wait")
        return cls(value, uri, wait)


def _check_response_text(value: object, path: str) -> str:
    text = _str(value, path)
    if not text or not _SF_STRING_CHARS_RE.match(text):  # SP / VCHAR, as an sf-string holds
        raise ResponseError("expected non-empty printable ASCII", path=path)
    return text


@dataclass(frozen=True)
class Interact:
    """RFC 9635 §3.3 "Interaction Modes": the redirect URI and the AS's finish nonce."""

    redirect: str
    finish: str

    @classmethod
    def from_json(cls, obj: object, path: str = "$.interact",
                  ctx: _Ctx = _Ctx()) -> Interact:
        """Validate the parsed JSON ``obj`` found at ``path``; ``ctx`` says where the redirect
        may point. ResponseError names the first mismatch."""
        o = _obj(obj, path)
        return cls(_url(o.get("redirect"), path + ".redirect", ctx),
                   _check_response_text(o.get("finish"), path + ".finish"))


def _access_token_json(token: AccessToken) -> Dict[str, Any]:
    def drop_none(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: drop_none(v) for k, v in obj.items() if v is not None}
        if isinstance(obj, (list, tuple)):
            return [drop_none(v) for v in obj]
        return obj

    from dataclasses import asdict
    out: Dict[str, Any] = {"value": token.value, "manage": token.manage}
    if token.expires_in is not None:
        out["expires_in"] = token.expires_in
    out["access"] = [drop_none(asdict(a)) for a in token.access]
    if token.flags:
        out["flags"] = list(token.flags)
    return out


@dataclass(frozen=True)
class Grant:
    """A grant response (RFC 9635 §3): finalized (access_token) or pending (continue/interact)."""

    access_token: Optional[AccessToken] = None
    continue_: Optional[Continue] = None
    interact: Optional[Interact] = None
    subject: Optional[Tuple[str, ...]] = None  # sub_ids[].id (Open Payments subject grants)

    @property
    def is_finalized(self) -> bool:
        """As the SDK's isFinalizedGrant: an access token was issued."""
        return self.access_token is not None

    @property
    def is_pending(self) -> bool:
        """As the SDK's isPendingGrant: the AS asks for interaction (``interact`` present).

        A continuation answer without access_token or interact ("still pending, poll again")
        is neither: check ``not is_finalized`` and use ``continue_``.
        """
        return self.interact is not None

    @classmethod
    def from_json(cls, obj: object, path: str = "$",
                  ctx: _Ctx = _Ctx()) -> Grant:
        """Validate a parsed grant response (parse_json of the body); ``ctx`` says where its URLs
        may point. ResponseError names the JSON path of the first mismatch, never a value."""
        o = _obj(obj, path)
        token = (AccessToken.from_json(o["access_token"], path + ".access_token", ctx)
                 if "access_token" in o else None)
        cont = (Continue.from_json(o["continue"], path + ".continue", ctx)
                if "continue" in o else None)
        interact = (Interact.from_json(o["interact"], path + ".interact", ctx)
                    if "interact" in o else None)
        subject = None
        if "subject" in o:
            ids = _obj(o["subject"], path + ".subject").get("sub_ids")
            if not isinstance(ids, list) or not ids:
                raise ResponseError("expected a non-empty array", path=path + ".subject.sub_ids")
            subject = tuple(_str(_obj(s, f"{path}.subject.sub_ids[{i}]").get("id"),
                                 f"{path}.subject.sub_ids[{i}].id") for i, s in enumerate(ids))
        if token is None and cont is None and subject is None:
            raise ResponseError("expected access_token, subject or continue", path=path)
        return cls(token, cont, interact, subject)

    def to_json(self) -> Dict[str, Any]:
        """The grant as JSON (the CLI's --json), with the secrets: the user asked for them."""
        out: Dict[str, Any] = {}
        if self.access_token is not None:
            out["access_token"] = _access_token_json(self.access_token)
        if self.continue_ is not None:
            cont: Dict[str, Any] = {"access_token": {"value": self.continue_.access_token_value},
                                    "uri": self.continue_.uri}
            if self.continue_.wait is not None:
                cont["wait"] = self.continue_.wait
            out["continue"] = cont
        if self.interact is not None:
            out["interact"] = {"redirect": self.interact.redirect, "finish": self.interact.finish}
        if self.subject is not None:
            out["subject"] = {"sub_ids": [{"id": s, "format": "uri"} for s in self.subject]}
        return out


def grant_error_from_json(status: int, obj: object) -> Optional[GrantError]:
    """A GNAP error object (RFC 9635 §3.6): {"error": {"code", "description"}} or a bare code
    string; None when ``obj`` is not one."""
    if not isinstance(obj, dict) or "error" not in obj:
        return None
    error = obj["error"]
    code: object = error
    description: object = None
    if isinstance(error, dict):
        code, description = error.get("code"), error.get("description")
        # DEVIATION DEV-error-code (interop with Rafiki): RFC 9635 §3.6 gives every error a
        # code; Rafiki's schema-validation errors carry only a description.
        if code is None and isinstance(description, str):
            code = "unknown"  # Rafiki's schema-validation errors carry only a description
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", code):
        return None
    if not isinstance(description, str):
        description = None
    return GrantError(status, code, description)


# =============================================================================
# 11. Interaction finish: RFC 9635 §4.2 "Interaction Finish Methods"
# =============================================================================
# Our nonce (new_nonce) goes in the grant request's interact.finish (RFC 9635 §2.5.2). The
# user comes back from the AS on the finish URI with ?hash=...&interact_ref=... (§4.2.1).
# Before the interact_ref is used, the hash proves that this redirect answers our grant
# request: it covers our nonce, the AS's nonce, the interact_ref and the grant endpoint
# (§4.2.3). The continuation request (section 9) then carries the interact_ref.


def new_nonce() -> str:
    """A client nonce for interact.finish (RFC 9635 §2.5.2: "unique ... unguessable"): 24 random
    bytes in upper-case hex, as Rafiki writes its nonces. (Not base64url: one in 64 of those
    begins with "-", which a command line then reads as an option.)"""
    return os.urandom(24).hex().upper()


@dataclass(frozen=True)
class InteractionFinish:
    """The redirect the AS sends the user back with (RFC 9635 §4.2.1)."""

    interact_ref: str = field(repr=False)
    hash: str


def parse_finish_redirect(url: str) -> InteractionFinish:
    """Read ``?hash=...&interact_ref=...``; raise GrantError for ``?result=...``.

    Spec: RFC 9635 §4.2.1 "Redirect-Based Interaction Finish"; the result parameter is the
    Open Payments way of saying the user rejected the grant or it was invalid.
    """
    if not isinstance(url, str):
        raise UsageError("finish redirect: must be a string")
    query = _split_uri(url)["query"] or ""
    params: Dict[str, List[str]] = {}
    for name, value in _form_urlencoded_parse(query):
        params.setdefault(name, []).append(value)
    # DEVIATION DEV-finish-result (Open Payments, as Rafiki redirects): RFC 9635 §4.2.3 "The AS
    # MUST always provide this hash"; a ?result= redirect has none, so there is nothing to check
    # and nothing to continue with: we report it as a GrantError.
    if "result" in params:
        result = params["result"][0]
        code = result if result in ("grant_rejected", "grant_invalid") else "unknown_result"
        raise GrantError(None, code, "the interaction finished without approving the grant "
                                     "(finish redirect result)")
    refs, hashes = params.get("interact_ref", []), params.get("hash", [])
    if len(refs) != 1 or len(hashes) != 1:
        raise UsageError("finish redirect: needs exactly one hash and one interact_ref")
    return InteractionFinish(_check_vchars(refs[0], "interact_ref"),
                             _check_vchars(hashes[0], "hash"))


# --- RFC 9635 §4.2.3 Calculating the Interaction Hash ---------------------------------------

HASH_METHODS = {  # RFC 9635 §4.2.3: names from the IANA "Named Information Hash Algorithm" registry
    "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512",
    "sha3-256": "sha3_256", "sha3-384": "sha3_384", "sha3-512": "sha3_512",
}


def interaction_hash(client_nonce: str, server_nonce: str, interact_ref: str,
                     grant_endpoint: str, hash_method: str = "sha-256") -> str:
    """The interaction hash, unpadded base64url.  Spec: RFC 9635 §4.2.3.

    "the client nonce, the AS nonce, the interaction reference, and the grant endpoint URI ...
    concatenated ... separated by a single newline character" -- RFC 9635 §4.2.3

    ``grant_endpoint`` is used as given: pass the URI the grant request was sent to, which for
    Client.request_grant is normalize_url(url) (``https://auth.example/``, not
    ``https://auth.example``); the hash and finish commands normalize it so. Each input must be
    an ASCII string: another raises UsageError naming the input, never its value.
    """
    algorithm = HASH_METHODS.get(hash_method)
    if algorithm is None:
        raise UsageError("unsupported hash_method")
    inputs = {"client nonce": client_nonce, "server nonce": server_nonce,
              "interact_ref": interact_ref, "grant endpoint": grant_endpoint}
    for name, value in inputs.items():
        if not isinstance(value, str) or not value.isascii():
            raise UsageError(f"{name}: must be an ASCII string (RFC 9635 section 4.2.3 hashes "
                             "the ASCII encoding)")
    base = "\n".join(inputs.values())
    # "hashes the bytes of the ASCII encoding of this string" -- RFC 9635 §4.2.3, then
    # RFC 9635 §4.2.3: "encoded using URL-Safe Base64 with no padding"
    return b64url_encode(hashlib.new(algorithm, base.encode("ascii")).digest())


def verify_interaction_hash(received: str, client_nonce: str, server_nonce: str,
                            interact_ref: str, grant_endpoint: str, *,
                            hash_method: str = "sha-256") -> None:
    """Raise VerificationError unless ``received`` is the hash, compared in constant time;
    UsageError for an input interaction_hash refuses (not ASCII).

    DEVIATION DEV-hash-encoding (interop with Rafiki): RFC 9635 §4.2.3 encodes the hash as
    unpadded base64url; the deployed Rafiki AS sends standard base64 with padding. Both
    encodings are accepted.
    """
    expected = b64url_decode(interaction_hash(client_nonce, server_nonce, interact_ref,
                                              grant_endpoint, hash_method), "hash")
    got = b""
    if isinstance(received, str):
        if re.fullmatch(_BASE64URL + "+", received) and len(received) % 4 != 1:
            # (a length of 4n+1 is no base64 at all: binascii would raise, not compare)
            got = base64.urlsafe_b64decode(received + "=" * (-len(received) % 4))
        elif re.fullmatch(_BASE64 + "+={0,2}", received) and len(received) % 4 == 0:
            got = base64.b64decode(received)
    # RFC 9635 §4.2.3: "the client instance MUST validate the hash when received"
    if not hmac.compare_digest(got, expected):
        raise VerificationError("interaction hash does not match; refusing to continue")


# =============================================================================
# 12. Client: the only I/O (requests, imported lazily)
# =============================================================================
# One request per call. Nothing is retried: a continuation POST carries a single-use
# interact_ref (RFC 9635 §5.1), and any request may change state at the AS. Redirects are never
# followed, a timeout always applies, and the decoded body is capped.

DEFAULT_TIMEOUT = 10.0  # seconds, connect and each read; also the cap on reading the body
DEFAULT_MAX_RESPONSE_BYTES = 1 << 20
DEFAULT_WAIT = 5  # RFC 9635 §3.1: "omission of the value MUST be interpreted as five seconds"
MIN_POLL_INTERVAL = 1  # poll_until_done never polls more often, whatever "wait" says


def _redact(text: str, secrets: Iterable[str]) -> str:
    """Server-supplied text for an error message: printable, short, our secrets blanked.

    A secret is blanked in any letter case and percent-encoded as urllib's quote and quote_plus
    write it: a server may echo what it received lower-cased, upper-cased or URL-encoded."""
    from urllib.parse import quote, quote_plus

    forms = {form for secret in secrets if secret
             for form in (secret, quote(secret), quote_plus(secret))}
    if forms:  # longest first, so that no shorter secret inside a longer one leaves a remnant
        pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
        text = re.sub(pattern, "[secure]", text, flags=re.IGNORECASE)
    text = "".join(c if " " <= c <= "~" else "?" for c in text)
    return text[:200]


def _check_private_key(key: object) -> None:
    """A Client or GnapAuth needs a PrivateKey object; a path or PEM text is a common mistake."""
    if not isinstance(key, PrivateKey):
        hint = "load_private_key(path), or PrivateKey.from_pem(text)"
        raise UsageError(f"key: expected a PrivateKey, not {type(key).__name__}; use {hint}")


def _allowed_origin(text: object, allow_http: bool) -> str:
    url = normalize_url(text, "allowed origin", allow_http)
    if url != _origin(url) + "/":
        raise UsageError("allowed origin: expected scheme://host[:port] only")
    return _origin(url)


_DEADLINE_GRACE = 0.25  # seconds past the timeout, so that a plain read timeout is named as one
_MAY_BE_SPENT = "the request may have reached the server; an interact_ref sent with it may be spent"


def _shutdown(sock: Any) -> None:
    """Shut a socket down from another thread: a blocked recv or send returns at once. The
    plain socket method, so that a TLS socket's state is left to the thread that uses it."""
    import socket

    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed, or never connected


class _Exchange:
    """One request in flight: the connections it opened or reused, whether any byte of the
    request was sent, and whether the deadline passed (then every socket is shut down)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: List[Any] = []  # urllib3 connections, each with its _op_socket
        self.sent = False
        self.expired = False

    def add(self, connection: Any) -> None:
        with self.lock:
            self.connections.append(connection)
            if self.expired:
                _shutdown(connection._op_socket)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for connection in self.connections:
                _shutdown(connection._op_socket)

    def close(self) -> None:
        """After a failure: close the connections, so that no pool reuses them and no socket
        waits for the garbage collector (urllib3 1.26 pools a connection whose body ended
        early)."""
        for connection in self.connections:
            connection.close()


_EXCHANGE = threading.local()  # the exchange the current thread is sending, for the hooks below


class _TrackedConnection:
    """Mixed into urllib3's connection classes: report each new socket, and the first byte
    sent, to the current thread's exchange."""

    _op_socket: Any = None  # the TCP socket, under any TLS layer
    _op_tunnelling = False  # sending a proxy's CONNECT, not the request

    def _new_conn(self) -> Any:
        self._op_socket = super()._new_conn()  # type: ignore[misc]
        exchange = getattr(_EXCHANGE, "current", None)
        if exchange is not None:
            exchange.add(self)
        return self._op_socket

    def _tunnel(self) -> None:  # http.client sends a proxy's CONNECT through send() too
        self._op_tunnelling = True
        try:
            super()._tunnel()  # type: ignore[misc]
        finally:
            self._op_tunnelling = False

    def send(self, data: Any) -> None:
        if getattr(self, "sock", None) is None:  # http.client connects on the first send
            self.connect()  # type: ignore[attr-defined]
        exchange = getattr(_EXCHANGE, "current", None)
        if exchange is not None and not self._op_tunnelling:
            if self not in exchange.connections:  # a connection kept alive from before
                exchange.add(self)
            exchange.sent = True
        super().send(data)  # type: ignore[misc]


_ADAPTER_CLASS: List[Any] = []


def _adapter_class() -> Any:
    """requests' HTTPAdapter, never retrying, whose pools make _TrackedConnection sockets.
    Built on first use, as requests is imported only when a request is sent."""
    if not _ADAPTER_CLASS:
        import requests.adapters

        def tracked(manager: Any) -> Any:
            classes = {}
            for scheme, pool in manager.pool_classes_by_scheme.items():
                conn = type(pool.ConnectionCls.__name__, (_TrackedConnection, pool.ConnectionCls),
                            {})
                classes[scheme] = type(pool.__name__, (pool,), {"ConnectionCls": conn})
            manager.pool_classes_by_scheme = classes
            return manager

        class Adapter(requests.adapters.HTTPAdapter):
            def __init__(self) -> None:  # max_retries=0: never re-send (RFC 9635 §5.1)
                super().__init__(max_retries=0)

            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                super().init_poolmanager(*args, **kwargs)
                tracked(self.poolmanager)

            def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
                known = set(self.proxy_manager)
                manager = super().proxy_manager_for(*args, **kwargs)
                return manager if args[0] in known else tracked(manager)

        _ADAPTER_CLASS.append(Adapter)
    return _ADAPTER_CLASS[0]


def _connection_settings(session: Any, url: str) -> Dict[str, Any]:
    """verify, cert and proxies for one request: from the caller's session if any, never from
    the environment, except proxies when the session trusts it (requests' default). A plain-http
    (loopback) request never goes through a proxy."""
    import requests.utils

    verify, cert, proxies, trust_env = True, None, {}, True
    if session is not None:
        verify, cert = session.verify, session.cert
        proxies, trust_env = dict(session.proxies or {}), session.trust_env
    if not url.startswith("https:"):
        return {"verify": verify, "cert": cert, "proxies": {}}
    if trust_env:
        found = requests.utils.get_environ_proxies(url, no_proxy=proxies.get("no_proxy"))
        for scheme, proxy in found.items():
            proxies.setdefault(scheme, proxy)
    return {"verify": verify, "cert": cert, "proxies": proxies}


def _poll_wait(wait: Optional[int]) -> int:
    """The seconds to sleep before the next poll: the AS's wait, DEFAULT_WAIT when it gave
    none, and never under MIN_POLL_INTERVAL, so a "wait": 0 cannot make a busy loop."""
    return DEFAULT_WAIT if wait is None else max(wait, MIN_POLL_INTERVAL)


def _transport_error(exc: BaseException, exchange: _Exchange) -> TransportError:
    """Map a failure of the transport to TransportError. ``request_sent`` is False only when no
    byte of the request left (no connection, refused, name unknown, TLS handshake failed)."""
    kind = type(exc).__name__
    if exchange.sent:
        return TransportError(f"{kind}: {_MAY_BE_SPENT}", request_sent=True)
    return TransportError(f"{kind}: could not connect; nothing was sent", request_sent=False)


def _interpret(status: int, content_type: str, data: bytes, secrets: Sequence[str],
               empty: bool) -> Any:
    """Turn an HTTP answer into parsed JSON, or raise GrantError / ResponseError."""
    if 300 <= status < 400:
        raise ResponseError(f"unexpected redirect (HTTP {status}); redirects are never followed",
                            path=None, status=status)
    media = content_type.partition(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    obj: Any = None
    if data and is_json:
        try:
            obj = parse_json(data)
        except ResponseError:
            if status < 400:
                raise
            obj = None
    if status >= 400 or (isinstance(obj, dict) and "error" in obj):
        error = grant_error_from_json(status, obj)
        if error is not None:
            code = error.code  # (printable and short: _redact changes it only to blank a secret)
            if _redact(code, secrets) != code:
                code = "unknown"  # an echoed secret is no error code
            description = _redact(error.description, secrets) if error.description else None
            raise GrantError(status, code, description)
        what = "JSON" if obj is not None else (
            media if re.fullmatch(r"[a-z0-9.+/-]{1,64}", media) and _redact(media, secrets) == media
            else "unknown content")
        raise ResponseError(f"HTTP {status} without a GNAP error object ({what})",
                            path=None, status=status)
    if empty and status in (200, 202, 204):
        return None
    if status != 200:
        raise ResponseError(f"unexpected HTTP status {status}", path=None, status=status)
    if not is_json:
        raise ResponseError("body is not JSON (Content-Type is not application/json)",
                            path="$", status=status)
    if obj is None:
        raise ResponseError("empty body", path="$", status=status)
    return obj


class Client:
    """Open Payments grant client: signs with ``key`` under ``key_id`` and sends with requests.

    Each request goes through the Client's own requests adapter: sent once (never retried),
    redirects never followed, no cookies kept, no netrc, uncompressed, and bounded by
    ``timeout`` seconds in all. From a caller's ``session`` (a requests.Session) it takes only
    ``verify``, ``cert`` and ``proxies`` (and, when ``session.trust_env``, the proxy
    environment variables); the environment never changes certificate verification.
    ``allow_http`` permits plain http to loopback hosts only. URLs in a response (continue
    URI, manage URL) must have the origin of the request, or one of ``allowed_origins``.

    The Client remembers the ``wait`` of each grant response it parses (DEFAULT_WAIT when the
    response gives none: RFC 9635 §3.1 reads an omitted wait as five seconds), by continue URI
    and continuation token: ``continue_grant``, ``poll`` and ``cancel`` called sooner raise
    TooSoonError and send nothing; ``poll_until_done`` sleeps instead. A continue URI and token
    it did not get itself (from another process, say) are the caller's to time.
    """

    def __init__(self, key: PrivateKey, key_id: str, *, session: Any = None,
                 timeout: float = DEFAULT_TIMEOUT, allow_http: bool = False,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
                 allowed_origins: Iterable[str] = ()) -> None:
        _check_private_key(key)
        _check_key_id(key_id)
        if isinstance(timeout, bool) or not (isinstance(timeout, (int, float))
                                             and 0 < timeout <= 600):
            raise UsageError("timeout: expected seconds in (0, 600]")
        if (isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int)
                or max_response_bytes < 1):
            raise UsageError("max_response_bytes: expected a positive integer")
        if isinstance(allowed_origins, str):
            raise UsageError("allowed_origins: expected a list of origins, not one string")
        self.key, self.key_id = key, key_id
        self.timeout, self.allow_http = float(timeout), allow_http
        self.max_response_bytes = max_response_bytes
        self.allowed_origins = tuple(_allowed_origin(o, allow_http) for o in allowed_origins)
        self._session = session
        self._adapter: Any = None
        self.clock = time.monotonic
        self.sleep = time.sleep
        # (continue URI, sha-256 of its token) -> the self.clock() time it may be called again
        self._not_before: Dict[Tuple[str, str], float] = {}

    def __repr__(self) -> str:
        return f"Client(key_id={self.key_id!r}, key=<secret>)"

    # --- building any request ---

    def sign(self, method: str, url: str, *, access_token: Optional[str] = None,
             body: Optional[bytes] = None, created: Optional[int] = None) -> SignedRequest:
        """Sign any request with this Client's key, send nothing: see sign_request; ``send``
        sends it once. The grant operations below have a builder each (section 9)."""
        return sign_request(method, url, key=self.key, key_id=self.key_id,
                            access_token=access_token, body=body, created=created,
                            allow_http=self.allow_http)

    # --- the operations: each sends what its builder (section 9) returns ---

    def request_grant(self, grant_endpoint: str, body: Mapping[str, Any],
                      created: Optional[int] = None) -> Grant:
        """Send grant_request (RFC 9635 §2)."""
        return self._grant(grant_request(grant_endpoint, body, **self._signing(created)))

    def continue_grant(self, uri: str, access_token: str, interact_ref: str,
                       created: Optional[int] = None) -> Grant:
        """Send continue_request (RFC 9635 §5.1): continue after interaction with the
        interact_ref. Never retried. ``interact_ref`` is required: None raises UsageError
        before any I/O; continuing without one is ``poll``."""
        # DEVIATION DEV-ref-replay (Rafiki differs): RFC 9635 §5.1 answers a reused interact_ref
        # with too_many_attempts; Rafiki says 401 request_denied. Both arrive as a GrantError
        # with the AS's code, and we never send an interact_ref twice (no retries).
        signed = continue_request(uri, access_token, interact_ref, **self._signing(created))
        self._check_wait(uri, access_token)
        return self._grant(signed)

    def poll(self, uri: str, access_token: str, created: Optional[int] = None) -> Grant:
        """Send poll_request: continue without interact_ref, "polling" (RFC 9635 §5.2)."""
        signed = poll_request(uri, access_token, **self._signing(created))
        self._check_wait(uri, access_token)
        return self._grant(signed)

    def poll_until_done(self, cont: Continue, *, timeout: float) -> Grant:
        """Poll until the grant is finalized, the AS answers without ``continue``, or ``timeout``
        seconds pass (then the last pending grant is returned). Never polls sooner than
        ``wait``. A GNAP error answer (``too_fast`` included) ends the loop: its GrantError is
        raised, since an error answer carries no new ``continue`` (RFC 9635 §5)."""
        deadline = self.clock() + timeout
        wait = max(_poll_wait(cont.wait), self._wait_left(cont.uri, cont.access_token_value))
        grant = Grant(continue_=cont)
        while self.clock() + wait <= deadline:
            self.sleep(wait)
            # "If the AS does not return a new continue response, the client instance MUST NOT
            # make an additional continuation request" -- RFC 9635 §5: a GrantError propagates
            grant = self.poll(cont.uri, cont.access_token_value)
            if grant.is_finalized or grant.continue_ is None:
                return grant
            # DEVIATION DEV-continue-token (Rafiki differs, we do not): RFC 9635 §5 says the new
            # continuation token "SHOULD be a new access token"; Rafiki never rotates it, and we
            # use the latest one given all the same.
            cont = grant.continue_  # RFC 9635 §5: always use the latest token and URI
            wait = _poll_wait(cont.wait)
        return grant

    def cancel(self, uri: str, access_token: str, created: Optional[int] = None) -> None:
        """Send cancel_request: DELETE the continue URI (RFC 9635 §5.4). It waits as any call
        to the continue URI does (RFC 9635 §3.1: wait is the time "the client instance MUST
        wait after receiving this request continuation response and calling the continuation
        URI")."""
        signed = cancel_request(uri, access_token, **self._signing(created))
        self._check_wait(uri, access_token)
        self._exchange(signed, empty=True)

    def rotate(self, manage_url: str, access_token: str,
               created: Optional[int] = None) -> AccessToken:
        """Send rotate_request: a new value for an access token (RFC 9635 §6.1)."""
        signed = rotate_request(manage_url, access_token, **self._signing(created))
        obj = self._exchange(signed)
        ctx = self._context(signed.url)
        return AccessToken.from_json(_obj(obj, "$").get("access_token"), "$.access_token", ctx)

    def revoke(self, manage_url: str, access_token: str, created: Optional[int] = None) -> None:
        """Send revoke_request: revoke an access token (RFC 9635 §6.2)."""
        self._exchange(revoke_request(manage_url, access_token, **self._signing(created)),
                       empty=True)

    def _signing(self, created: Optional[int]) -> Dict[str, Any]:
        """The keyword arguments of a builder: this Client's key, key id and allow_http."""
        return {"key": self.key, "key_id": self.key_id, "created": created,
                "allow_http": self.allow_http}

    # --- transport ---

    def _grant(self, signed: SignedRequest) -> Grant:
        grant = Grant.from_json(self._exchange(signed), "$", self._context(signed.url))
        if grant.continue_ is not None:
            self._remember_wait(grant.continue_)
        return grant

    # --- the wait between calls to a continue URI (RFC 9635 §3.1, §5) ---

    def _wait_key(self, uri: str, access_token: str) -> Tuple[str, str]:
        """A continue URI and its token (the AS tells grants apart by the two, RFC 9635 §5);
        the token as its hash, so that no token is kept longer than the call that uses it."""
        return (normalize_url(uri, "continue URI", self.allow_http),
                hashlib.sha256(access_token.encode("ascii")).hexdigest())

    def _remember_wait(self, cont: Continue) -> None:
        now = self.clock()
        for key in [key for key, when in self._not_before.items() if when <= now]:
            del self._not_before[key]  # past: nothing left to wait for
        wait = DEFAULT_WAIT if cont.wait is None else cont.wait
        if wait > 0:
            self._not_before[self._wait_key(cont.uri, cont.access_token_value)] = now + wait

    def _wait_left(self, uri: str, access_token: str) -> float:
        """Seconds before ``uri`` may be called with ``access_token``; 0.0 when none is left."""
        if not self._not_before:
            return 0.0
        when = self._not_before.get(self._wait_key(uri, access_token))
        return 0.0 if when is None else max(when - self.clock(), 0.0)

    def _check_wait(self, uri: str, access_token: str) -> None:
        # "the client instance MUST NOT call the continuation URI prior to waiting the number
        # of seconds indicated" -- RFC 9635 §5
        left = self._wait_left(uri, access_token)
        if left > 0:
            raise TooSoonError(left)

    def _context(self, url: str) -> _Ctx:
        """URLs in the answer to a request to ``url`` must be on its origin (or allowed)."""
        return _Ctx(self.allow_http, (_origin(url), *self.allowed_origins))

    def _exchange(self, signed: SignedRequest, empty: bool = False) -> Any:
        status, content_type, data = self.send(signed)
        return _interpret(status, content_type, data, signed.secrets, empty)

    def send(self, signed: SignedRequest) -> Tuple[int, str, bytes]:
        """Send once; return (status, Content-Type, body). TransportError on failure.

        The whole exchange (connect, TLS, send, headers, body) must end within ``timeout``
        seconds: requests' timeout bounds each socket operation only, so a server dripping
        bytes could hold the caller forever. A timer shuts the request's socket down at the
        deadline, which ends any blocked read at once; the exchange runs on the caller's
        thread, so nothing outlives the call.
        """
        import requests

        if self._adapter is None:
            self._adapter = _adapter_class()()
        prepared = requests.PreparedRequest()  # no session: no cookies, netrc or default headers
        prepared.prepare(method=signed.method, url=signed.url,
                         headers={**dict(signed.headers), "Accept-Encoding": "identity"},
                         data=signed.body or None)
        settings = _connection_settings(self._session, signed.url)
        exchange = _Exchange()
        timer = threading.Timer(self.timeout + _DEADLINE_GRACE, exchange.expire)
        timer.daemon = True
        _EXCHANGE.current = exchange
        timer.start()
        response = None
        # Every failure is raised after the try statement, so that no __context__ keeps the
        # requests exception, whose .request holds the Authorization header and the body.
        failure: Optional[Error] = None
        try:
            response = self._adapter.send(prepared, stream=True, timeout=self.timeout,
                                          **settings)
            result = self._read(response)
        except Error as exc:  # a body over the cap, or compressed
            failure = exc
        except Exception as exc:  # whatever requests, urllib3 or the socket raise
            exchange.sent |= response is not None  # an answer began: the request was sent
            failure = _transport_error(exc, exchange)
        finally:
            timer.cancel()
            _EXCHANGE.current = None
            if response is not None:
                response.close()
        if exchange.expired:  # the timer fired: whatever the read saw, the deadline passed
            outcome = _MAY_BE_SPENT if exchange.sent else "nothing was sent"
            failure = TransportError(f"response too slow: deadline passed; {outcome}",
                                     request_sent=exchange.sent)
        if isinstance(failure, TransportError):  # never pooled again, and closed now
            exchange.close()
        if failure is not None:
            raise failure
        return result

    def _read(self, response: Any) -> Tuple[int, str, bytes]:
        # We asked for "identity": a compressed body could inflate far beyond the cap before a
        # chunk reached us on older urllib3 versions, so it is refused, not decoded.
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise ResponseError("compressed body refused (Content-Encoding; we asked for "
                                "identity)", path="$", status=response.status_code)
        data = bytearray()
        for chunk in response.iter_content(65536):
            data += chunk
            if len(data) > self.max_response_bytes:
                raise ResponseError(f"body exceeds {self.max_response_bytes} bytes",
                                    path="$", status=response.status_code)
        return response.status_code, response.headers.get("Content-Type", ""), bytes(data)

    def close(self) -> None:
        """Close the pooled connections (a Client also works again after this)."""
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _refuse_redirect(response: Any, **_kwargs: Any) -> Any:
    """A response hook of GnapAuth: requests would re-send a signed request to the Location
    (keeping Signature, Content-Digest and the body; the token too on the same host)."""
    if response.is_redirect:
        response.close()
        raise ResponseError(f"unexpected redirect (HTTP {response.status_code}); a signed "
                            "request is never re-sent", path=None, status=response.status_code)
    return response


class GnapAuth:
    """requests auth: sign any Open Payments request (GNAP token + RFC 9421 + Content-Digest).

    ``requests.get(url, auth=op_continue.GnapAuth(key, key_id, access_token))``: requests calls
    any callable given as ``auth`` with the prepared request. A JSON body is re-serialized
    compactly before signing (see json_body for why); other bodies are refused.
    It signs for one origin only: ``origin`` ("https://host[:port]"), or else the origin of the
    first request it signs; a request to any other origin is refused (UsageError). A redirect
    answering a signed request is never followed (ResponseError): its token, signature and
    body would go to wherever the Location points. Every argument is checked here, when it is
    made (UsageError), not when the first request is signed.
    """

    def __init__(self, key: PrivateKey, key_id: str, access_token: Optional[str] = None, *,
                 origin: Optional[str] = None, allow_http: bool = False) -> None:
        _check_private_key(key)
        _check_key_id(key_id)
        if access_token is not None:
            _check_vchars(access_token, "access token")
        if not isinstance(allow_http, bool):
            raise UsageError("allow_http: expected True or False")
        self.key, self.key_id, self.allow_http = key, key_id, allow_http
        self.origin = None if origin is None else _allowed_origin(origin, allow_http)
        self._access_token = access_token

    def __repr__(self) -> str:
        return f"GnapAuth(key_id={self.key_id!r}, origin={self.origin!r}, access_token=[secure])"

    def __call__(self, r: Any) -> Any:
        """Sign the prepared request ``r`` in place (requests calls this); return it."""
        body = r.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and not isinstance(body, bytes):
            raise UsageError("GnapAuth: the body must be bytes or str (no streams or files)")
        not_json = False
        if body:
            try:
                body = json_body(parse_json(body))
            except ResponseError:  # (raised below, so that no __context__ keeps the body)
                not_json = True
        if not_json:
            raise UsageError("GnapAuth: the body must be JSON")
        url = normalize_url(r.url, "URL", self.allow_http)
        if self.origin is None:
            self.origin = _origin(url)
        if _origin(url) != self.origin:
            raise UsageError(f"GnapAuth: bound to {self.origin}; refusing to sign a request to "
                             "another origin")
        signed = sign_request(r.method, url, key=self.key, key_id=self.key_id,
                              access_token=self._access_token, body=body or None,
                              allow_http=self.allow_http)
        if body:  # (the signed headers below carry the new Content-Length)
            r.headers.pop("Transfer-Encoding", None)
        r.url = signed.url
        r.body = signed.body if body else None
        r.headers.update(dict(signed.headers))
        r.register_hook("response", _refuse_redirect)
        return r


# =============================================================================
# 13. Linting a request from another client: what the RFCs and the deployed servers say
# =============================================================================
# lint_request reads a signed request made by any client and says, rule by rule, who would
# object to it: "error" when the deployed Open Payments stack (Rafiki and the official verifier,
# @interledger/http-signature-utils) rejects it; "warning" when it is accepted today but is
# outside RFC 9421, RFC 9530 or RFC 9635, or fragile; "note" for a documented Open Payments
# deviation from the RFCs (the table of deviations in the README). Each rule reuses the steps of
# sections 3 to 9 (parse_dictionary, verify_content_digest, signature_base, verify_ed25519,
# normalize_url): lint explains their outcome, it does not compute anything a second way. Only
# JSON.stringify(JSON.parse(body)), the re-serialization Rafiki digests, is new here.
# No finding quotes a header value or the body: the Authorization token and an interact_ref
# never appear in a message.

LINT_SEVERITIES = ("error", "warning", "note")
LINT_REQUEST_KINDS = ("grant", "continue", "poll", "cancel", "rotate", "revoke")
LINT_MAX_AGE = 300  # seconds: how old a signature may be before "created-old" (with ``now``)
LINT_SKEW = 60  # seconds of clock skew "created-future" allows, as verify_message's max_age

# The rules: id -> (severity, source, what it finds). The README's rules table is this table
# (tests/test_docs.py checks both ways). "official verifier" is @interledger/http-signature-utils
# as Rafiki runs it; what both do is observed behaviour, recorded in the project's notes.
LINT_RULES: Dict[str, Tuple[str, str, str]] = {
    "signature-fields": ("error", "RFC 9421 §4.1",
                         "Signature-Input or Signature missing or malformed, or their members "
                         "do not match"),
    "label": ("error", "official verifier",
              "the signature is not labelled sig1, the only label the official verifier reads"),
    "one-signature": ("error", "official verifier",
                      "Signature-Input or Signature has more than one member: the official "
                      "verifier reads each field as one signature"),
    "signature-encoding": ("warning", "RFC 8941 §3.3.5",
                           "the Signature value has no ':' delimiters: Node's lenient base64 "
                           "decoder accepts it, an RFC 8941 Byte Sequence has them"),
    "covered": ("error", "official verifier; RFC 9635 §7.3.1",
                "@method, @target-uri and, when the field is sent, authorization are not all "
                "covered"),
    "covered-content": ("warning", "RFC 9635 §7.3.1",
                        "a request with content does not cover content-digest (MUST), "
                        "content-length and content-type (as the official SDK does)"),
    "component-case": ("error", "official verifier; RFC 9421 §2.1",
                       "a covered component name is not lower case"),
    "keyid": ("error", "official verifier",
              "keyid missing, not a quoted String, or holding ';' or '\"': the official "
              "verifier finds keyid by splitting Signature-Input on ';'"),
    "alg": ("warning", "RFC 9635 §7.3.1", "an alg parameter, which MUST NOT be included"),
    "tag": ("note", "RFC 9635 §7.3.1",
            "no tag=\"gnap\" (a MUST of the RFC; the Open Payments profile sends none)"),
    "nonce": ("note", "RFC 9635 §7.3.1",
              "no nonce (a SHOULD of the RFC; the Open Payments profile sends none)"),
    "created-missing": ("warning", "RFC 9635 §7.3.1",
                        "no created parameter (MUST; the official verifier never checks it)"),
    "created-future": ("warning", "RFC 9421 §3.2",
                       "created is more than 60 s after --now"),
    "created-old": ("warning", "RFC 9635 §7.3.1",
                    "created is more than 300 s before --now"),
    "authorization": ("error", "RFC 9635 §7.2; Rafiki",
                      "Authorization is not the GNAP scheme and the token, or is missing on a "
                      "request made with a token (continue, poll, cancel, rotate, revoke)"),
    "body-not-allowed": ("warning", "RFC 9635 §5.2; RFC 9635 §5.4",
                         "a poll or a cancel (any DELETE) carries content; Rafiki takes {} as "
                         "none"),
    "body-json": ("error", "Rafiki", "the content is not JSON: Rafiki parses every body"),
    "digest-algorithm": ("error", "Rafiki",
                         "Content-Digest uses an algorithm other than sha-256 or sha-512: "
                         "Rafiki answers 500"),
    "digest-json": ("error", "Rafiki",
                    "Content-Digest is over the bytes sent, which are not "
                    "JSON.stringify(JSON.parse(body)): Rafiki digests that re-serialization"),
    "digest-reserialized": ("warning", "RFC 9530 §2",
                            "Content-Digest is over JSON.stringify(JSON.parse(body)), not the "
                            "bytes sent: Rafiki accepts it, RFC 9530 digests the content"),
    "digest-mismatch": ("error", "RFC 9530 §2; Rafiki",
                        "Content-Digest matches neither the content nor its re-serialization"),
    "target-uri": ("warning", "RFC 9635 §3.1",
                   "the target URI is not the URI the AS gave (--expected-uri): another path, "
                   "a trailing slash, another query"),
    "target-uri-form": ("warning", "RFC 9635 §3.1",
                        "the target URI is the URI the AS gave in another form (letter case, "
                        "default port): the AS sees other text than it issued"),
    "keyid-unknown": ("error", "Rafiki",
                      "with --key: keyid names no key of the JWKS (Rafiki answers 400 "
                      "invalid_client)"),
    "signature-key": ("error", "RFC 9421 §3.2",
                      "with --key: the signature verifies with another key of the JWKS than "
                      "keyid names"),
    "signature-target-uri": ("error", "RFC 9421 §2.2.2",
                             "with --key: the signature verifies over another form of "
                             "@target-uri than the request's"),
    "signature": ("error", "RFC 9421 §3.2",
                  "with --key: the signature does not verify (nor over the common variants)"),
}


@dataclass(frozen=True)
class LintFinding:
    """One finding of lint_request: ``severity`` (error, warning, note), the ``rule`` id of
    LINT_RULES, a ``message`` that names fields, never their values, and the ``source``."""

    severity: str
    rule: str
    message: str
    source: str

    def to_json(self) -> Dict[str, str]:
        """The finding as the command line's --format json prints it."""
        return {"severity": self.severity, "rule": self.rule, "message": self.message,
                "source": self.source}


def _finding(rule: str, message: str) -> LintFinding:
    severity, source, _ = LINT_RULES[rule]
    return LintFinding(severity, rule, message, source)


# --- JSON.stringify(JSON.parse(body)), which Rafiki digests -----------------------------------
# JavaScript has one number type, the IEEE 754 double: JSON.parse reads every number as one and
# JSON.stringify writes it in the shortest form that reads back the same (ECMA-262
# Number::toString): 1.0 -> 1, 1e5 -> 100000, 1e21 -> 1e+21, 12345678901234567890 ->
# 12345678901234567000, 1e400 -> Infinity -> null. Object members whose names are array indices
# ("0", "7") come first, in ascending order. A lone surrogate escape is written back escaped.
# Limit: where two shortest digit strings are equally close, ECMA-262 lets an engine choose;
# Python's repr (correctly rounded, as V8's) is taken to agree.

_ARRAY_INDEX_RE = re.compile(r"(0|[1-9][0-9]{0,9})\Z")
_JS_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t"}


def _js_object(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    """A JavaScript object from JSON.parse: a repeated name keeps its first place and its last
    value; array-index names first, ascending (ECMA-262 OrdinaryOwnPropertyKeys)."""
    members: Dict[str, Any] = dict(pairs)
    index = sorted((name for name in members if _ARRAY_INDEX_RE.match(name)
                    and int(name) < 2 ** 32 - 1), key=int)
    return {name: members[name] for name in index + [n for n in members if n not in index]}


def _js_string(text: str) -> str:
    """JSON.stringify of a string: the two-character escapes, \\u00XX for other controls and
    for lone surrogates (ECMA-262 QuoteJSONString)."""
    out = []
    for char in text:
        if char in _JS_ESCAPES:
            out.append(_JS_ESCAPES[char])
        elif char < " " or "\ud800" <= char <= "\udfff":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _js_number(number: float) -> str:
    """ECMA-262 Number::toString for JSON.stringify: NaN and the infinities are null."""
    if not math.isfinite(number):
        return "null"
    if number == 0:
        return "0"  # (-0 too)
    sign = "-" if number < 0 else ""
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0")  # s, k = len(s), n = point: the value is 0.s * 10**n
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        text = (digits[0] + ("." + digits[1:] if k > 1 else "") + "e"
                + ("+" if n - 1 >= 0 else "-") + str(abs(n - 1)))
    return sign + text


def _js_stringify(value: Any) -> str:
    if isinstance(value, dict):
        return ("{" + ",".join(f"{_js_string(k)}:{_js_stringify(v)}" for k, v in value.items())
                + "}")
    if isinstance(value, list):
        return "[" + ",".join(_js_stringify(item) for item in value) + "]"
    if isinstance(value, str):
        return _js_string(value)
    if isinstance(value, float):
        return _js_number(value)
    return {True: "true", False: "false", None: "null"}[value]


def _js_reserialized(body: bytes) -> Optional[bytes]:
    """JSON.stringify(JSON.parse(body)) as UTF-8 bytes, or None if JSON.parse would throw
    (a body nested too deep for this interpreter counts as not JSON)."""
    try:
        value = json.loads(body.decode("utf-8", "replace"), parse_float=float, parse_int=float,
                           parse_constant=_reject_constant, object_pairs_hook=_js_object)
        return _js_stringify(value).encode("utf-8")
    except (ValueError, RecursionError):
        return None


# --- the request line and the fields ----------------------------------------------------------

_GNAP_AUTHORIZATION_RE = re.compile("GNAP " + _TOKEN68)  # RFC 9635 §7.2


def _lint_authorization(message: Message, kind: Optional[str]) -> List[LintFinding]:
    """RFC 9635 §7.2: Authorization: GNAP <token>; every request but a grant has a token."""
    values = message.field_values("authorization")
    if not values:
        needs = kind not in (None, "grant")
        return [_finding("authorization", f"no Authorization field on a {kind} request: "
                                          f"Rafiki answers 401")] if needs else []
    if len(values) == 1 and _GNAP_AUTHORIZATION_RE.fullmatch(values[0]):
        return []
    scheme, space, _ = values[0].partition(" ")  # (the scheme is not shown: it may be a token)
    if len(values) > 1:
        why = "is sent more than once"
    elif not space:
        why = "has no scheme: send 'GNAP ' before the token"
    elif scheme.upper() == "GNAP":
        why = "writes its scheme in another letter case or spacing than 'GNAP ' and the token"
    else:
        why = "uses another scheme than GNAP"
    return [_finding("authorization", f"Authorization {why} (the value is not shown)")]


def _digest_failure(field_value: str, content: bytes) -> Optional[str]:
    """verify_content_digest's complaint, or None when the digest matches ``content``."""
    try:
        verify_content_digest(field_value, content)
    except VerificationError as exc:
        return str(exc)
    return None


def _lint_content(message: Message, kind: Optional[str]) -> List[LintFinding]:
    """The content rules: none on a poll or cancel, JSON, and its Content-Digest."""
    findings: List[LintFinding] = []
    body = message.body
    if not body:
        return findings
    if kind in ("poll", "cancel") or (kind is None and message.method == "DELETE"):
        what = kind or "DELETE"
        findings.append(_finding("body-not-allowed", f"a {what} request carries content "
                                 f"({len(body)} bytes): RFC 9635 sends none"))
    canonical = _js_reserialized(body)
    if canonical is None:
        findings.append(_finding("body-json", "the content is not JSON (as JSON.parse reads "
                                              "it): Rafiki cannot parse it"))
    values = message.field_values("content-digest")
    if not values:
        return findings  # (rule covered-content: a body without a digest)
    field_value = ", ".join(value.strip(" \t") for value in values)
    failure: Optional[LintFinding] = None
    try:
        members = parse_dictionary(field_value)
    except UsageError:
        failure = _finding("digest-mismatch", "Content-Digest is not an RFC 8941 Dictionary")
    if failure is not None:
        return [*findings, failure]
    unsupported = sorted(name for name in members if name not in DIGEST_ALGORITHMS)
    if unsupported:
        findings.append(_finding("digest-algorithm", "Content-Digest uses "
                                 + ", ".join(unsupported) + ": use sha-512 (or sha-256)"))
    if len(unsupported) == len(members):
        return findings
    over_body = _digest_failure(field_value, body)
    over_json = over_body if canonical is None else _digest_failure(field_value, canonical)
    if over_body is None and over_json is not None:
        findings.append(_finding("digest-json", "Content-Digest is over the bytes sent, but "
                                 "they are not compact JSON as JSON.stringify writes it: "
                                 "Rafiki digests its re-serialization and answers 401"))
    elif over_body is not None and over_json is None:
        findings.append(_finding("digest-reserialized", "Content-Digest is over "
                                 "JSON.stringify(JSON.parse(body)), not over the bytes sent"))
    elif over_body is not None:
        findings.append(_finding("digest-mismatch", over_body))
    return findings


def _comparable_uri(uri: str) -> Optional[str]:
    """normalize_url's form of ``uri`` (as the official SDK signs it), or None."""
    try:
        return normalize_url(uri, "URI", allow_http=True)
    except UsageError:
        return None


def _lint_target_uri(message: Message, expected: Optional[str]) -> List[LintFinding]:
    """RFC 9635 §3.1: the client uses the continue URI (the manage URL) exactly as given."""
    target = message.target_uri
    if expected is None or target == expected:
        return []
    comparable = None if target is None else _comparable_uri(target)
    if comparable is not None and comparable == _comparable_uri(expected):
        return [_finding("target-uri-form", "the target URI is the URI the AS gave, written "
                                            "differently (letter case or default port)")]
    parts, wanted = _split_uri(target or ""), _split_uri(expected)
    got, want = parts["path"] or "/", wanted["path"] or "/"
    same_elsewhere = all(parts[part] == wanted[part] for part in ("scheme", "authority", "query"))
    if same_elsewhere and got.rstrip("/") == want.rstrip("/") and got != want:
        if not (wanted["path"] or "").endswith("/"):  # as written: "" has no trailing slash
            why = "a trailing slash where the URI the AS gave has none"
        elif not (parts["path"] or "").endswith("/"):
            why = "no trailing slash where the URI the AS gave has one"
        else:
            more = "more" if len(got) > len(want) else "fewer"
            why = f"{more} trailing slashes than the URI the AS gave"
        return [_finding("target-uri", f"the target URI has {why}")]
    return [_finding("target-uri", "the target URI is not the URI the AS gave")]


# --- the signature fields and parameters --------------------------------------------------------

_UNDELIMITED_RE = re.compile(rf"({_SF_KEY})=({_BASE64}+={{0,2}})\Z")


def _lint_signature_fields(message: Message) -> Tuple[
        Message, Optional[Tuple[InnerList, bytes]], List[LintFinding]]:
    """Signature-Input and Signature: one member each, labelled sig1, matching.  Returns the
    message (with a Signature value lacking its ':' delimiters repaired, so that the other
    rules can run), the signature to lint (its Inner List and bytes), and the findings."""
    findings: List[LintFinding] = []
    signature_values = message.field_values("signature")
    undelimited = _UNDELIMITED_RE.fullmatch(", ".join(signature_values).strip(" \t"))
    if undelimited:
        findings.append(_finding("signature-encoding", "the Signature value is base64 without "
                                 "the ':' delimiters of a Byte Sequence: write sig1=:...:"))
        repaired = f"{undelimited.group(1)}=:{undelimited.group(2)}:"
        message = Message(message.method, message.target_uri, message.request_target, None,
                          tuple((n, repaired if n == "signature" else v)
                                for n, v in message.fields), message.body)
    parsed: List[Dict[str, Member]] = []
    for name in ("signature-input", "signature"):
        try:
            parsed.append(_combined_dictionary(message, name))
        except VerificationError as exc:
            findings.append(_finding("signature-fields", str(exc)))
    if len(parsed) < 2:
        return message, None, findings
    inputs, signatures = parsed
    for name, members in (("Signature-Input", inputs), ("Signature", signatures)):
        if len(members) > 1:
            findings.append(_finding("one-signature", f"{name} has {len(members)} members; "
                                     f"send only sig1"))
    label = LABEL if LABEL in inputs else next(iter(inputs), None)
    if label != LABEL:
        findings.append(_finding("label", "Signature-Input has no member sig1: Rafiki reads "
                                          "only sig1 and answers 401 invalid_client"))
    sig_input = inputs.get(label or "")
    signature = signatures.get(label or "")
    if (not isinstance(sig_input, InnerList) or not isinstance(signature, Item)
            or not isinstance(signature.value, bytes)):
        findings.append(_finding("signature-fields", "Signature-Input and Signature have no "
                                 "matching member (an Inner List and a Byte Sequence)"))
        return message, None, findings
    return message, (sig_input, signature.value), findings


def _lint_covered(message: Message, sig_input: InnerList) -> List[LintFinding]:
    """The covered components the official verifier requires (RFC 9635 §7.3.1 requires the same
    and content-digest with content), in lower case (RFC 9421 §2.1)."""
    findings: List[LintFinding] = []
    names = [item.value for item in sig_input.items if isinstance(item.value, str)]
    for name in names:
        if name != name.lower():
            findings.append(_finding("component-case", f"the covered component {name!r} is "
                                     f"not lower case: the official verifier does not find it"))
    covered = set(names)
    required = COVERED_BASE + (COVERED_AUTHORIZATION
                               if message.field_values("authorization") else ())
    missing = [name for name in required if name not in covered]
    if missing:
        findings.append(_finding("covered", "not covered: " + ", ".join(missing)
                                 + ": Rafiki answers 401 invalid_client"))
    if message.body:
        problems = [f"{name} is not covered" for name in COVERED_CONTENT if name not in covered]
        if not message.field_values("content-digest"):
            problems.append("there is no Content-Digest field")
        if problems:
            findings.append(_finding("covered-content", "the request has content, but "
                                     + "; ".join(problems)))
    return findings


def _lint_params(params: Params, now: Optional[float], max_age: int) -> List[LintFinding]:
    """The signature parameters: RFC 9635 §7.3.1 and what the official verifier can read."""
    findings: List[LintFinding] = []
    keyid = params.get("keyid")
    if not isinstance(keyid, str) or isinstance(keyid, Token):
        what = ("a Token (unquoted)" if isinstance(keyid, Token)
                else "missing" if keyid is None else "not a String")
        findings.append(_finding("keyid", f"keyid is {what}: write keyid=\"<kid>\""))
    elif ";" in keyid or '"' in keyid:
        findings.append(_finding("keyid", "keyid holds ';' or '\"': the official verifier "
                                          "splits Signature-Input on ';' and cannot find it"))
    if "alg" in params:
        findings.append(_finding("alg", "an alg parameter: the RFC says it MUST NOT be included "
                                        "(the key's JWK names the algorithm)"))
    if params.get("tag") != "gnap":
        findings.append(_finding("tag", "no tag=\"gnap\" parameter: the RFC requires it, the "
                                        "Open Payments profile sends none"))
    if "nonce" not in params:
        findings.append(_finding("nonce", "no nonce parameter: the RFC recommends one, the "
                                          "Open Payments profile sends none"))
    created = params.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        findings.append(_finding("created-missing", "no created Integer parameter: the age "
                                                    "of the signature cannot be checked"))
    elif now is not None and created > now + LINT_SKEW:
        findings.append(_finding("created-future", f"created is {int(created - now)} s after "
                                                   f"--now: is the signer's clock right?"))
    elif now is not None and now - created > max_age:
        findings.append(_finding("created-old", f"created is {int(now - created)} s before "
                                                f"--now (more than {max_age} s)"))
    return findings


# --- with the client's keys: the signature ----------------------------------------------------


def _verifies(key: PublicKey, base: str, signature: bytes) -> bool:
    try:
        verify_ed25519(key, base, signature)
    except VerificationError:
        return False
    return True


def _target_uri_variants(message: Message) -> List[Tuple[str, str]]:
    """The forms of the target URI a client commonly signs by mistake: (what, URI)."""
    target = message.target_uri or ""
    parts = _split_uri(target)
    scheme, authority = parts["scheme"] or "", parts["authority"] or ""
    path, query = parts["path"] or "", parts["query"]
    rest = "" if query is None else "?" + query
    port = DEFAULT_PORTS.get(scheme.lower())
    host = _PORT_SUFFIX_RE.sub("", authority)
    toggled = path[:-1] if path.endswith("/") else path + "/"  # ("/" -> no path at all)
    variants = [
        ("with the trailing slash toggled", f"{scheme}://{authority}{toggled}{rest}"),
        ("without the default port", f"{scheme}://{host}{path}{rest}"),
        ("with the default port", f"{scheme}://{host}:{port}{path}{rest}" if port else ""),
        ("without the query", f"{scheme}://{authority}{path}"),
        ("with http for https", f"http://{authority}{path}{rest}"),
        ("as the request target alone", message.request_target or ""),
        ("in the WHATWG form", _comparable_uri(target) or ""),
    ]
    seen = {target, ""}
    out = []
    for description, uri in variants:
        if uri not in seen:
            seen.add(uri)
            out.append((description, uri))
    return out


def _signature_failure(message: Message, sig_input: InnerList, value: bytes,
                       candidates: List[PublicKey],
                       keyring: Mapping[Optional[str], PublicKey]) -> Optional[LintFinding]:
    """None if a ``candidates`` key verifies the signature, else what the failure fits."""
    try:
        base = signature_base(message, sig_input)
    except SignatureBaseError as exc:
        return _finding("signature", f"cannot build the signature base: {exc}")
    if candidates and _verifies(candidates[0], base, value):
        return None
    for kid, key in keyring.items():
        if key not in candidates and _verifies(key, base, value):
            return _finding("signature-key", f"the signature verifies with the key {kid!r}, "
                                             f"not the one keyid names")
    for description, uri in _target_uri_variants(message):
        variant = Message(message.method, uri, message.request_target, None, message.fields,
                          message.body)
        try:
            variant_base = signature_base(variant, sig_input)  # (only @target-uri changed)
        except SignatureBaseError:  # the path alone has no @authority or @scheme to cover
            continue
        if any(_verifies(key, variant_base, value) for key in candidates or keyring.values()):
            return _finding("signature-target-uri", f"the signature verifies over @target-uri "
                                                    f"{description}: {uri}")
    return _finding("signature", "the signature does not verify (nor over the common variants "
                                 "of @target-uri)")


def _lint_verify(message: Message, signature: Tuple[InnerList, bytes],
                 keys: Union[PublicKey, Mapping[Optional[str], PublicKey]]) -> List[LintFinding]:
    """Verify as RFC 9421 §3.2 does (signature_base, verify_ed25519); on failure, say which of
    the common mistakes the signature fits: another key of the JWKS, another @target-uri."""
    sig_input, value = signature
    keyid = sig_input.params.get("keyid")
    keyring: Dict[Optional[str], PublicKey] = (
        {None: keys} if isinstance(keys, PublicKey) else dict(keys))
    findings: List[LintFinding] = []
    try:
        candidates = [_select_key(keys, keyid if isinstance(keyid, str) else None)]
    except VerificationError:
        findings.append(_finding("keyid-unknown", "keyid names no key of the given keys "
                                                  "(JWKS)"))
        candidates = []
    failure = _signature_failure(message, sig_input, value, candidates, keyring)
    return findings if failure is None else [*findings, failure]


def lint_request(message: Union[Message, SignedRequest],
                 keys: Union[PublicKey, Mapping[Optional[str], PublicKey], None] = None, *,
                 request_kind: Optional[str] = None, now: Optional[float] = None,
                 expected_uri: Optional[str] = None,
                 max_age: int = LINT_MAX_AGE) -> List[LintFinding]:
    """The findings of LINT_RULES on a signed Open Payments request: errors, then warnings,
    then notes, each in the order of LINT_RULES.

    ``keys`` (one key, or {keyid: key} as load_public_key gives) also verifies the signature
    and explains a failure; ``request_kind`` (LINT_REQUEST_KINDS) enables the rules that depend
    on it (without it: a DELETE is taken as a cancel, a request with no Authorization as a
    grant); ``now`` (unix seconds) checks ``created``; ``expected_uri`` is the URI the AS gave
    (the continue URI, the manage URL), compared with the target URI.
    Spec: RFC 9421 §3.2, RFC 9530 §2, RFC 9635 §7.3.1, and the deployed servers' behaviour.
    """
    message = _as_message(message, "message")
    if request_kind is not None and request_kind not in LINT_REQUEST_KINDS:
        raise UsageError("request kind: one of " + ", ".join(LINT_REQUEST_KINDS))
    if not message.is_request:
        raise UsageError("message: lint reads a request, not a response")
    findings = _lint_authorization(message, request_kind)
    findings += _lint_content(message, request_kind)
    findings += _lint_target_uri(message, expected_uri)
    message, signature, more = _lint_signature_fields(message)
    findings += more
    if signature is not None:
        sig_input, _ = signature
        findings += _lint_covered(message, sig_input)
        findings += _lint_params(sig_input.params, now, max_age)
        if keys is not None:
            findings += _lint_verify(message, signature, keys)
    order = list(LINT_RULES)
    return sorted(findings, key=lambda finding: (LINT_SEVERITIES.index(finding.severity),
                                                 order.index(finding.rule)))


# =============================================================================
# 14. Command line: op-continue (or python op_continue.py)
# =============================================================================
# Offline subcommands (base, sign, verify, lint, digest, keygen, jwk, hash, finish, example)
# never import requests. Secrets (tokens, interact_ref, the finish redirect that carries it) come
# from the environment, a file or stdin, never from argv: argv lands in shell history, `ps` and
# CI logs.
# An option that would carry one is refused by name, and no error ever echoes an argument.
# Each command reads the names the previous one prints (``--format env`` prints them as
# ``export NAME='value'`` lines), so one shell session runs the whole flow (README).

_EXIT_HELP = """exit codes: 0 ok (also an interactive grant that awaits the user),
  1 invalid (verify, lint, hash --verify, finish), 2 usage (also: PyNaCl or requests missing),
  3 still pending, 4 GNAP error, 5 malformed response, 6 transport error"""

_ENV_HELP = """environment (names as in the Open Payments docs):
  CONTINUE_URI, CONTINUE_ACCESS_TOKEN, INTERACT_REF, PRIVATE_KEY_PATH, KEY_ID, WALLET_ADDRESS,
  MANAGE_URL, ACCESS_TOKEN; each command's --help lists the ones it reads
""" + _EXIT_HELP + """
a value that begins with "-" (a base64url hash, say) is given as --option=VALUE"""

# Options that would put a secret on the command line: refused by name before argparse reads
# argv (so also as --name=VALUE), with where the value goes instead.
_SECRET_OPTIONS = {
    "--continue-access-token": "CONTINUE_ACCESS_TOKEN",
    "--interact-ref": "INTERACT_REF",
    "--access-token": "ACCESS_TOKEN",
    "--redirect": "FINISH_REDIRECT",
}
_SECRETISH_RE = re.compile(r"token|secret|passw|interact|redirect|seed")  # unknown options
_OPTION_NAME_RE = re.compile(r"--[a-z][a-z0-9-]{0,39}")
# argparse messages that hold option names only; any other is rewritten (see _argparse_error)
_ARGPARSE_SAFE_RE = re.compile(
    r"the following arguments are required: [-\w/{}, ]+"
    r"|argument [-\w/{},]+: (expected one argument|not allowed with argument [-\w/]+)")
_ARGPARSE_VALUE_RE = re.compile(r"argument ([-\w/{},]+): (invalid choice|invalid \w+ value"
                                r"|ignored explicit argument)")
_FORMATS = ("text", "env", "json")
# a command that needs a package the copy runs without: import name -> (package, pip line)
_PACKAGES = {"nacl": ("PyNaCl", "pip install 'PyNaCl>=1.3'"),
             "requests": ("requests", "pip install 'requests>=2.20'")}


def _secret_option_error(argv: Sequence[str]) -> Optional[str]:
    """The refusal for the first secret-bearing option in ``argv`` (none after "--")."""
    for arg in argv:
        if arg == "--":
            break
        name = arg.partition("=")[0]
        env = _SECRET_OPTIONS.get(name)
        if arg.startswith("--") and env is not None:
            return (f"{name} would put a secret on the command line (shell history, ps, CI "
                    f"logs): set {env} in the environment, or give {name}-file FILE "
                    f"('-' for stdin)")
    return None


def _unrecognized(extras: Sequence[str], command: str) -> str:
    """argparse's "unrecognized arguments", naming options but never echoing a value."""
    names = [a.partition("=")[0] for a in extras if _OPTION_NAME_RE.fullmatch(a.partition("=")[0])]
    parts = [f"unrecognized option {name}" for name in names]
    hidden = len(extras) - len(names)
    if hidden:
        parts.append(f"{hidden} unexpected argument{'s' if hidden > 1 else ''} (not shown)")
    message = "; ".join(parts)
    if any(_SECRETISH_RE.search(name) for name in names):
        where = " ".join(filter(None, ("op-continue", command, "--help")))
        message += (f"; secrets are read from the environment or a --...-file option, never "
                    f"from the command line: see {where}")
    return message


def _argparse_error(message: str) -> str:
    """An argparse error message without the argument values it may quote."""
    if _ARGPARSE_SAFE_RE.fullmatch(message):
        return message
    match = _ARGPARSE_VALUE_RE.match(message)
    if match is None:
        return "invalid command line (arguments are not shown); see --help"
    detail = {"invalid choice": "invalid choice (see --help)",
              "ignored explicit argument": "takes no value"}.get(match.group(2), match.group(2))
    return f"argument {match.group(1)}: {detail} (the value is not shown)"


def _read_input(path: str, option: Optional[str] = None) -> bytes:
    """A file's bytes ('-': stdin). The error names the file, or only the ``option`` of a
    secret's file: a secret pasted where its file name belongs is not echoed."""
    if path == "-":
        data: bytes = sys.stdin.buffer.read()
        return data
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        shown = f"the file of {option}" if option else repr(path)
        failure = UsageError(f"cannot read {shown}: {exc.strerror}")
    raise failure  # after the try statement: see section 1


def _field_types(pairs: Sequence[str]) -> Dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, kind = pair.partition("=")
        if not sep or kind not in ("item", "list", "dictionary"):
            raise UsageError("--field-type takes NAME=item|list|dictionary")
        out[name.lower()] = kind
    return out


def _pick_params(value: str, label: Optional[str]) -> Tuple[str, InnerList]:
    if re.search(r"\\\s", value):  # (in an sf-string "\\" escapes only '"' and "\\")
        raise UsageError("--signature-input: a '\\' before a line break or space, as RFC 8792 "
                         "wraps long lines: unwrap it (remove the '\\', the line break and the "
                         "next line's leading spaces)")
    members = parse_dictionary(value)
    if label is None:
        if len(members) != 1:
            raise UsageError("--signature-input has several members: choose one with --label")
        label = next(iter(members))
    member = members.get(label)
    if not isinstance(member, InnerList):
        raise UsageError("--signature-input has no Inner List member with that label")
    return label, member


def _option(attr: str) -> str:
    return "--" + attr.replace("_", "-")


def _setting(args: Any, attr: str, env: str, required: bool = True) -> Optional[str]:
    """An option's value, or the environment variable of the same name."""
    value = getattr(args, attr, None)
    if value is None:
        value = os.environ.get(env) or None
        args.sources[attr] = env
    else:
        args.sources[attr] = _option(attr)
    if required and not value:
        raise UsageError(f"{env} is not set (environment, or {_option(attr)})")
    return value


def _url_setting(args: Any, attr: str, env: str, required: bool = True) -> Optional[str]:
    """A URL setting, checked here so that an error names where it came from."""
    value = _setting(args, attr, env, required)
    if value is not None:
        source = args.sources[attr]
        if (_split_uri(value)["scheme"] or "").lower() == "http" and not args.allow_http:
            raise UsageError(f"{source}: must use https; use --allow-http for a loopback "
                             f"test server")
        normalize_url(value, source, args.allow_http)
    return value


def _secret_setting(args: Any, attr: str, env: str) -> str:
    """A secret: from --<name>-file (``-`` for stdin) or the environment, never argv."""
    path = getattr(args, attr + "_file", None)
    if path:
        source = f"{_option(attr)}-file"
        value = _read_input(path, source).decode("utf-8", "replace").strip()
    else:
        value = os.environ.get(env, "")
        source = env
    if not value:
        raise UsageError(f"{env} is not set (environment, or {_option(attr)}-file)")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        raise UsageError(f"{source}: the value is wrapped in quotes (copied from a .env file?); "
                         f"remove them")
    return value


# What the CLI prints of a server's answer is printable ASCII only: text through _printable, JSON
# with ensure_ascii=True. A value cannot add a line, move the cursor or fail to encode, so the
# token lines printed with it are never forged or lost. Tokens and URLs were checked to be
# printable ASCII when the response was parsed, and _printable leaves them as they are (a
# backslash too: its escapes are for reading, not for parsing back). The env format then quotes
# that printable text for a POSIX shell: inside '...' every character is literal except ', which
# becomes '\'' (close the quotes, an escaped quote, reopen them).


def _printable(text: str, keep: str = "") -> str:
    """``text`` with every character outside printable ASCII (control characters, DEL, C1, line
    breaks, non-ASCII, lone surrogates) escaped as Python's ascii() escapes it: \\n, \\x1b,
    \\x85, \\xe9, \\ud800; except the characters of ``keep`` (lint's "§")."""
    return "".join(c if " " <= c <= "~" or c in keep else ascii(c)[1:-1] for c in text)


def _print_warnings(caught: Sequence[Any], path: str, category: type) -> None:
    """Warnings of ``category`` recorded while reading ``path``: one clean line each, not the
    warnings module's source line. Any other warning recorded meanwhile (say a ResourceWarning
    from the garbage collector) is shown as Python shows it, not blamed on ``path``."""
    for warning in caught:
        if issubclass(warning.category, category):
            print(f"op-continue: warning: {_printable(path)}: {_printable(str(warning.message))}",
                  file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)


def _load_key(args: Any, attr: str, env: str) -> PrivateKey:
    """The private key file named by ``--<attr>`` or ``env``; its warnings as one line each."""
    path = _setting(args, attr, env)
    assert path is not None
    source = args.sources[attr]
    if not os.path.exists(path):
        raise UsageError(f"{source}: no key file at {path}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KeyFileWarning)
        key = load_private_key(path)
    _print_warnings(caught, path, KeyFileWarning)
    return key


def _read_message(path: str, scheme: str) -> Message:
    """parse_message of a file ('-': stdin), its MessageWarnings printed as one line each."""
    data = _read_input(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MessageWarning)
        message = parse_message(data, scheme)
    _print_warnings(caught, path, MessageWarning)
    return message


def _client(args: Any) -> Client:
    key = _load_key(args, "private_key", "PRIVATE_KEY_PATH")
    key_id = _setting(args, "key_id", "KEY_ID")
    assert key_id is not None
    return Client(key, key_id, timeout=args.timeout, allow_http=args.allow_http,
                  allowed_origins=args.allow_origin)


# The separator --show-base prints between a dry run's request and its signature base.
BASE_SEPARATOR = "-- signature base (RFC 9421 section 2.5), not sent --"


def _print_signed(signed: SignedRequest, fmt: str, show_base: bool = False) -> None:
    """A dry run's signed request: an HTTP/1.1 message (LF line ends, without the headers the
    transport adds: see SignedRequest), or JSON; ``show_base`` adds the signature base after
    the message, on the lines after BASE_SEPARATOR (the JSON always has it)."""
    if fmt == "json":
        print(json.dumps(signed.to_json(), ensure_ascii=False))
        return
    parts = _split_uri(signed.url)
    target = (parts["path"] or "/") + ("?" + parts["query"] if parts["query"] is not None else "")
    print(f"{signed.method} {target} HTTP/1.1")
    print(f"Host: {parts['authority']}")
    for name, value in signed.headers:
        print(f"{name}: {value}")
    print(flush=True)
    # the body exactly, with no newline added: the output is a valid message for base/verify
    sys.stdout.write(signed.body.decode("utf-8"))
    if show_base:  # (the body's last line ended first: the separator is a line of its own)
        ending = "\n" if signed.body and not signed.body.endswith(b"\n") else ""
        print(f"{ending}{BASE_SEPARATOR}\n{signed.signature_base}")


def _line(name: str, value: object) -> str:
    """One "NAME = value" line of the Open Payments docs."""
    return f"{name} = {_printable(str(value))}"


def _export(name: str, value: object) -> str:
    """One ``export NAME='value'`` line for a POSIX shell's eval (printable ASCII inside)."""
    quoted = _printable(str(value)).replace("'", "'\\''")
    return f"export {name}='{quoted}'"


def _print_values(pairs: Sequence[Tuple[str, object]], fmt: str) -> None:
    render = _export if fmt == "env" else _line
    print("\n".join(render(name, value) for name, value in pairs))


def _token_pairs(token: AccessToken, fmt: str) -> List[Tuple[str, object]]:
    """The Open Payments docs' names: OUTGOING_PAYMENT_ACCESS_TOKEN = ... for an outgoing-payment
    grant; the prefix names the access type (none when the grant mixes types). The env format
    adds ACCESS_TOKEN and MANAGE_URL, the names rotate and revoke read."""
    kinds = {a.type for a in token.access}
    prefix = kinds.pop().upper().replace("-", "_") + "_" if len(kinds) == 1 else ""
    pairs: List[Tuple[str, object]] = [(f"{prefix}ACCESS_TOKEN", token.value),
                                       (f"{prefix}ACCESS_TOKEN_MANAGE_URL", token.manage)]
    if fmt == "env":
        pairs += [("ACCESS_TOKEN", token.value)] if prefix else []
        pairs.append(("MANAGE_URL", token.manage))
    return pairs


def _continue_pairs(cont: Continue, fmt: str) -> List[Tuple[str, object]]:
    """The continue lines; the env format adds CONTINUE_NOT_BEFORE, the unix time from which the
    next command may call the continue URI (now plus the wait, rounded up), which continue, poll
    and cancel read: each command is a process of its own, and this is how the wait reaches
    the next one."""
    wait = DEFAULT_WAIT if cont.wait is None else cont.wait
    pairs: List[Tuple[str, object]] = [("CONTINUE_URI", cont.uri),
                                       ("CONTINUE_ACCESS_TOKEN", cont.access_token_value),
                                       ("CONTINUE_WAIT_SECONDS", wait)]
    if fmt == "env":
        now = time.time()
        pairs.append(("CONTINUE_NOT_BEFORE", math.ceil(now) + wait if wait else int(now)))
    return pairs


def _wait_for_continue_uri(args: Any) -> None:
    """Sleep until CONTINUE_NOT_BEFORE (or --not-before), saying so on stderr, before a call to
    the continue URI: "the client instance MUST NOT call the continuation URI prior to waiting
    the number of seconds indicated" (RFC 9635 §5)."""
    text = _setting(args, "not_before", "CONTINUE_NOT_BEFORE", required=False)
    if text is None:
        return
    source = args.sources["not_before"]
    if not re.fullmatch(r"[0-9]{1,12}", text):
        raise UsageError(f"{source}: expected unix seconds (digits only)")
    left = int(text) - time.time()
    if left <= 0:
        return
    if left > MAX_WAIT_SECONDS:
        raise UsageError(f"{source}: more than {MAX_WAIT_SECONDS} s ahead; not waiting that long")
    print(f"op-continue: waiting {math.ceil(left)} s before calling the continue URI: the AS's "
          f"wait, from {source} (RFC 9635 section 5)", file=sys.stderr, flush=True)
    time.sleep(left)


def _report_grant(grant: Grant, fmt: str, extra: Optional[Dict[str, Any]] = None,
                  pending: int = EXIT_PENDING) -> int:
    """Print a grant response; ``pending`` is the exit code of a grant still in progress."""
    if fmt == "json":
        print(json.dumps({**grant.to_json(), **(extra or {})}, ensure_ascii=True))
    pairs: List[Tuple[str, object]] = [(k.upper(), v) for k, v in (extra or {}).items()]
    done = grant.is_finalized or grant.subject is not None  # access granted, or subject given
    if done:
        if grant.access_token is not None:
            pairs += _token_pairs(grant.access_token, fmt)
        subjects = grant.subject or ()
        if fmt == "env" and len(subjects) > 1:
            pairs += [(f"SUBJECT_ID_{i}", s) for i, s in enumerate(subjects, 1)]
        else:
            pairs += [("SUBJECT_ID", s) for s in subjects]
    if grant.continue_ is not None and (fmt == "env" or not done):
        pairs += _continue_pairs(grant.continue_, fmt)  # (env: the latest, for poll or cancel)
    if grant.interact is not None and not done:
        pairs += [("INTERACT_REDIRECT", grant.interact.redirect),
                  ("INTERACT_FINISH", grant.interact.finish)]
    if fmt != "json" and pairs:
        _print_values(pairs, fmt)
    if done:
        return EXIT_OK
    return EXIT_OK if grant.interact is not None and pending == EXIT_OK else EXIT_PENDING


def _say_done(fmt: str, text: str, doc: Dict[str, Any]) -> None:
    """What revoke and cancel did: a sentence (a comment line for env), or JSON."""
    if fmt == "json":
        print(json.dumps(doc, ensure_ascii=True))
    else:
        print(("# " if fmt == "env" else "") + _printable(text))


def _cmd_base(args: Any) -> int:
    message = _read_message(args.message, args.scheme)
    request = _read_message(args.request, args.scheme) if args.request else None
    _, params = _pick_params(args.signature_input, args.label)
    print(signature_base(message, params, request, _field_types(args.field_type)))
    return EXIT_OK


def _cmd_sign(args: Any) -> int:
    key = _load_key(args, "key", "PRIVATE_KEY_PATH")
    message = _read_message(args.message, args.scheme)
    request = _read_message(args.request, args.scheme) if args.request else None
    label, params = _pick_params(args.signature_input, args.label)
    sig_input, signature = sign_message(message, key, params, label=label, request=request,
                                        field_types=_field_types(args.field_type))
    print(f"Signature-Input: {sig_input}\nSignature: {signature}")
    return EXIT_OK


def _weaknesses(message: Message, verified: VerifiedSignature) -> List[str]:
    """What a valid signature on ``message`` leaves unprotected: the verify command's warnings."""
    undated = [] if "created" in verified.params else [
        'no "created" parameter: the age of the signature cannot be checked']
    if not verified.covered:
        return ["the signature covers no component: it protects nothing of the message", *undated]
    items = [parse_item(c) for c in verified.covered]
    own = {item.value for item in items if "req" not in item.params}  # (;req: the request's)
    request = message.is_request
    unprotected = (
        (request and "@method" not in own,
         'the method is not protected: "@method" is not covered'),
        (request and not own & {"@target-uri", "@authority"},
         'the host is not protected: neither "@target-uri" nor "@authority" is covered'),
        (request and not own & {"@target-uri", "@path", "@request-target"},
         'the path is not protected: none of "@target-uri", "@path", "@request-target" is '
         "covered"),
        (bool(message.body) and "content-digest" not in own,
         'the body is not protected: "content-digest" is not covered'),
        (bool(message.field_values("authorization")) and "authorization" not in own,
         'the Authorization field is not protected: "authorization" is not covered'),
    )
    return [text for weak, text in unprotected if weak] + undated


def _profile_problems(message: Message, verified: VerifiedSignature) -> List[str]:
    """What the Open Payments profile requires of a signed request and ``verified`` lacks: the
    components RFC 9635 §7.3.1 requires ("@method", "@target-uri"; "authorization" with a
    token; "content-digest" with content), the two more the official SDK covers with content
    ("content-length", "content-type"), ``created`` ("The signer MUST include the created
    signature parameter"), no ``alg`` ("MUST NOT be included") and a ``tag``, if any, of
    "gnap". (A missing tag is accepted: the official SDK sends none; see the deviations table.)
    The digest itself was checked against the body by verify_message."""
    own = {item.value for item in (parse_item(c) for c in verified.covered)
           if "req" not in item.params}
    required = list(COVERED_BASE)
    if message.field_values("authorization"):
        required += COVERED_AUTHORIZATION
    if message.body:
        required += COVERED_CONTENT
    missing = [f'"{name}"' for name in required if name not in own]
    params = verified.params
    return ((["not covered: " + ", ".join(missing)] if missing else [])
            + (['no "created" parameter'] if "created" not in params else [])
            + (['an "alg" parameter'] if "alg" in params else [])
            + (['a "tag" other than "gnap"'] if params.get("tag", "gnap") != "gnap" else []))


def _component_identifier(text: str) -> str:
    """A --require value as verify_message's ``required`` compares it: the serialized component
    identifier (RFC 9421 §2). A bare name (@method, Content-Digest) is lower-cased and quoted;
    a serialized one ("content-digest";req) is taken as given, in its canonical form."""
    refusal = UsageError("--require: not a component name (@method, content-digest) or "
                         "identifier ('\"content-digest\";req') (the value is not shown)")
    if not text.startswith('"'):  # a field name (a token, RFC 9110 §5.1), or @ and a name
        if not _FIELD_NAME_RE.match(text[1:] if text.startswith("@") else text):
            raise refusal
        return f'"{text.lower()}"'
    failure: Optional[UsageError] = None
    try:
        identifier = parse_item(text)
    except UsageError:
        failure = refusal
    if failure is not None:
        raise failure
    if not isinstance(identifier.value, str) or not identifier.value:
        raise refusal
    return serialize_item(identifier)


def _cmd_verify(args: Any) -> int:
    required = [_component_identifier(text) for text in args.require]
    message = _read_message(args.message, args.scheme)
    request = _read_message(args.request, args.scheme) if args.request else None
    profile = args.profile == "open-payments"
    if profile and not message.is_request:
        raise UsageError("--profile open-payments is for requests (RFC 9635 section 7.3.1): "
                         "verify a response with --profile none")
    keys = load_public_key(_read_input(args.key))
    verified = verify_message(message, keys, label=args.label, request=request,
                              field_types=_field_types(args.field_type), required=required,
                              max_age=args.max_age)
    # RFC 9421 §3.2: the verifier decides which components and parameters it requires
    problems = _profile_problems(message, verified) if profile else []
    if problems:
        raise VerificationError("not signed as the Open Payments profile requires (RFC 9635 "
                                "section 7.3.1): " + "; ".join(problems)
                                + " (--profile none: RFC 9421 alone)")
    print("valid", flush=True)  # before the warnings, when 2>&1 joins the two streams
    for weakness in _weaknesses(message, verified):
        print(f"op-continue: warning: {weakness}", file=sys.stderr)
    return EXIT_OK


def _cmd_lint(args: Any) -> int:
    message = _read_message(args.message, args.scheme)
    keys = load_public_key(_read_input(args.key)) if args.key else None
    findings = lint_request(message, keys, request_kind=args.request_kind, now=args.now,
                            expected_uri=args.expected_uri)
    if args.format == "json":
        print(json.dumps([finding.to_json() for finding in findings], ensure_ascii=True))
    else:
        for finding in findings:
            print(_printable(f"{finding.severity} {finding.rule}: {finding.message} "
                             f"[{finding.source}]", keep="§"))
        if not findings:
            print("no findings")
    errors = [finding for finding in findings if finding.severity == "error"]
    return EXIT_INVALID if errors else EXIT_OK


def _cmd_digest(args: Any) -> int:
    print(content_digest(_read_input(args.file), [args.algorithm]))
    return EXIT_OK


def _cmd_keygen(args: Any) -> int:
    out = _setting(args, "out", "PRIVATE_KEY_PATH")
    key_id = _setting(args, "key_id", "KEY_ID", required=False)
    assert out is not None
    if key_id:
        _check_key_id(key_id)  # before the key file is created
    key = PrivateKey.generate()
    key.write_pem(out)
    if key_id:
        print(json.dumps(jwks({key_id: key.public_key})))
    return EXIT_OK


def _cmd_jwk(args: Any) -> int:
    key_id = _setting(args, "key_id", "KEY_ID")
    key = _load_key(args, "key", "PRIVATE_KEY_PATH")
    assert key_id is not None
    print(json.dumps(jwks({key_id: key.public_key})))
    return EXIT_OK


def _grant_endpoint(args: Any, allow_http: bool) -> str:
    """The grant endpoint in the one form grant, hash and finish all use: normalize_url's, the
    URL the grant request is sent to and signed for (``https://auth.example`` becomes
    ``https://auth.example/``). RFC 9635 §4.2.3 hashes "the grant endpoint URI" the client sent
    its grant request to, so hash and finish must hash that form, not the text as typed: the
    same input would otherwise give two different hashes."""
    value = _setting(args, "grant_endpoint", "GRANT_ENDPOINT")
    assert value is not None
    return normalize_url(value, args.sources["grant_endpoint"], allow_http)


def _hash_inputs(args: Any) -> Tuple[str, str, str, str]:
    """Client nonce, server nonce, grant endpoint and hash method of hash and finish. (They have
    no --allow-http: an http endpoint is taken where grant --allow-http takes one, on loopback.)"""
    values = (_setting(args, "client_nonce", "CLIENT_NONCE"),
              _setting(args, "server_nonce", "INTERACT_FINISH"),
              _grant_endpoint(args, allow_http=True),
              _setting(args, "hash_method", "HASH_METHOD", required=False) or "sha-256")
    assert None not in values
    return values  # type: ignore[return-value]


def _cmd_hash(args: Any) -> int:
    client_nonce, server_nonce, grant_endpoint, method = _hash_inputs(args)
    interact_ref = _secret_setting(args, "interact_ref", "INTERACT_REF")
    if args.verify is not None:
        if args.encoding is not None:
            raise UsageError("--encoding is for printing a hash; --verify accepts both forms")
        verify_interaction_hash(args.verify, client_nonce, server_nonce, interact_ref,
                                grant_endpoint, hash_method=method)
        print("valid")
        return EXIT_OK
    rfc = interaction_hash(client_nonce, server_nonce, interact_ref, grant_endpoint, method)
    # DEVIATION DEV-hash-encoding (interop with Rafiki): the same digest, in standard base64
    # with padding, as Rafiki sends it
    rafiki = b64encode(b64url_decode(rfc, "hash"))
    encoding = args.encoding or "rfc"
    if encoding == "both":
        print(f"rfc9635: {rfc}\nrafiki:  {rafiki}")
    else:
        print(rfc if encoding == "rfc" else rafiki)
    return EXIT_OK


def _cmd_finish(args: Any) -> int:
    client_nonce, server_nonce, grant_endpoint, method = _hash_inputs(args)
    finish = parse_finish_redirect(_secret_setting(args, "redirect", "FINISH_REDIRECT"))
    verify_interaction_hash(finish.hash, client_nonce, server_nonce, finish.interact_ref,
                            grant_endpoint, hash_method=method)
    if args.format == "json":
        print(json.dumps({"interact_ref": finish.interact_ref}))
    else:
        _print_values([("INTERACT_REF", finish.interact_ref)], args.format)
    return EXIT_OK


def _dry_run_format(args: Any) -> str:
    if args.format == "env":
        raise UsageError("--dry-run prints a request, not values: use --format text or json")
    return str(args.format)


def _check_show_base(args: Any) -> None:
    """--show-base prints the base of a dry run's request; a request that is sent is not
    printed, nor its base (it holds the Authorization value)."""
    if args.show_base and not args.dry_run:
        raise UsageError("--show-base needs --dry-run")


def _dry_run(args: Any, signed: SignedRequest) -> int:
    """--dry-run: print the operation's signed request (see _print_signed); send nothing."""
    _print_signed(signed, _dry_run_format(args), args.show_base)
    return EXIT_OK


# One function per online command: each names its operation's builder (section 9) for
# --dry-run and the Client method that sends what that builder returns, with the same operands.

def _cmd_grant(args: Any) -> int:
    _check_show_base(args)
    _url_setting(args, "grant_endpoint", "GRANT_ENDPOINT")  # (its https and loopback errors)
    endpoint = _grant_endpoint(args, args.allow_http)
    wallet = _setting(args, "wallet_address", "WALLET_ADDRESS")
    access_text = _setting(args, "access", "ACCESS")
    finish_uri = _url_setting(args, "finish_uri", "FINISH_URI", required=False)
    assert endpoint is not None and wallet is not None and access_text is not None
    access = _user_json(access_text, "--access", "--access must be a JSON array of access items")
    if not isinstance(access, list) or not all(isinstance(item, dict) for item in access):
        raise UsageError("--access must be a JSON array of access items")
    with _client(args) as client:  # its connections closed when the command ends
        nonce = new_nonce()
        body = grant_request_body(client=wallet, access=access, finish_uri=finish_uri,
                                  nonce=nonce if finish_uri else None, allow_http=args.allow_http)
        if args.dry_run:
            return _dry_run(args, grant_request(endpoint, body, **client._signing(args.created)))
        grant = client.request_grant(endpoint, body, created=args.created)
        # an interactive grant answered with interact and continue: the expected outcome, exit 0
        return _report_grant(grant, args.format, {"client_nonce": nonce} if finish_uri else None,
                             pending=EXIT_OK)


def _continue_uri(args: Any) -> str:
    uri = _url_setting(args, "continue_uri", "CONTINUE_URI")
    assert uri is not None
    return uri


def _cmd_continue(args: Any) -> int:
    _check_show_base(args)
    operands = (_continue_uri(args),
                _secret_setting(args, "continue_access_token", "CONTINUE_ACCESS_TOKEN"),
                _secret_setting(args, "interact_ref", "INTERACT_REF"))
    with _client(args) as client:  # its connections closed when the command ends
        if args.dry_run:
            return _dry_run(args, continue_request(*operands, **client._signing(args.created)))
        _wait_for_continue_uri(args)
        return _report_grant(client.continue_grant(*operands, created=args.created), args.format)


def _cmd_poll(args: Any) -> int:
    _check_show_base(args)
    operands = (_continue_uri(args),
                _secret_setting(args, "continue_access_token", "CONTINUE_ACCESS_TOKEN"))
    with _client(args) as client:  # its connections closed when the command ends
        if args.dry_run:
            return _dry_run(args, poll_request(*operands, **client._signing(args.created)))
        _wait_for_continue_uri(args)
        return _report_grant(client.poll(*operands, created=args.created), args.format)


def _cmd_cancel(args: Any) -> int:
    _check_show_base(args)
    uri = _continue_uri(args)
    token = _secret_setting(args, "continue_access_token", "CONTINUE_ACCESS_TOKEN")
    with _client(args) as client:  # its connections closed when the command ends
        if args.dry_run:
            return _dry_run(args, cancel_request(uri, token, **client._signing(args.created)))
        _wait_for_continue_uri(args)
        client.cancel(uri, token, created=args.created)
        _say_done(args.format, f"cancelled: the grant request at {uri}",
                  {"cancelled": True, "continue_uri": uri})
        return EXIT_OK


def _manage_url(args: Any) -> str:
    manage = _url_setting(args, "manage_url", "MANAGE_URL")
    assert manage is not None
    return manage


def _cmd_rotate(args: Any) -> int:
    _check_show_base(args)
    manage = _manage_url(args)
    token = _secret_setting(args, "access_token", "ACCESS_TOKEN")
    with _client(args) as client:  # its connections closed when the command ends
        if args.dry_run:
            return _dry_run(args, rotate_request(manage, token, **client._signing(args.created)))
        new = client.rotate(manage, token, created=args.created)
        if args.format == "json":
            print(json.dumps({"access_token": _access_token_json(new)}, ensure_ascii=True))
        else:
            pairs = _token_pairs(new, "env") if args.format == "env" else [
                ("ACCESS_TOKEN", new.value), ("MANAGE_URL", new.manage)]
            _print_values(pairs, args.format)
        return EXIT_OK


def _cmd_revoke(args: Any) -> int:
    _check_show_base(args)
    manage = _manage_url(args)
    token = _secret_setting(args, "access_token", "ACCESS_TOKEN")
    with _client(args) as client:  # its connections closed when the command ends
        if args.dry_run:
            return _dry_run(args, revoke_request(manage, token, **client._signing(args.created)))
        client.revoke(manage, token, created=args.created)
        _say_done(args.format, f"revoked: the access token at {manage}",
                  {"revoked": True, "manage_url": manage})
        return EXIT_OK


# --- op-continue example: an RFC example as the files the commands take -------------------
# The examples are data, not code: the vectors/ directory of the op_continue repository
# (vectors/FORMAT.md), transcribed from the RFCs. This file stays one module that works when
# vendored alone, so it does not embed them: ``example`` reads --vectors DIR, by default the
# vectors/ directory beside op_continue.py (present in a source checkout; absent in a vendored
# copy or a pip install, where --vectors is needed).

_VECTORS_SCHEMA = "op_continue-vectors/1"


def _vectors_dir(args: Any) -> str:
    path = args.vectors or os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")
    if not os.path.isdir(path):
        where = f"--vectors {path!r}" if args.vectors else "vectors/ beside op_continue.py"
        raise UsageError(f"no examples: {where} is not a directory (a vendored copy or a pip "
                         f"install has none); give --vectors DIR, the vectors/ directory of "
                         f"the op_continue repository")
    return path


def _rfc_examples(directory: str) -> Dict[str, Dict[str, Any]]:
    """{test id: test} of every RFC vector file in ``directory`` (not the *-generated ones)."""
    examples: Dict[str, Dict[str, Any]] = {}
    for name in sorted(os.listdir(directory)):
        if not (name.startswith("rfc") and name.endswith(".json")):
            continue
        doc = _user_json(_read_input(os.path.join(directory, name)).decode("utf-8", "replace"),
                         name, f"{name}: not valid JSON")
        if not isinstance(doc, dict) or doc.get("schema") != _VECTORS_SCHEMA:
            raise UsageError(f"{name}: not a vector file ({_VECTORS_SCHEMA})")
        for test in doc.get("tests", []):
            examples[test["id"]] = test
    return examples


def _example_text(lines: Any) -> str:
    """vectors/FORMAT.md: multi-line text is an array of lines joined with LF, no final LF."""
    return "\n".join(lines) if isinstance(lines, list) else str(lines)


def _write_example_file(directory: str, name: str, data: str, private: bool = False) -> str:
    """Write ``data`` exactly (no newline translation); a private key with mode 0600."""
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data.encode("utf-8"))
    if private:
        os.chmod(path, 0o600)  # (a file that existed keeps its mode through O_CREAT)
    return path


def _write_example(test: Dict[str, Any], examples: Mapping[str, Dict[str, Any]],
                   out: str) -> Tuple[List[str], List[str], List[str]]:
    """Write one example's files into ``out``: (paths written, next commands, notes)."""
    import shlex

    inp, expected, kind = test["input"], test["expected"], test["type"]
    written: List[str] = []

    def put(name: str, data: str, private: bool = False) -> str:
        written.append(_write_example_file(out, name, data, private))
        return shlex.quote(written[-1])

    notes: List[str] = []
    if kind == "digest":
        body = put("body", inp["body"])
        if "printed_field" in inp:  # (vectors/README.md: a value the RFC misprints)
            notes.append(f"the RFC prints {inp['printed_field']}, a misprint (see "
                         f"vectors/README.md); the correct value: {expected['field']}")
        else:
            notes.append(f"the RFC prints: {expected['field']}")
        return written, [f"op-continue digest --algorithm {inp['algorithm']} {body}"], notes
    if kind == "interaction_hash":
        ref = put("interact-ref.txt", inp["interact_ref"] + "\n")
        notes.append(f"the RFC prints: {expected['hash']}")
        options = " ".join(f"--{name.replace('_', '-')} {shlex.quote(inp[name])}" for name in
                           ("client_nonce", "server_nonce", "grant_endpoint", "hash_method"))
        return written, [f"op-continue hash {options} --interact-ref-file {ref}"], notes
    if kind == "key":
        if inp["alg"] != "ed25519":
            notes.append(f"a {inp['alg']} key: op-continue signs and verifies Ed25519 only")
            return written, [], notes
        # as RFC 9421 B.1.4 prints it: the public and the private PEM in one block
        pem = _example_text(inp["public_pem"]) + "\n" + _example_text(inp["private_pem"])
        key = put("key.pem", pem + "\n", True)
        put("key.jwk", json.dumps(inp["jwk"], indent=2) + "\n", True)
        return (written, [f"op-continue jwk --key {key} --key-id {shlex.quote(inp['keyid'])}"],
                notes)
    # component, signature_base and verify: a message (and the request a response answers)
    options = f"--message {put('message.txt', _example_text(inp['message']))}"
    if "request" in inp:
        options += f" --request {put('request.txt', _example_text(inp['request']))}"
    if inp.get("scheme", "https") != "https":
        options += f" --scheme {shlex.quote(inp['scheme'])}"
    for name, sf_type in sorted(inp.get("field_types", {}).items()):
        options += f" --field-type {shlex.quote(name + '=' + sf_type)}"
    key_vector = examples.get(inp.get("key") or expected.get("key") or "", {}).get("input", {})
    ed25519 = key_vector.get("alg") == "ed25519"
    if kind == "verify":  # (vectors/FORMAT.md: verify tests are Ed25519 only)
        key = put("key.pub.pem", _example_text(key_vector["public_pem"]) + "\n")
        label = f" --label {shlex.quote(inp['label'])}" if "label" in inp else ""
        # (--profile none: an RFC 9421 example is checked by RFC 9421 alone, not as Open Payments)
        return written, [f"op-continue verify {options} --key {key}{label} --profile none"], notes
    if kind == "component":
        sig_input = f"sig1=({inp['component']})"
        if "line" in expected:
            notes.append(f"the RFC prints this line (base prints it first): {expected['line']}")
    else:
        sig_input = inp["signature_input"]
        # several members (a Dictionary separates them by commas): --label names the one
        options += "" if "," not in sig_input else f" --label {shlex.quote(inp['label'])}"
        if "signature_base" in expected:
            put("expected-base.txt", _example_text(expected["signature_base"]) + "\n")
            notes.append("expected-base.txt: the RFC's base, and the final newline base prints")
    options += f' --signature-input "$(cat {put("signature-input.txt", sig_input + chr(10))})"'
    commands = [f"op-continue base {options}"]
    if kind == "signature_base" and ed25519:
        key = put("key.pem", _example_text(key_vector["private_pem"]) + "\n", True)
        commands.append(f"op-continue sign {options} --key {key}")
        notes.append(f"the RFC prints: Signature: {expected['signature']}")
    elif kind == "signature_base" and key_vector:
        notes.append(f"the key is {key_vector['alg']}: op-continue signs Ed25519 only; base "
                     f"reproduces the RFC's base")
    return written, commands, notes


def _cmd_example(args: Any) -> int:
    examples = _rfc_examples(_vectors_dir(args))
    if args.list:
        for test_id, test in examples.items():
            invalid = f" (must fail: {test.get('error')})" if test["result"] != "valid" else ""
            print(f"{test_id:<24} {test['type']}{invalid}")
        return EXIT_OK
    if not args.id or not args.out:
        raise UsageError("give an example id and --out DIR (op-continue example --list shows "
                         "the ids)")
    chosen = examples.get(args.id)
    if chosen is None:
        raise UsageError("no such example; op-continue example --list shows the ids")
    os.makedirs(args.out, exist_ok=True)
    written, commands, notes = _write_example(chosen, examples, args.out)
    print("wrote " + (", ".join(written) or "nothing"))
    if chosen["result"] != "valid":
        error = chosen.get("error")
        notes.append(f"the RFC says this must fail: expect exit "
                     f"{EXIT_INVALID if error == 'VerificationError' else EXIT_USAGE}, {error}")
    print("next:\n" + "\n".join("  " + command for command in commands))
    for note in notes:
        print(f"note: {note}")
    return EXIT_OK


_SEE_EXIT = "exit codes: see op-continue --help"
_ONLINE_EXIT = ("exit codes: 0 ok, 2 usage, 3 still pending, 4 GNAP error, 5 malformed response, "
                "6 transport error\n  (op-continue --help)")
_FORMAT_HELP = ("--format env prints export NAME='value' lines that the next command reads:\n"
                "  out=$(op-continue {} --format env) && eval \"$out\"")
_GRANT_EXAMPLE = """example (an outgoing payment of at most 10.00 USD, approved by the user):
  op-continue grant --finish-uri https://client.example/finish --access '[{
    "type": "outgoing-payment", "actions": ["create", "read"],
    "identifier": "https://wallet.example/alice",
    "limits": {"debitAmount": {"value": "1000", "assetCode": "USD", "assetScale": 2}}}]'"""


def _parser() -> Any:
    import argparse

    class Parser(argparse.ArgumentParser):
        """No abbreviated options; errors name options, never echo an argument's value."""

        def error(self, message: str) -> Any:
            self.fail(_argparse_error(message))

        def fail(self, message: str) -> Any:
            """Exit 2 with usage and our own ``message`` (which names no argument value)."""
            self.print_usage(sys.stderr)
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")

    raw = argparse.RawDescriptionHelpFormatter
    parser = Parser(
        prog="op-continue", epilog=_ENV_HELP, formatter_class=raw, allow_abbrev=False,
        description="Open Payments grant continuation (RFC 9635 §5) with RFC 9421 signatures.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = {}  # type: ignore[attr-defined]

    def command(name: str, summary: str, description: str, epilog: str, run: Any) -> Any:
        p = sub.add_parser(name, help=summary, description=description, epilog=epilog,
                           formatter_class=raw, allow_abbrev=False)
        p.set_defaults(run=run)
        parser.commands[name] = p  # type: ignore[attr-defined]
        return p

    def env_option(p: Any, name: str, env: str, text: str, **kw: Any) -> None:
        p.add_argument(name, help=f"{text} (env {env})", **kw)

    def secret_file(p: Any, name: str, env: str, what: str) -> None:
        p.add_argument(f"--{name}-file", metavar="FILE",
                       help=f"file with {what} ('-': stdin); else env {env}")

    def message_args(p: Any) -> None:
        p.add_argument("--message", required=True, metavar="FILE",
                       help="HTTP/1.1 message file ('-': stdin)")
        p.add_argument("--request", metavar="FILE", help="the request a response answers (;req)")
        p.add_argument("--scheme", default="https",
                       help="scheme of the target URI (default: https)")
        p.add_argument("--field-type", action="append", default=[], metavar="NAME=TYPE",
                       help="structured type of a field: item, list or dictionary")
        p.add_argument("--label", help="which signature (dictionary member) to use")

    def format_args(p: Any) -> None:
        p.add_argument("--format", choices=_FORMATS, default="text",
                       help="text: NAME = value lines (the Open Payments docs); env: export "
                            "lines for eval; json (default: text)")
        p.add_argument("--json", dest="format", action="store_const", const="json",
                       help="same as --format json")

    sig_input_help = "Signature-Input value naming the components and parameters"
    p = command("base", "print the RFC 9421 signature base of a message",
                "Print the RFC 9421 §2.5 signature base of an HTTP/1.1 message: the exact text "
                "a signature\ncovers, one line per covered component, then the @signature-params "
                "line. The base ends\nthere, without a newline (RFC 9421 §2.5); base prints it "
                "followed by one newline, as every\nline of output.",
                "example:\n  op-continue base --message request.txt --signature-input "
                "'sig1=(\"@method\" \"@target-uri\");created=1'\n\n" + _SEE_EXIT, _cmd_base)
    message_args(p)
    p.add_argument("--signature-input", required=True, metavar="VALUE", help=sig_input_help)
    p = command("sign", "print Signature-Input and Signature for a message",
                "Sign an HTTP/1.1 message with an Ed25519 key (RFC 9421 §3.1) and print the "
                "Signature-Input\nand Signature fields.", _SEE_EXIT, _cmd_sign)
    message_args(p)
    p.add_argument("--signature-input", required=True, metavar="VALUE", help=sig_input_help)
    env_option(p, "--key", "PRIVATE_KEY_PATH",
               "Ed25519 private key file: PKCS#8 PEM (other PEM blocks beside it are skipped) or "
               "a JWK with d",
               metavar="FILE")
    p = command("verify", "verify a signed message; prints 'valid' or exits 1",
                "Verify a signed HTTP/1.1 message (RFC 9421 §3.2): print 'valid', with a warning "
                "on stderr for\neach part of the message the signature leaves unprotected; exit "
                "1 if it does not verify.\nBy default a request must also be signed as Open "
                "Payments signs (RFC 9635 §7.3.1): covering\n@method, @target-uri, "
                "authorization when present, content-digest, content-length and\ncontent-type "
                "with a body; with created, without alg, and a tag, if any, of \"gnap\".",
                "exit codes: 0 valid, 1 invalid, 2 usage", _cmd_verify)
    message_args(p)
    p.add_argument("--key", required=True, metavar="FILE",
                   help="public key: SPKI PEM, JWK or JWKS file")
    p.add_argument("--max-age", type=int, metavar="SECONDS",
                   help="reject signatures older than this (or without created)")
    p.add_argument("--require", action="append", default=[], metavar="COMPONENT",
                   help="reject a signature that does not cover this component: a name "
                        "(@method, content-digest) or an identifier ('\"content-digest\";req'); "
                        "repeatable")
    p.add_argument("--profile", choices=("open-payments", "none"), default="open-payments",
                   help="open-payments: the requirements above (default); none: RFC 9421 "
                        "alone, with --require and --max-age (any message, responses too)")
    p = command("lint", "say what the deployed servers and the RFCs will say of a request",
                "Lint a signed Open Payments request made by any client: one line per finding "
                "-- severity\n(error: the deployed Rafiki AS or the official verifier rejects "
                "it; warning: accepted today\nbut outside RFC 9421/9530/9635, or fragile; note: "
                "a documented Open Payments deviation\nfrom the RFCs), the rule id, what was "
                "found and its source. Neither the token nor the content is shown.",
                "example:\n  op-continue lint --message request.txt --key jwks.json "
                "--request-kind continue\n\nexit codes: 0 no error finding, 1 an error "
                "finding, 2 usage", _cmd_lint)
    p.add_argument("--message", required=True, metavar="FILE",
                   help="the request as an HTTP/1.1 message file ('-': stdin)")
    p.add_argument("--scheme", default="https",
                   help="scheme of the target URI (default: https)")
    p.add_argument("--key", metavar="FILE",
                   help="the client's public key (SPKI PEM, JWK) or its wallet address's JWKS: "
                        "also verify the signature and explain a failure")
    p.add_argument("--request-kind", choices=LINT_REQUEST_KINDS,
                   help="what the request is, for the rules that depend on it (default: a "
                        "DELETE is a cancel, a request without Authorization a grant)")
    p.add_argument("--now", type=int, metavar="UNIX",
                   help=f"the time to check created against (more than {LINT_SKEW} s ahead or "
                        f"{LINT_MAX_AGE} s old is a warning); default: not checked")
    p.add_argument("--expected-uri", metavar="URL",
                   help="the URI the AS gave (CONTINUE_URI, MANAGE_URL, the grant endpoint): "
                        "the target URI must be it, in the same form")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="text: 'severity rule: message [source]' lines; json: an array of "
                        "objects (default: text)")
    p = command("digest", "print the Content-Digest of a file (RFC 9530)",
                "Print the RFC 9530 §2 Content-Digest field value of a file's bytes.", _SEE_EXIT,
                _cmd_digest)
    p.add_argument("--algorithm", default="sha-512", choices=sorted(DIGEST_ALGORITHMS),
                   help="digest algorithm (default: sha-512, as Open Payments)")
    p.add_argument("file", help="the content ('-': stdin)")
    p = command("keygen", "write a new Ed25519 key (PKCS#8 PEM, mode 0600)",
                "Write a new Ed25519 private key (PKCS#8 PEM, mode 0600, never overwriting a "
                "file); with a key id,\nalso print the JWKS the client's wallet address serves.",
                "example:\n  op-continue keygen --out client.key --key-id my-key > jwks.json\n\n"
                + _SEE_EXIT, _cmd_keygen)
    env_option(p, "--out", "PRIVATE_KEY_PATH", "new key file", metavar="FILE")
    env_option(p, "--key-id", "KEY_ID", "also print the JWKS for this key id", metavar="ID")
    p = command("jwk", "print the JWKS a wallet address serves at /jwks.json",
                "Print the JWKS (RFC 8037 OKP keys) a client's wallet address serves at "
                "/jwks.json.", _SEE_EXIT, _cmd_jwk)
    env_option(p, "--key", "PRIVATE_KEY_PATH",
               "Ed25519 private key file: PKCS#8 PEM (other PEM blocks beside it are skipped) or "
               "a JWK with d",
               metavar="FILE")
    env_option(p, "--key-id", "KEY_ID", "the kid to publish it under", metavar="ID")

    def hash_args(p: Any) -> None:
        env_option(p, "--client-nonce", "CLIENT_NONCE", "the nonce the grant request sent",
                   metavar="NONCE")
        env_option(p, "--server-nonce", "INTERACT_FINISH",
                   "interact.finish from the grant response", metavar="NONCE")
        env_option(p, "--grant-endpoint", "GRANT_ENDPOINT",
                   "the AS's grant endpoint URI, normalized as grant sends it "
                   "(https://as.example -> https://as.example/)", metavar="URL")
        env_option(p, "--hash-method", "HASH_METHOD",
                   "from the grant request's finish (default: sha-256)",
                   choices=sorted(HASH_METHODS))

    p = command("hash", "compute or check the RFC 9635 §4.2.3 interaction hash",
                "Compute (or --verify) the interaction hash of RFC 9635 §4.2.3 over the client "
                "nonce, the AS's\nnonce, the interact_ref and the grant endpoint.",
                "secret: INTERACT_REF from the environment, or --interact-ref-file FILE "
                "('-': stdin)\n\n"
                "exit codes: 0 ok or valid, 1 invalid, 2 usage", _cmd_hash)
    hash_args(p)
    secret_file(p, "interact-ref", "INTERACT_REF", "the interact_ref")
    p.add_argument("--verify", metavar="HASH",
                   help="check this hash instead (either encoding); prints 'valid'")
    p.add_argument("--encoding", choices=("rfc", "rafiki", "both"),
                   help="rfc: unpadded base64url, RFC 9635 §4.2.3 (default); rafiki: padded "
                        "standard base64, what the Rafiki AS sends; both: one labelled line each")
    p = command("finish", "check the finish redirect's hash; print INTERACT_REF",
                "Check the hash of the redirect that brought the user back (RFC 9635 §4.2.1, "
                "§4.2.3) and\nprint its interact_ref; a rejected interaction exits 4.",
                "secret: FINISH_REDIRECT (the redirect URL, it holds the interact_ref) from the "
                "environment,\n  or --redirect-file FILE ('-': stdin)\n"
                + "\n" + _FORMAT_HELP.format("finish") + "\n\n"
                "exit codes: 0 valid, 1 hash mismatch, 2 usage, 4 rejected", _cmd_finish)
    hash_args(p)
    secret_file(p, "redirect", "FINISH_REDIRECT", "the redirect URL")
    format_args(p)

    p = command("example", "write an RFC example as the files the commands take",
                "Write an RFC example from the repository's vectors/ (RFC 9421, RFC 9530, RFC "
                "9635) as the files\nthe other commands take -- message, request, key, "
                "Signature-Input -- and print the next\ncommands to run.",
                "example (RFC 9421 B.2.6, two commands):\n  op-continue example rfc9421-B.2.6 "
                "--out b26\n  op-continue sign --message b26/message.txt --signature-input "
                "\"$(cat b26/signature-input.txt)\" --key b26/key.pem\n\n"
                "the examples are data: vectors/ beside op_continue.py in a source checkout; a "
                "vendored copy\nor a pip install has none: give --vectors DIR\n\n" + _SEE_EXIT,
                _cmd_example)
    p.add_argument("id", nargs="?", help="the example's id (see --list), e.g. rfc9421-B.2.6")
    p.add_argument("--list", action="store_true", help="list the example ids")
    p.add_argument("--out", metavar="DIR", help="directory to write the files in (made if "
                                                "missing; files in it are replaced)")
    p.add_argument("--vectors", metavar="DIR",
                   help="the vectors/ directory (default: vectors/ beside op_continue.py)")

    def online_args(p: Any) -> None:
        env_option(p, "--private-key", "PRIVATE_KEY_PATH", "the client's key file",
                   metavar="FILE")
        env_option(p, "--key-id", "KEY_ID", "its key id in the wallet address's JWKS",
                   metavar="ID")
        p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"for the whole exchange (default: {DEFAULT_TIMEOUT:g})")
        p.add_argument("--allow-http", action="store_true",
                       help="permit plain http to a loopback address (tests, demos)")
        p.add_argument("--dry-run", action="store_true",
                       help="print the signed request, send nothing (sending adds User-Agent "
                            "and Accept-Encoding: identity, and ends lines with CRLF)")
        p.add_argument("--show-base", action="store_true",
                       help="with --dry-run: print the signature base after the request "
                            "(the JSON has it as signature_base)")
        format_args(p)
        p.add_argument("--created", type=int, metavar="UNIX", help="fix the signature time")
        p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="also accept continue and manage URLs on this origin "
                            "(scheme://host[:port]; repeatable)")

    p = command("grant", "request a grant (RFC 9635 §2)",
                "Request a grant (RFC 9635 §2). With --finish-uri the grant is interactive: it "
                "prints CLIENT_NONCE,\nCONTINUE_* and INTERACT_* (send the user to "
                "INTERACT_REDIRECT, then run finish and continue).",
                _GRANT_EXAMPLE + "\n\n" + _FORMAT_HELP.format("grant ...") + "\n\n" + _ONLINE_EXIT,
                _cmd_grant)
    online_args(p)
    env_option(p, "--grant-endpoint", "GRANT_ENDPOINT", "the AS's grant endpoint URI",
               metavar="URL")
    env_option(p, "--wallet-address", "WALLET_ADDRESS", "the client's wallet address",
               metavar="URL")
    env_option(p, "--access", "ACCESS", "JSON array of access items (see the example)",
               metavar="JSON")
    env_option(p, "--finish-uri", "FINISH_URI", "interactive: where the AS sends the user back",
               metavar="URL")
    for name, summary, description, run in (
            ("continue", "continue with INTERACT_REF (RFC 9635 §5.1)",
             "Continue the grant after the user's interaction with INTERACT_REF (RFC 9635 §5.1) "
             "and print the\naccess token lines.", _cmd_continue),
            ("poll", "continue without interact_ref (RFC 9635 §5.2)",
             "Continue the grant without interact_ref (polling, RFC 9635 §5.2); exit 3 while "
             "it is pending.", _cmd_poll),
            ("cancel", "cancel the grant request (RFC 9635 §5.4)",
             "Cancel the grant request (RFC 9635 §5.4): DELETE the continue URI.", _cmd_cancel)):
        secrets = "CONTINUE_ACCESS_TOKEN" + (", INTERACT_REF" if name == "continue" else "")
        p = command(name, summary, description,
                    f"secrets: {secrets} from the environment, or the --...-file options\n\n"
                    + _FORMAT_HELP.format(name) + "\n\n" + _ONLINE_EXIT, run)
        online_args(p)
        env_option(p, "--continue-uri", "CONTINUE_URI", "the continue URI", metavar="URL")
        env_option(p, "--not-before", "CONTINUE_NOT_BEFORE",
                   "wait until this unix time before calling the continue URI (the AS's wait: "
                   "--format env prints it)", metavar="UNIX")
        secret_file(p, "continue-access-token", "CONTINUE_ACCESS_TOKEN", "the token")
        if name == "continue":
            secret_file(p, "interact-ref", "INTERACT_REF", "the interact_ref")
    for name, summary, description, run in (
            ("rotate", "rotate an access token (RFC 9635 §6.1)",
             "Rotate an access token (RFC 9635 §6.1): print the new ACCESS_TOKEN and "
             "MANAGE_URL.", _cmd_rotate),
            ("revoke", "revoke an access token (RFC 9635 §6.2)",
             "Revoke an access token (RFC 9635 §6.2): DELETE its manage URL.", _cmd_revoke)):
        p = command(name, summary, description,
                    "secret: ACCESS_TOKEN from the environment, or --access-token-file FILE\n\n"
                    + _FORMAT_HELP.format(name) + "\n\n" + _ONLINE_EXIT, run)
        online_args(p)
        env_option(p, "--manage-url", "MANAGE_URL", "the token's manage URL", metavar="URL")
        secret_file(p, "access-token", "ACCESS_TOKEN", "the token")
    return parser


# Exception class -> (exit code, message prefix); SignatureBaseError is a UsageError.
_EXIT_CODES: Tuple[Tuple[type, int, str], ...] = (
    (UsageError, EXIT_USAGE, "error: "),
    (VerificationError, EXIT_INVALID, "invalid: "),
    (GrantError, EXIT_GRANT_ERROR, "error: "),
    (ResponseError, EXIT_RESPONSE_ERROR, "error: malformed response: "),
    (TransportError, EXIT_TRANSPORT_ERROR, "error: "),
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The op-continue command. Returns the exit code (see _ENV_HELP)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    commands = parser.commands
    named = next((a for a in argv if not a.startswith("-")), "")
    refusal = _secret_option_error(argv)
    if refusal is not None:
        commands.get(named, parser).fail(refusal)
    args, extras = parser.parse_known_args(argv)
    if extras:
        commands[args.command].fail(_unrecognized(extras, args.command))
    args.sources = {}  # attr -> the option or environment variable it came from
    try:
        code: int = args.run(args)
        return code
    except (UsageError, VerificationError, GrantError, ResponseError, TransportError) as exc:
        exit_code, what = next(row[1:] for row in _EXIT_CODES if isinstance(exc, row[0]))
        print(f"op-continue: {what}{_printable(str(exc))}", file=sys.stderr)
        return exit_code
    except ModuleNotFoundError as exc:  # a vendored copy without its dependencies
        package = _PACKAGES.get((exc.name or "").partition(".")[0])
        if package is None:
            raise
        print(f"op-continue: error: this command needs {package[0]}, which is not installed: "
              f"{package[1]}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

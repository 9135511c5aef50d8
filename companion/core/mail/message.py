"""A message's bytes: headers, text and HTML parts and attachments, assembled directly.

Building is cheap (`prepare`) and deterministic: the same message gives the same bytes and
Message-ID on every attempt, so a receiver can tell a repeat.
"""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr, quote
from functools import lru_cache
from typing import Protocol
from urllib.parse import quote as url_quote

import idna

from companion.config import Config


class MailFields(Protocol):
    """What building a message reads: an `OutboxMessage` or a row of the same columns."""

    @property
    def id(self) -> int: ...
    @property
    def to_address(self) -> str: ...
    @property
    def to_name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def text_body(self) -> str: ...
    @property
    def html_body(self) -> str: ...
    @property
    def attachments(self) -> list[dict[str, str]]: ...
    @property
    def created_at(self) -> datetime: ...


CRLF = b"\r\n"
#: RFC 5322: a line is at most 998 octets; a part with longer lines is quoted-printable.
MAX_LINE = 998
#: Where headers are folded (RFC 5322 recommends 78).
FOLD_AT = 78
_LINE_BREAKS = re.compile(r"[\r\n]+")


def sender_address(config: Config) -> str:
    """The envelope sender: the address of `mail_from`."""
    return _address_of(config.mail_from)


@lru_cache(maxsize=8)
def _address_of(mail_from: str) -> str:
    return parseaddr(mail_from)[1]


def message_id(message: MailFields, config: Config) -> str:
    """The message's Message-ID; the same on every attempt, so a repeat can be recognised."""
    domain = sender_address(config).rpartition("@")[2] or "kollega.local"
    return f"<outbox-{message.id}.{int(message.created_at.timestamp())}@{domain}>"


def _one_line(value: str) -> str:
    # A line break in a header value would start a new header (header injection).
    return _LINE_BREAKS.sub(" ", value) if ("\n" in value or "\r" in value) else value


def _needs_encoding(value: str) -> bool:
    # Plain ASCII that looks like an encoded word would be decoded by mail programs.
    return not value.isascii() or "=?" in value


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 "B" encoded words of 64 characters at most, cut between characters (short
    enough to follow "Subject: " within 78 characters)."""
    data = value.encode("utf-8")
    words = []
    start = 0
    while start < len(data):
        end = min(start + 39, len(data))  # 39 bytes are 52 base64 characters
        while end < len(data) and data[end] & 0xC0 == 0x80:  # never inside a character
            end -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[start:end]).decode()}?=")
        start = end
    return words


def _fold(name: str, words: Sequence[str]) -> bytes:
    """`Name: words` with lines folded before FOLD_AT where a space allows."""
    lines = []
    line = f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > FOLD_AT and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode()


def _header(name: str, value: str) -> bytes:
    """`Name: value` with RFC 2047 encoded words for non-ASCII text, folded at 78."""
    value = _one_line(value)
    if _needs_encoding(value):
        return _fold(name, _encoded_words(value))
    if len(name) + 2 + len(value) <= FOLD_AT:
        return f"{name}: {value}\r\n".encode("ascii")
    return _fold(name, value.split(" "))


def _mailbox(name: str, address: str) -> str:
    """A From/To value: the name encoded if need be; a non-ASCII address stays UTF-8."""
    name = _one_line(name)
    if not name:
        return address
    if not _needs_encoding(name) and address.isascii():
        return formataddr((name, address))
    return " ".join([*_encoded_words(name), f"<{address}>"])


def deliverable_address(address: str) -> str:
    """The address as mail goes to it: an international domain in its ASCII (IDNA) form,
    which every server takes; only a non-ASCII local part then needs SMTPUTF8 (RFC 6531)."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return address  # left as it is: the server refuses it, and the outbox says why
    return f"{local}@{ascii_domain}"


def _address_header(name: str, display_name: str, address: str) -> bytes:
    value = _mailbox(display_name, address)
    if len(name) + 2 + len(value) <= FOLD_AT:
        return f"{name}: {value}\r\n".encode()
    return _fold(name, value.split(" "))


@lru_cache(maxsize=8)
def _from_header(mail_from: str) -> bytes:
    return _address_header("From", *parseaddr(mail_from))


def _param(key: str, value: str) -> str:
    if value.isascii() and value.isprintable():
        return f'; {key}="{quote(value)}"'
    return f"; {key}*=utf-8''{url_quote(value, safe='')}"  # RFC 2231


@dataclass
class _Part:
    headers: bytes
    body: bytes
    #: Whether the body has 8-bit bytes (the transport then asks for BODY=8BITMIME).
    eight_bit: bool = False
    #: Whether the body is sent as it is (7bit/8bit), so a boundary must be checked against it.
    literal: bool = True


def _text_part(
    content: str, content_type: str, extra: bytes = b"", *, seven_bit: bool = False
) -> _Part:
    """A UTF-8 text part: as it is (7bit/8bit) when no line is too long, else quoted-printable.

    `seven_bit` asks for quoted-printable whenever the text is not ASCII, for a server that
    does not offer 8BITMIME (RFC 6152).
    """
    raw = content.encode("utf-8")
    lines = raw.splitlines()
    body = CRLF.join(lines) + CRLF if lines else b""
    headers = f'Content-Type: {content_type}; charset="utf-8"'.encode()
    if max(map(len, lines), default=0) <= MAX_LINE and not (seven_bit and not raw.isascii()):
        eight_bit = not raw.isascii()
        cte = b"8bit" if eight_bit else b"7bit"
        return _Part(
            headers + CRLF + b"Content-Transfer-Encoding: " + cte + CRLF + extra, body, eight_bit
        )
    encoded = binascii.b2a_qp(body, istext=True)
    headers += CRLF + b"Content-Transfer-Encoding: quoted-printable" + CRLF + extra
    return _Part(headers, encoded, literal=False)


def _attachment_part(attachment: dict[str, str], *, seven_bit: bool = False) -> _Part:
    maintype, _, rest = attachment["content_type"].partition("/")
    subtype, _, raw_params = rest.partition(";")
    params = "".join(
        _param(key.strip(), value.strip().strip('"'))
        for key, _, value in (p.partition("=") for p in raw_params.split(";") if "=" in p)
    )
    disposition = f"Content-Disposition: attachment{_param('filename', attachment['filename'])}"
    extra = disposition.encode() + CRLF
    content_type = f"{maintype.strip()}/{subtype.strip()}"
    if maintype.strip() == "text":
        # Text parts keep their charset; calendar clients also read METHOD from the part's
        # Content-Type.
        part = _text_part(attachment["content"], content_type, extra, seven_bit=seven_bit)
        if params:
            first, _, others = part.headers.partition(CRLF)
            part.headers = first + params.encode() + CRLF + others
        return part
    body = base64.encodebytes(attachment["content"].encode()).replace(b"\n", CRLF)
    headers = f"Content-Type: {content_type}{params}\r\nContent-Transfer-Encoding: base64\r\n"
    return _Part(headers.encode() + extra, body, literal=False)


def _boundary(seed: str, parts: Sequence[_Part]) -> str:
    # "=_" never occurs in quoted-printable or base64 text; bodies sent as they are (and
    # multiparts holding one) are checked, and the next number is taken on a collision.
    # Derived from the message, not random, so every attempt sends the very same bytes.
    number = 0
    while True:
        boundary = f"=_kollega_{seed}_{number}"
        marker = b"--" + boundary.encode()
        if not any(p.literal and marker in p.body for p in parts):
            return boundary
        number += 1


def _multipart(subtype: str, seed: str, parts: Sequence[_Part]) -> _Part:
    boundary = _boundary(seed, parts)
    delimiter = f"--{boundary}".encode()
    # The line break before a delimiter belongs to the delimiter (RFC 2046), not to the body.
    chunks = []
    for part in parts:
        chunks += [delimiter, CRLF, part.headers, CRLF, part.body, CRLF]
    chunks += [delimiter, b"--", CRLF]
    return _Part(
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode(),
        b"".join(chunks),
        eight_bit=any(p.eight_bit for p in parts),
        # Holds its parts' literal text: an enclosing boundary must be checked against it.
        literal=any(p.literal for p in parts),
    )


@dataclass(frozen=True)
class Outgoing:
    """One message as a transport sends it: the envelope and the exact bytes."""

    id: int
    sender: str
    recipient: str
    raw: bytes
    #: The bytes have 8-bit text (UTF-8 bodies), for BODY=8BITMIME.
    eight_bit: bool = False
    #: The recipient's address is not ASCII (needs the server's SMTPUTF8).
    smtputf8: bool = False
    #: Makes the same message with quoted-printable text, for a server without 8BITMIME.
    seven_bit_form: Callable[[], Outgoing] | None = field(default=None, compare=False, repr=False)
    #: What SMTP sends: the addresses as in MAIL FROM / RCPT TO, and the dot-stuffed data.
    #: Made with the rest, so that delivery prepares them while the server is busy.
    smtp_sender: str = field(init=False)
    smtp_recipient: str = field(init=False)
    smtp_data: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "smtp_sender", _quoted_address(self.sender))
        object.__setattr__(self, "smtp_recipient", _quoted_address(self.recipient))
        object.__setattr__(self, "smtp_data", _dot_stuffed(self.raw))


#: A plain address (no display name, comments or quoting), which smtplib would just bracket.
_PLAIN_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def _quoted_address(address: str) -> str:
    """The address as MAIL FROM / RCPT TO take it, as `smtplib.quoteaddr` makes it (whose
    full RFC 5322 parse is kept for anything but a plain address)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _dot_stuffed(raw: bytes) -> bytes:
    """The DATA payload without its end: lines starting with "." doubled (RFC 5321 4.5.2),
    as smtplib does it (with a replace, ten times faster than its regular expression)."""
    data = raw.replace(b"\n.", b"\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data if data.endswith(CRLF) else data + CRLF


def message_bytes(message: MailFields, config: Config) -> bytes:
    """The message as sent (CRLF line ends): text, HTML alternative and attachments."""
    return prepare(message, config).raw


def prepare(
    message: MailFields, config: Config, sender: str | None = None, *, seven_bit: bool = False
) -> Outgoing:
    """The message's envelope and bytes, assembled directly.

    The `email` package's modern API parses every header it sets and refolds it when
    flattening, several milliseconds a message; this writes the same structure (text/plain
    and text/html alternatives, attachments beside them) in a tenth of a millisecond. Bodies
    go as they are (7bit/8bit) unless a line is too long for SMTP, then quoted-printable.
    """
    parts = [_text_part(message.text_body, "text/plain", seven_bit=seven_bit)]
    if message.html_body:
        parts.append(_text_part(message.html_body, "text/html", seven_bit=seven_bit))
    body = parts[0] if len(parts) == 1 else _multipart("alternative", f"a{message.id}", parts)
    if message.attachments:
        attachments = [_attachment_part(a, seven_bit=seven_bit) for a in message.attachments]
        body = _multipart("mixed", f"m{message.id}", [body, *attachments])
    recipient = deliverable_address(message.to_address)
    raw = b"".join(
        (
            _from_header(config.mail_from),
            _address_header("To", message.to_name, recipient),
            _header("Subject", message.subject),
            b"Date: " + format_datetime(message.created_at).encode() + CRLF,
            b"Message-ID: " + message_id(message, config).encode() + CRLF,
            b"Auto-Submitted: auto-generated\r\n",
            b"MIME-Version: 1.0\r\n",
            body.headers,
            CRLF,
            body.body,
        )
    )
    return Outgoing(
        id=message.id,
        sender=sender if sender is not None else sender_address(config),
        recipient=recipient,
        raw=raw,
        eight_bit=body.eight_bit or not recipient.isascii(),
        smtputf8=not recipient.isascii(),
        seven_bit_form=(lambda: prepare(message, config, sender, seven_bit=True))
        if body.eight_bit
        else None,
    )


def build_email(message: MailFields, config: Config) -> EmailMessage:
    """The message as an `EmailMessage` (for the outbox page's .eml download): the very bytes
    delivery sends, parsed."""
    email = message_from_bytes(message_bytes(message, config), policy=email_policy.default)
    assert isinstance(email, EmailMessage)
    return email

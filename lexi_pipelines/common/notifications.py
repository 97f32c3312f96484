"""E-mail notifications: building messages, sending them over SMTP, keeping them as ``.eml`` files.

Pure module (no Dagster import): ``lexi_pipelines.common.notifier`` wraps it in a resource.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import os
import random
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

SmtpSecurity = Literal["none", "starttls", "ssl"]
EVENT_HEADER = "X-Lexi-Event"

# Types `mimetypes` may not know (it depends on the machine's /etc/mime.types).
_KNOWN_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".html": "text/html",
    ".pdf": "application/pdf",
}
_KIND = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MIME = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
# Deliberately loose (RFC 5322 is far wider): one @, no spaces, a non-empty local part and domain;
# the domain may lack a dot so ``lexi-pipelines@localhost`` is accepted.
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class NotificationError(RuntimeError):
    """A notification that cannot be delivered: retrying the same message will not help."""

    def __init__(self, reason: str, *, host: str | None = None) -> None:
        super().__init__(f"SMTP server {host}: {reason}" if host else reason)
        self.reason = reason
        self.host = host


class InvalidAddressError(NotificationError, ValueError):
    """A sender or recipient that is not an e-mail address (a configuration or caller error)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str

    def __post_init__(self) -> None:
        if not self.filename or Path(self.filename).name != self.filename:
            raise ValueError(f"attachment filename {self.filename!r}: expected a bare file name")
        if not _MIME.fullmatch(self.mime_type):
            raise ValueError(
                f"attachment {self.filename!r}: mime_type {self.mime_type!r} is not 'type/subtype'"
            )

    @classmethod
    def from_path(cls, path: Path, mime_type: str | None = None) -> Attachment:
        path = Path(path)
        guessed = (
            mime_type
            or _KNOWN_TYPES.get(path.suffix.lower())
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream"
        )
        return cls(filename=path.name, content=path.read_bytes(), mime_type=guessed)


@dataclass(frozen=True)
class Notification:
    subject: str
    body: str
    recipients: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    kind: str = "info"

    def __post_init__(self) -> None:
        # Accept lists from callers; keep the frozen value hashable.
        object.__setattr__(self, "recipients", tuple(self.recipients))
        object.__setattr__(self, "attachments", tuple(self.attachments))
        if not _KIND.fullmatch(self.kind):
            raise ValueError(
                f"notification kind {self.kind!r}: expected letters, digits, '.', '_' or '-'"
            )


def _checked_address(value: str, role: str) -> tuple[str, str]:
    """``(display name, address)`` of ``value``, or an error naming it and its role."""
    # getaddresses, not parseaddr: "a@x, b@y" must fail, not quietly become "a@x".
    parsed = getaddresses([value])
    if "\n" in value or "\r" in value or len(parsed) != 1 or not _ADDRESS.fullmatch(parsed[0][1]):
        raise InvalidAddressError(
            f"{role} {value!r} is not a valid e-mail address (one address per entry, "
            'like "a@example.org" or "Name <a@example.org>")'
        )
    return parsed[0]


def build_message(
    notification: Notification, *, sender: str, default_recipients: Sequence[str]
) -> EmailMessage:
    """The e-mail for ``notification``: default recipients first, duplicates dropped.

    Raises ``InvalidAddressError`` naming the first bad address. An empty recipient list is
    allowed (the outbox keeps such messages); ``send_smtp`` refuses it.
    """
    sender_name, sender_address = _checked_address(sender, "sender")
    recipients: list[str] = []
    seen: set[str] = set()
    for value in (*default_recipients, *notification.recipients):
        name, address = _checked_address(value, "recipient")
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(formataddr((name, address)))

    message = EmailMessage()
    # Subjects built from data may carry newlines, which headers cannot hold.
    message["Subject"] = " ".join(notification.subject.split()) or "(no subject)"
    message["From"] = formataddr((sender_name, sender_address))
    if recipients:
        message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender_address.rpartition("@")[2])
    message[EVENT_HEADER] = notification.kind
    message.set_content(notification.body)
    for attachment in notification.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


# --------------------------------------------------------------------------------- SMTP delivery


def _classify(error: Exception) -> tuple[bool, str]:
    """``(transient, reason)``: 4xx replies and network faults are worth another attempt."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        transient = all(400 <= code < 500 for code, _ in error.recipients.values())
        return transient, f"recipients refused: {_refusals(error.recipients)}"
    if isinstance(error, smtplib.SMTPResponseException):
        # Covers auth (535), sender refused, DATA refused, HELO and connect (421) replies.
        what = (
            "authentication failed"
            if isinstance(error, smtplib.SMTPAuthenticationError)
            else "server replied"
        )
        return 400 <= error.smtp_code < 500, f"{what}: {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return False, f"not supported by the server: {error}"
    if isinstance(error, ssl.SSLError):
        # Certificate and protocol mismatches are configuration, not weather.
        return False, f"TLS error: {error}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True, f"connection lost: {error}"
    if isinstance(error, smtplib.SMTPException):
        # e.g. "No suitable authentication method found" (SMTPException is an OSError too).
        return False, f"{type(error).__name__}: {error}"
    if isinstance(error, OSError):  # refused, reset, timed out, name resolution
        return True, f"{type(error).__name__}: {error}"
    return False, f"{type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {_text(reply)})" for address, (code, reply) in refused.items()
    )


def _close(client: smtplib.SMTP) -> None:
    # A failing QUIT after the message was accepted must not turn into a retry (a duplicate).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _deliver_once(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    security: SmtpSecurity,
    username: str | None,
    password: str | None,
    timeout: float,
    context: ssl.SSLContext | None,
) -> dict[str, tuple[int, bytes]]:
    # Connecting in the constructor sets the name TLS verifies; a failed greeting closes itself.
    client = (
        smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        if security == "ssl"
        else smtplib.SMTP(host, port, timeout=timeout)
    )
    try:
        if security == "starttls":
            # Raises SMTPNotSupportedError when not offered: never fall back to plain text.
            client.starttls(context=context)
        if username:
            client.login(username, password or "")
        return client.send_message(message)
    finally:
        _close(client)


def send_smtp(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    security: SmtpSecurity,
    username: str | None,
    password: str | None,
    timeout: float,
    attempts: int = 3,
    ca_file: str | None = None,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Deliver ``message`` to its To/Cc/Bcc recipients through ``host:port``.

    Transient faults (refused or reset connections, timeouts, 4xx replies) are retried up to
    ``attempts`` times in all, ``backoff_s * 2**n`` apart with +-50 % jitter. Permanent ones
    (5xx replies such as auth refused or recipient refused, TLS errors) raise
    ``NotificationError`` at once, naming the host. A reply lost after the DATA was sent may
    still lead to a second copy; both carry the same Message-ID, so mail clients merge them.
    """
    if security not in ("none", "starttls", "ssl"):
        raise ValueError(f"SMTP security {security!r}: expected 'none', 'starttls' or 'ssl'")
    server = f"{host}:{port}"
    if not any(message.get_all(field) for field in ("To", "Cc", "Bcc")):
        raise NotificationError("the message has no recipients", host=server)
    context = ssl.create_default_context(cafile=ca_file) if security != "none" else None
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        try:
            refused = _deliver_once(
                message,
                host=host,
                port=port,
                security=security,
                username=username,
                password=password,
                timeout=timeout,
                context=context,
            )
        except Exception as error:
            transient, reason = _classify(error)
            if not transient:
                raise NotificationError(reason, host=server) from error
            if attempt == attempts:
                raise NotificationError(
                    f"gave up after {attempts} attempts: {reason}", host=server
                ) from error
            delay = backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            logger.warning(
                "SMTP %s attempt %d/%d failed (%s); retrying in %.1f s",
                server,
                attempt,
                attempts,
                reason,
                delay,
            )
            sleep(delay)
            continue
        if refused:
            # Accepted for the others: retrying would send them a second copy.
            raise NotificationError(
                f"delivered, but these recipients were refused: {_refusals(refused)}", host=server
            )
        return


# ----------------------------------------------------------------------------------------- outbox


def write_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write ``message`` to ``outbox/<UTC time>-<kind>-<hash>.eml`` atomically; return the path.

    The temporary file does not end in ``.eml``, so a reader listing ``*.eml`` never sees half
    a message.
    """
    outbox = Path(outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    data = message.as_bytes(policy=policy.SMTP)  # CRLF line ends, as .eml readers expect
    kind = str(message.get(EVENT_HEADER) or "info")
    kind = re.sub(r"[^A-Za-z0-9_.-]+", "-", kind).strip("-.") or "info"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = outbox / f"{stamp}-{kind}-{hashlib.sha256(data).hexdigest()[:10]}.eml"
    temporary = outbox / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            # The outbox is the copy of last resort: make it survive a crash.
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target

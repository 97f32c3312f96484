"""A real SMTP server on 127.0.0.1 (aiosmtpd) and a self-signed certificate, for tests.

``with LoopbackSMTP() as server: ...`` listens on an ephemeral port; ``server.received`` holds
what it accepted. Faults are scripted: ``data_replies`` are answered to DATA before accepting,
``refuse`` lists recipients answered with 550, ``credentials`` requires AUTH (LOGIN or PLAIN).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: str | None

    @property
    def message(self) -> EmailMessage:
        return cast(EmailMessage, message_from_bytes(self.content, policy=policy.default))


@dataclass
class _Handler:
    data_replies: list[str]
    refuse: set[str]
    received: list[Received] = field(default_factory=list)
    data_commands: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        content = envelope.original_content or b""
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, login)
        )
        return "250 2.0.0 accepted"


class _EphemeralController(Controller):
    """aiosmtpd's threaded controller, bound to port 0 (it only knows fixed ports)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class LoopbackSMTP:
    def __init__(
        self,
        *,
        data_replies: list[str] | None = None,
        refuse: set[str] | None = None,
        credentials: tuple[str, str] | None = None,
        tls: Path | None = None,
        implicit_tls: bool = False,
        only_mechanism: str | None = None,
    ) -> None:
        """``tls``: folder with ``cert.pem``/``key.pem`` (see ``write_self_signed``); offered by
        STARTTLS (required before MAIL), or from the first byte with ``implicit_tls``."""
        self.handler = _Handler(list(data_replies or []), {r.lower() for r in refuse or set()})
        self.mechanisms: list[str] = []
        self.credentials = credentials
        context = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
        kwargs: dict[str, Any] = {}
        if implicit_tls:
            kwargs["ssl_context"] = context
        elif context is not None:
            kwargs.update(tls_context=context, require_starttls=True)
        if credentials is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # Plain-text AUTH is fine on loopback; with TLS aiosmtpd's default still applies.
                auth_require_tls=tls is not None,
            )
        if only_mechanism is not None:
            kwargs["auth_exclude_mechanism"] = {"LOGIN", "PLAIN"} - {only_mechanism}
        self._controller = _EphemeralController(self.handler, hostname="127.0.0.1", **kwargs)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        expected = self.credentials
        ok = (
            expected is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == expected
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def __enter__(self) -> LoopbackSMTP:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def data_commands(self) -> int:
        return self.handler.data_commands


def write_self_signed(folder: Path) -> Path:
    """A certificate for ``localhost`` and ``127.0.0.1`` and its key; ``cert.pem`` is the CA."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lexi-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem"

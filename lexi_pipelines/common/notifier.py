"""The ``notifier`` resource: e-mail over SMTP, or ``.eml`` files in an outbox folder."""

from pathlib import Path
from typing import Literal

import dagster as dg
from pydantic import Field

from lexi_pipelines.common.notifications import (
    Notification,
    NotificationError,
    build_message,
    send_smtp,
    write_outbox,
)

# ``send`` returns this prefix and the .eml path when SMTP failed and the outbox kept the message.
OUTBOX_FALLBACK_PREFIX = "outbox-fallback:"
SMTP_ATTEMPTS = 3
SMTP_BACKOFF_S = 1.0


class NotifierResource(dg.ConfigurableResource):
    """Sends notifications by e-mail; without an SMTP host, writes them to the outbox folder."""

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server (LEXI_SMTP_HOST); unset: write .eml files to outbox_path.",
    )
    # No gt/lt bounds: pydantic would check an unresolved EnvVar.int, which reads as 0.
    smtp_port: int = Field(default=587, description="587 for starttls, 465 for ssl.")
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="starttls",
        description="starttls (port 587), ssl (implicit TLS, port 465) or none (plain text). "
        "Certificates are verified; SSL_CERT_FILE names a private CA bundle.",
    )
    smtp_username: str | None = Field(default=None, description="Log in when set.")
    smtp_password: str | None = Field(default=None, description="Set it with an EnvVar.")
    smtp_timeout_s: float = Field(default=30, gt=0)
    sender: str = Field(default="lexi-pipelines@localhost", description="From address.")
    recipients: list[str] = Field(
        default=[], description="Addresses every notification goes to (LEXI_NOTIFY_TO)."
    )
    outbox_path: str = Field(
        description="Folder for .eml files: the embedded default and the copy kept when SMTP "
        "fails (default $LEXI_HOME/outbox)."
    )

    def send(self, notification: Notification) -> str:
        """Send ``notification``; return ``smtp://host:port`` or the path of the .eml file.

        A bad address raises ``InvalidAddressError``. When SMTP fails (after its retries, or at
        once for a permanent refusal) the message goes to the outbox instead, a warning is
        logged, and the path comes back prefixed with ``OUTBOX_FALLBACK_PREFIX``.
        """
        message = build_message(
            notification, sender=self.sender, default_recipients=self.recipients
        )
        outbox = Path(self.outbox_path).expanduser()
        log = dg.get_dagster_logger()
        if not self.smtp_host:
            path = write_outbox(message, outbox)
            log.info(f"notification {notification.kind!r} written to {path}")
            return str(path)
        try:
            send_smtp(
                message,
                host=self.smtp_host,
                port=self.smtp_port,
                security=self.smtp_security,
                username=self.smtp_username,
                password=self.smtp_password,
                timeout=self.smtp_timeout_s,
                attempts=SMTP_ATTEMPTS,
                backoff_s=SMTP_BACKOFF_S,
            )
        except NotificationError as error:
            try:
                path = write_outbox(message, outbox)
            except OSError as write_error:
                raise NotificationError(
                    f"{error.reason}; the outbox copy failed too: {write_error}",
                    host=error.host,
                ) from error
            log.warning(f"notification {notification.kind!r} not sent ({error}); kept in {path}")
            return f"{OUTBOX_FALLBACK_PREFIX}{path}"
        target = f"smtp://{self.smtp_host}:{self.smtp_port}"
        log.info(f"notification {notification.kind!r} sent through {target}")
        return target

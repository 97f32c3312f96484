"""Notifications against a real SMTP server on loopback (aiosmtpd) and a real outbox folder."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import dagster as dg
import pytest

from lexi_pipelines.common import notifier as notifier_module
from lexi_pipelines.common.notifications import (
    Attachment,
    InvalidAddressError,
    Notification,
    NotificationError,
    build_message,
    send_smtp,
    write_outbox,
)
from lexi_pipelines.common.notifier import OUTBOX_FALLBACK_PREFIX, NotifierResource
from lexi_pipelines_tests.common.loopback_smtp import LoopbackSMTP, write_self_signed

# Plain-text AUTH on loopback is deliberate in a few tests.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WORKBOOK = bytes(range(256)) * 40  # binary content must survive byte for byte
ISSUES_CSV = "row,column,problem\r\n3,label,empty\r\n7,text,\u00e9t\u00e9 trop long\r\n".encode()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notifier_module, "SMTP_BACKOFF_S", 0.01)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never greets: clients time out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def _notification(**changes: Any) -> Notification:
    values: dict[str, Any] = {
        "subject": "QC failed: claims/default",
        "body": "3 rows failed validation.\nSee the attached report.",
        "recipients": ("analyst@example.org",),
        "attachments": (
            Attachment("results.xlsx", WORKBOOK, XLSX),
            Attachment("issues.csv", ISSUES_CSV, "text/csv"),
        ),
        "kind": "evaluation.qc_failed",
    }
    values.update(changes)
    return Notification(**values)


def _message(**changes: Any) -> EmailMessage:
    return build_message(
        _notification(**changes), sender="Lexi <lexi@example.org>", default_recipients=[]
    )


def _send(server: LoopbackSMTP, message: EmailMessage, **options: Any) -> None:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": "none",
        "username": None,
        "password": None,
        "timeout": 5,
        "backoff_s": 0.01,
    }
    settings.update(options)
    send_smtp(message, **settings)


def _attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    return {
        str(part.get_filename()): (
            part.get_content_type(),
            cast(bytes, part.get_payload(decode=True)),
        )
        for part in message.iter_attachments()
    }


def _assert_is_the_notification(message: EmailMessage) -> None:
    assert message["Subject"] == "QC failed: claims/default"
    assert message["X-Lexi-Event"] == "evaluation.qc_failed"
    assert message["Message-ID"] and message["Date"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "3 rows failed validation." in body.get_content()
    assert _attachments(message) == {
        "results.xlsx": (XLSX, WORKBOOK),
        "issues.csv": ("text/csv", ISSUES_CSV),
    }


def _resource(tmp_path: Path, **fields: Any) -> NotifierResource:
    return NotifierResource(
        outbox_path=str(tmp_path / "outbox"), recipients=["ops@example.org"], **fields
    )


def _outbox_file(result: str) -> Path:
    assert result.startswith(OUTBOX_FALLBACK_PREFIX), result
    return Path(result.removeprefix(OUTBOX_FALLBACK_PREFIX))


# ------------------------------------------------------------------------------- building


def test_build_message_dedupes_recipients_and_sets_headers() -> None:
    message = build_message(
        _notification(recipients=["OPS@example.org", "dev@example.org"]),
        sender="lexi-pipelines@localhost",
        default_recipients=["Ops Team <ops@example.org>", "dev@example.org"],
    )
    assert message["To"] == "Ops Team <ops@example.org>, dev@example.org"
    assert message["From"] == "lexi-pipelines@localhost"
    assert message["Message-ID"].endswith("@localhost>")
    _assert_is_the_notification(message)


@pytest.mark.parametrize(
    "bad",
    ["not-an-address", "ops@", "@example.org", "a@x.org, b@y.org", "ops@example.org\nBcc: x@y"],
)
def test_a_bad_recipient_is_a_clear_error_naming_it(bad: str, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidAddressError, match=r"recipient .* is not a valid e-mail address"
    ) as e:
        build_message(_notification(recipients=[bad]), sender="a@b.org", default_recipients=[])
    assert repr(bad) in str(e.value)
    # The resource raises it too (a configuration error), and keeps nothing in the outbox.
    with pytest.raises(InvalidAddressError, match="recipient"):
        _resource(tmp_path).send(_notification(recipients=[bad]))
    assert not (tmp_path / "outbox").exists()


def test_a_bad_sender_is_named() -> None:
    with pytest.raises(InvalidAddressError, match="sender 'lexi pipelines'"):
        build_message(_notification(), sender="lexi pipelines", default_recipients=[])


def test_attachment_from_path_guesses_the_type(tmp_path: Path) -> None:
    (tmp_path / "results.xlsx").write_bytes(WORKBOOK)
    (tmp_path / "blob.unknownext").write_bytes(b"\x00")
    assert Attachment.from_path(tmp_path / "results.xlsx") == Attachment(
        "results.xlsx", WORKBOOK, XLSX
    )
    assert Attachment.from_path(tmp_path / "blob.unknownext").mime_type == (
        "application/octet-stream"
    )
    assert Attachment.from_path(tmp_path / "results.xlsx", "application/zip").mime_type == (
        "application/zip"
    )


# ------------------------------------------------------------------------------- SMTP delivery


def test_plain_delivery_with_attachments() -> None:
    with LoopbackSMTP() as server:
        _send(server, _message(recipients=("analyst@example.org", "lead@example.org")))
    [received] = server.received
    assert received.mail_from == "lexi@example.org"
    assert received.rcpt_tos == ["analyst@example.org", "lead@example.org"]
    assert received.message["To"] == "analyst@example.org, lead@example.org"
    _assert_is_the_notification(received.message)


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
def test_starttls_with_authentication(certificate: Path, mechanism: str) -> None:
    with LoopbackSMTP(
        tls=certificate.parent, credentials=("lexi", "s3cret"), only_mechanism=mechanism
    ) as server:
        _send(
            server,
            _message(),
            security="starttls",
            username="lexi",
            password="s3cret",
            ca_file=str(certificate),
        )
    [received] = server.received
    assert (received.login, server.mechanisms) == ("lexi", [mechanism])
    _assert_is_the_notification(received.message)


def test_implicit_tls(certificate: Path) -> None:
    with LoopbackSMTP(tls=certificate.parent, implicit_tls=True) as server:
        _send(server, _message(), security="ssl", ca_file=str(certificate))
    assert len(server.received) == 1


def test_an_untrusted_certificate_is_refused_at_once(certificate: Path) -> None:
    with (
        LoopbackSMTP(tls=certificate.parent) as server,
        pytest.raises(NotificationError, match=rf"127\.0\.0\.1:{server.port}: TLS error"),
    ):
        _send(server, _message(), security="starttls")
    assert server.received == []


def test_a_transient_reply_is_retried_and_delivered_once() -> None:
    delays: list[float] = []
    with LoopbackSMTP(data_replies=["451 4.3.0 try again later"]) as server:
        _send(server, _message(), sleep=delays.append)
    assert server.data_commands == 2
    assert len(server.received) == 1
    assert len(delays) == 1 and 0.005 <= delays[0] <= 0.015


def test_a_refused_recipient_fails_at_once_naming_the_host() -> None:
    with (
        LoopbackSMTP(refuse={"gone@example.org"}) as server,
        pytest.raises(NotificationError, match=r"recipients refused: gone@example\.org") as e,
    ):
        _send(server, _message(recipients=("gone@example.org",)))
    assert e.value.host == f"127.0.0.1:{server.port}"
    assert f"127.0.0.1:{server.port}" in str(e.value) and "550" in str(e.value)
    assert server.data_commands == 0


def test_a_partly_refused_message_is_not_sent_twice() -> None:
    with (
        LoopbackSMTP(refuse={"gone@example.org"}) as server,
        pytest.raises(NotificationError, match=r"delivered, but .*gone@example\.org"),
    ):
        _send(server, _message(recipients=("gone@example.org", "here@example.org")))
    assert [r.rcpt_tos for r in server.received] == [["here@example.org"]]


def test_wrong_credentials_fail_at_once() -> None:
    with (
        LoopbackSMTP(credentials=("lexi", "s3cret")) as server,
        pytest.raises(NotificationError, match="authentication failed: 535"),
    ):
        _send(server, _message(), username="lexi", password="wrong")
    # smtplib tries each offered mechanism once on the one connection; no second attempt.
    assert server.mechanisms == ["PLAIN", "LOGIN"] and server.received == []


def test_connection_refused_is_retried_with_growing_backoff(closed_port: int) -> None:
    delays: list[float] = []
    with pytest.raises(NotificationError, match="gave up after 3 attempts: ConnectionRefused"):
        send_smtp(
            _message(),
            host="127.0.0.1",
            port=closed_port,
            security="none",
            username=None,
            password=None,
            timeout=5,
            attempts=3,
            backoff_s=0.01,
            sleep=delays.append,
        )
    assert len(delays) == 2
    assert 0.005 <= delays[0] <= 0.015 and 0.01 <= delays[1] <= 0.03


def test_a_silent_server_times_out_and_is_retried(silent_port: int) -> None:
    with pytest.raises(NotificationError, match=r"gave up after 2 attempts: .*timed out"):
        send_smtp(
            _message(),
            host="127.0.0.1",
            port=silent_port,
            security="none",
            username=None,
            password=None,
            timeout=0.2,
            attempts=2,
            backoff_s=0.01,
        )


# ------------------------------------------------------------------------------- outbox


def test_the_outbox_default_writes_a_parseable_eml(tmp_path: Path) -> None:
    result = _resource(tmp_path).send(_notification())
    path = Path(result)
    assert path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    assert "-evaluation.qc_failed-" in path.name
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left
    message = cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))
    assert message["To"] == "ops@example.org, analyst@example.org"
    _assert_is_the_notification(message)


def test_write_outbox_keeps_messages_without_recipients(tmp_path: Path) -> None:
    message = build_message(Notification("hello", "body"), sender="a@b.org", default_recipients=())
    path = write_outbox(message, tmp_path / "deep" / "outbox")
    assert path.name.endswith(".eml") and "-info-" in path.name
    assert message_from_bytes(path.read_bytes())["Subject"] == "hello"


def test_resource_delivers_over_smtp(tmp_path: Path, certificate: Path) -> None:
    with LoopbackSMTP(tls=certificate.parent, credentials=("lexi", "s3cret")) as server:
        resource = _resource(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_username="lexi",
            smtp_password="s3cret",
        )
        # A private CA reaches the resource the standard way, through SSL_CERT_FILE.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SSL_CERT_FILE", str(certificate))
            result = resource.send(_notification())
    assert result == f"smtp://127.0.0.1:{server.port}"
    assert [r.rcpt_tos for r in server.received] == [["ops@example.org", "analyst@example.org"]]
    assert not (tmp_path / "outbox").exists()


def test_resource_keeps_a_refused_message_in_the_outbox(tmp_path: Path) -> None:
    with LoopbackSMTP(refuse={"ops@example.org", "analyst@example.org"}) as server:
        resource = _resource(
            tmp_path, smtp_host="127.0.0.1", smtp_port=server.port, smtp_security="none"
        )
        result = resource.send(_notification())
    path = _outbox_file(result)
    assert path.parent == tmp_path / "outbox"
    _assert_is_the_notification(
        cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=policy.default))
    )


def test_resource_falls_back_to_the_outbox_when_the_server_is_down(
    tmp_path: Path, closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    resource = _resource(tmp_path, smtp_host="127.0.0.1", smtp_port=closed_port)
    result = resource.send(_notification())
    assert _outbox_file(result).is_file()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("gave up after 3 attempts" in w and str(closed_port) in w for w in warnings)


# ------------------------------------------------------------------------------- wiring


def test_build_resources_configures_the_notifier_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lexi_pipelines.resources import build_resources
    from lexi_pipelines.settings import LexiSettings

    with LoopbackSMTP(credentials=("lexi", "s3cret")) as server:
        for name, value in {
            "LEXI_HOME": str(tmp_path),
            "LEXI_SMTP_HOST": "127.0.0.1",
            "LEXI_SMTP_PORT": str(server.port),
            "LEXI_SMTP_SECURITY": "none",
            "LEXI_SMTP_USERNAME": "lexi",
            "LEXI_SMTP_PASSWORD": "s3cret",
            "LEXI_NOTIFY_FROM": "Lexi <lexi@example.org>",
            "LEXI_NOTIFY_TO": "ops@example.org, lead@example.org,",
        }.items():
            monkeypatch.setenv(name, value)
        notifier = build_resources(LexiSettings.from_env())["notifier"]
        assert isinstance(notifier, NotifierResource)
        # Secrets stay environment variables: the UI shows the name, never the value.
        assert isinstance(notifier.smtp_password, dg.EnvVar)
        assert notifier.smtp_password.env_var_name == "LEXI_SMTP_PASSWORD"
        assert notifier.recipients == ["ops@example.org", "lead@example.org"]
        assert notifier.outbox_path == str(tmp_path / "outbox")

        @dg.asset
        def notify(notifier: NotifierResource) -> str:
            return notifier.send(Notification("run done", "ok", kind="evaluation.completed"))

        result = dg.materialize([notify], resources={"notifier": notifier})
        assert result.output_for_node("notify") == f"smtp://127.0.0.1:{server.port}"
    [received] = server.received
    assert received.login == "lexi"
    assert received.rcpt_tos == ["ops@example.org", "lead@example.org"]
    assert received.message["X-Lexi-Event"] == "evaluation.completed"


def test_build_resources_defaults_to_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lexi_pipelines.resources import build_resources
    from lexi_pipelines.settings import LexiSettings

    for name in ("LEXI_SMTP_HOST", "LEXI_SMTP_PASSWORD", "LEXI_OUTBOX_PATH", "LEXI_NOTIFY_TO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEXI_HOME", str(tmp_path))
    notifier = build_resources(LexiSettings.from_env())["notifier"]
    assert notifier.smtp_host is None and notifier.smtp_password is None
    assert notifier.outbox_path == str(tmp_path.resolve() / "outbox")
    assert notifier.smtp_port == 587 and notifier.smtp_security == "starttls"

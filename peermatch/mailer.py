"""SMTP delivery of one message, with the failure sorted into temporary or permanent.

``PEERMATCH_SMTP_URL`` names the server: ``smtp://host:port`` (plain), ``smtp+starttls://``
or ``?starttls=true`` (upgrade with STARTTLS), ``smtps://`` (TLS from the start); credentials as
``user:password@`` (percent-encoded where needed). The standard library's smtplib does the work.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpConfigError(ValueError):
    """PEERMATCH_SMTP_URL cannot be understood."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool = False
    implicit_tls: bool = False
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, starttls={self.starttls})"


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise SmtpConfigError(
            "PEERMATCH_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://"
        )
    if not parts.hostname:
        raise SmtpConfigError("PEERMATCH_SMTP_URL must name a host, like smtp://mail.example:25")
    try:
        port = parts.port or _SCHEMES[parts.scheme]
    except ValueError:
        raise SmtpConfigError("PEERMATCH_SMTP_URL has a port that is not a number") from None
    query = parse_qs(parts.query)
    flag = (query.get("starttls") or [""])[0].lower()
    if flag not in {"", "1", "true", "yes", "0", "false", "no"}:
        raise SmtpConfigError("PEERMATCH_SMTP_URL: starttls must be true or false")
    starttls = parts.scheme == "smtp+starttls" or flag in {"1", "true", "yes"}
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        starttls=starttls,
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class DeliveryFailed(Exception):
    """The server did not take the message. ``permanent`` for a 5xx refusal of this message;
    otherwise (4xx, refused or dropped connections, timeouts) a later attempt may succeed.
    ``reason`` is an SMTP code and the exception type: never an address or server text that
    could echo one."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def send(
    config: SmtpConfig, message: EmailMessage, *, to: str | None = None, timeout: float = 30.0
) -> None:
    """Hand ``message`` to the server, or raise DeliveryFailed. ``to`` is the one envelope
    recipient (the stored, normalised address): never what a header parser makes of ``To``."""
    try:
        client: smtplib.SMTP
        if config.implicit_tls:
            client = smtplib.SMTP_SSL(
                config.host, config.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with client:
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message, to_addrs=[to] if to is not None else None)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise _failure(min(codes) if codes else 0, type(exc).__name__) from None
    except smtplib.SMTPAuthenticationError as exc:
        # Wrong credentials are the relay's problem, not the message's: keep retrying until
        # someone fixes the configuration (or the message gives up).
        raise DeliveryFailed(f"{exc.smtp_code} authentication failed", permanent=False) from None
    except smtplib.SMTPResponseException as exc:
        raise _failure(exc.smtp_code, type(exc).__name__) from None
    except (smtplib.SMTPException, OSError) as exc:  # dropped, refused, timed out, TLS
        raise DeliveryFailed(type(exc).__name__, permanent=False) from None


def _failure(code: int, kind: str) -> DeliveryFailed:
    return DeliveryFailed(f"{code} {kind}", permanent=500 <= code < 600)

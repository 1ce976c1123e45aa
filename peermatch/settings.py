"""The one place that reads the environment.

Every setting is a ``PEERMATCH_*`` variable. Defaults are safe for a local demo; production mode
refuses to start with the demo secret or without an explicit database URL.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_SECRET = "peermatch-demo-secret-do-not-use-in-production"
DEFAULT_SQLITE = PROJECT_ROOT / "data" / "peermatch.sqlite3"


class SettingsError(Exception):
    """The environment asks for something unsafe or malformed."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def _networks(env: dict[str, str], name: str) -> tuple[Network, ...]:
    """Comma- or space-separated addresses or CIDR blocks, like ``10.0.0.0/8, 192.0.2.7``."""
    raw = env.get(name, "")
    networks = []
    for part in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or CIDR blocks, like 10.0.0.0/8; got {part!r}"
            ) from None
    return tuple(networks)


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    mode: str = "development"  # development | production | test
    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    database_url_explicit: bool = False
    secret_key: str = DEMO_SECRET
    base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    smtp_url: str | None = None
    mail_from: str = "PeerMatch <no-reply@peermatch.invalid>"
    smtp_retry_seconds: int = 60  # base of the exponential backoff after a temporary failure
    smtp_give_up_hours: int = 48  # a message still undelivered after this is a dead letter
    smtp_timeout_seconds: int = 30
    # The background worker (outbox relay, invitation reminders and expiries) inside `serve`.
    worker_in_serve: bool = True
    worker_interval_seconds: int = 30
    invitation_working_days: int = 5  # an invitation expires after this many working days
    reminder_working_days: int = 2  # a reminder goes this many working days before expiry
    rematch_time_limit: float = 10.0
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    solver_time_limit: float = 30.0
    # Partnership API: requests per minute per key, and failed key checks per client address
    # per minute before further attempts are refused for a growing time.
    api_rate_limit: int = 120
    api_auth_failures: int = 10
    # Reverse proxies whose X-Forwarded-For is believed (none by default: the direct peer is
    # the client). See peermatch/web/security.py client_address.
    trusted_proxies: tuple[Network, ...] = ()
    static_dir: Path = field(default=PROJECT_ROOT / "peermatch" / "static")

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def secure_cookies(self) -> bool:
        """Served over HTTPS: Secure cookies and HSTS. The scheme is case-insensitive
        (RFC 3986), so ``HTTPS://`` counts."""
        return self.base_url.strip().lower().startswith("https://")

    def check(self) -> None:
        """Refuse an unsafe production configuration."""
        for name, value in (
            ("PEERMATCH_SMTP_RETRY_SECONDS", self.smtp_retry_seconds),
            ("PEERMATCH_SMTP_GIVE_UP_HOURS", self.smtp_give_up_hours),
            ("PEERMATCH_SMTP_TIMEOUT_SECONDS", self.smtp_timeout_seconds),
            ("PEERMATCH_WORKER_INTERVAL_SECONDS", self.worker_interval_seconds),
            ("PEERMATCH_INVITATION_WORKING_DAYS", self.invitation_working_days),
        ):
            if value < 1:
                raise SettingsError(f"{name} must be at least 1, got {value}")
        if not 0 <= self.reminder_working_days < self.invitation_working_days:
            raise SettingsError(
                "PEERMATCH_REMINDER_WORKING_DAYS must be from 0 to one less than "
                "PEERMATCH_INVITATION_WORKING_DAYS"
            )
        if self.smtp_url is not None:
            from peermatch.mailer import SmtpConfigError, parse_smtp_url

            try:
                parse_smtp_url(self.smtp_url)
            except SmtpConfigError as exc:
                raise SettingsError(str(exc)) from None
        if self.mode not in {"development", "production", "test"}:
            raise SettingsError(
                f"PEERMATCH_MODE must be development, production or test, got {self.mode!r}"
            )
        if self.api_rate_limit < 1 or self.api_auth_failures < 1:
            raise SettingsError(
                "PEERMATCH_API_RATE_LIMIT and PEERMATCH_API_AUTH_FAILURES must be at least 1"
            )
        if self.production:
            if self.secret_key == DEMO_SECRET or len(self.secret_key) < 32:
                raise SettingsError(
                    "PEERMATCH_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production"
                )
            if not self.database_url_explicit:
                raise SettingsError("PEERMATCH_DATABASE_URL must be set in production")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    url = env.get("PEERMATCH_DATABASE_URL", "")
    settings = Settings(
        mode=env.get("PEERMATCH_MODE", "development"),
        database_url=url or f"sqlite:///{DEFAULT_SQLITE}",
        database_url_explicit=bool(url),
        secret_key=env.get("PEERMATCH_SECRET_KEY", DEMO_SECRET),
        base_url=env.get("PEERMATCH_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        host=env.get("PEERMATCH_HOST", "127.0.0.1"),
        port=_int(env, "PEERMATCH_PORT", 8000),
        smtp_url=env.get("PEERMATCH_SMTP_URL") or None,
        mail_from=env.get("PEERMATCH_MAIL_FROM", "PeerMatch <no-reply@peermatch.invalid>"),
        smtp_retry_seconds=_int(env, "PEERMATCH_SMTP_RETRY_SECONDS", 60),
        smtp_give_up_hours=_int(env, "PEERMATCH_SMTP_GIVE_UP_HOURS", 48),
        smtp_timeout_seconds=_int(env, "PEERMATCH_SMTP_TIMEOUT_SECONDS", 30),
        worker_in_serve=_bool(env, "PEERMATCH_WORKER_IN_SERVE", True),
        worker_interval_seconds=_int(env, "PEERMATCH_WORKER_INTERVAL_SECONDS", 30),
        invitation_working_days=_int(env, "PEERMATCH_INVITATION_WORKING_DAYS", 5),
        reminder_working_days=_int(env, "PEERMATCH_REMINDER_WORKING_DAYS", 2),
        rematch_time_limit=float(_int(env, "PEERMATCH_REMATCH_TIME_LIMIT", 10)),
        session_idle_minutes=_int(env, "PEERMATCH_SESSION_IDLE_MINUTES", 30),
        session_absolute_hours=_int(env, "PEERMATCH_SESSION_ABSOLUTE_HOURS", 12),
        solver_time_limit=float(_int(env, "PEERMATCH_SOLVER_TIME_LIMIT", 30)),
        api_rate_limit=_int(env, "PEERMATCH_API_RATE_LIMIT", 120),
        api_auth_failures=_int(env, "PEERMATCH_API_AUTH_FAILURES", 10),
        trusted_proxies=_networks(env, "PEERMATCH_TRUSTED_PROXIES"),
    )
    settings.check()
    return settings

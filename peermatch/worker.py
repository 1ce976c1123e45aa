"""The background worker: one round sends due reminders, expires unanswered invitations,
relays the outbox and re-matches the seats that declines and expiries freed.
``peermatch serve`` runs it in a thread; ``peermatch outbox relay`` runs it as a process of its
own (several may run at once). Re-matching is looked for every ``REMATCH_POLL_SECONDS``, so a
replacement is invited within seconds of a decline; the rest runs every
``worker_interval_seconds``."""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from peermatch import outbox
from peermatch.db import session_scope
from peermatch.outbox import RelayReport
from peermatch.settings import Settings
from peermatch.staffing import invitations

log = logging.getLogger("peermatch.worker")


REMATCH_POLL_SECONDS = 1.0


def rematch_round(engine: Engine, settings: Settings) -> int:
    """Re-match the requests waiting for a replacement; how many were handled."""
    from peermatch.staffing import rematch  # loads the solver: only where re-matching runs

    return rematch.run_due(engine, settings)


def run_round(engine: Engine, settings: Settings) -> RelayReport:
    """One round; the clock's work first, then re-matching the seats it freed, so that their
    emails go out in the same round."""
    with session_scope(engine) as session:
        done = invitations.tick(session, settings)
    if done.reminded or done.expired:
        log.info("%s reminder(s) sent, %s invitation(s) expired", done.reminded, done.expired)
    rematch_round(engine, settings)
    return outbox.relay_once(engine, settings)


class Worker:
    """``run_round`` every ``worker_interval_seconds`` in a daemon thread until stopped."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peermatch-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._settings.smtp_timeout_seconds + 5)

    def run(self) -> None:
        """Work in the calling thread until stopped (a process of its own)."""
        self._loop()

    def _loop(self) -> None:
        next_round = 0.0
        while not self._stop.is_set():
            full = time.monotonic() >= next_round
            try:
                if full:
                    run_round(self._engine, self._settings)
                elif rematch_round(self._engine, self._settings):
                    outbox.relay_once(self._engine, self._settings)  # the new invitations
            except (SQLAlchemyError, OSError) as exc:  # try again next round
                log.error("worker round failed: %s", type(exc).__name__)
            except Exception as exc:  # never let the thread die silently
                log.error("worker round failed unexpectedly: %s", type(exc).__name__)
            if full:
                next_round = time.monotonic() + self._settings.worker_interval_seconds
            self._stop.wait(min(REMATCH_POLL_SECONDS, self._settings.worker_interval_seconds))

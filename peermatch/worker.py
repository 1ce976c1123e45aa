"""The background worker: one round sends due reminders, expires unanswered invitations
(re-matching their seats) and relays the outbox. ``peermatch serve`` runs it in a thread;
``peermatch outbox relay`` runs it as a process of its own (several may run at once)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from peermatch import outbox
from peermatch.db import session_scope
from peermatch.outbox import RelayReport
from peermatch.settings import Settings
from peermatch.staffing import invitations

log = logging.getLogger("peermatch.worker")


def run_round(engine: Engine, settings: Settings) -> RelayReport:
    """One round; the clock's work first, so that its emails go out in the same round."""
    with session_scope(engine) as session:
        done = invitations.tick(session, settings)
    if done.reminded or done.expired:
        log.info("%s reminder(s) sent, %s invitation(s) expired", done.reminded, done.expired)
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

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_round(self._engine, self._settings)
            except (SQLAlchemyError, OSError) as exc:  # try again next round
                log.error("worker round failed: %s", type(exc).__name__)
            except Exception as exc:  # never let the thread die silently
                log.error("worker round failed unexpectedly: %s", type(exc).__name__)
            self._stop.wait(self._settings.worker_interval_seconds)

"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests, whose behaviour a test switches:
accept, refuse with 4xx or 5xx, or drop the connection; it can be stopped and restarted on the
same port. It keeps every message it accepted."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Handler:
    def __init__(self) -> None:
        self.mode = "accept"  # accept | refuse (451) | reject (550) | drop
        self.received: list[EmailMessage] = []
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.mode == "refuse":
            return "451 4.3.0 Try again later"
        if self.mode == "reject":
            return "550 5.1.1 Mailbox unavailable"
        if self.mode == "drop":
            server.transport.close()
            return "451 4.3.0 Connection dropped"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Handler()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.handler.received]

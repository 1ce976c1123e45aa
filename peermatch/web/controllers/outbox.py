"""The outbox: what PeerMatch has sent, is waiting to send, or could not deliver."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from peermatch import outbox
from peermatch.models import OutboxStatus
from peermatch.settings import Settings
from peermatch.web.params import Db, Me

# An email's HTML shown on its own: no script, nothing fetched, no form can post, its inline
# styles (email clients need them) allowed only in this sandboxed document.
_EMAIL_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class OutboxController(Controller):
    path = "/outbox"

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template:
        raw = str(request.query_params.get("status") or "pending")
        status = OutboxStatus(raw) if raw in set(OutboxStatus) else OutboxStatus.pending
        settings: Settings = request.app.state.settings
        return Template(
            "outbox/index.html",
            context={
                "status": str(status),
                "counts": outbox.counts(db, me.region_id),
                "messages": outbox.list_messages(db, me.region_id, status),
                "smtp_configured": settings.smtp_url is not None,
            },
        )

    @get("/{message_id:int}", sync_to_thread=True)
    def show(
        self, request: Request[Any, Any, Any], db: Db, message_id: FromPath[int], me: Me
    ) -> Template:
        settings: Settings = request.app.state.settings
        # Read as the reviewer would, so audited; with a mail server the answer links are hidden.
        shown = outbox.read_message(db, settings, me.region_id, message_id, actor=me.actor)
        return Template(
            "outbox/show.html",
            context={
                "message": shown.message,
                "text": shown.text,
                "links_hidden": shown.links_hidden,
                "answer_prefix": f"{settings.base_url}/answer/",
                "retried": request.query_params.get("retried"),
            },
        )

    @get("/{message_id:int}/html", sync_to_thread=True)
    def html(
        self, request: Request[Any, Any, Any], db: Db, message_id: FromPath[int], me: Me
    ) -> Response[str]:
        settings: Settings = request.app.state.settings
        shown = outbox.read_message(
            db, settings, me.region_id, message_id, actor=me.actor, part="html"
        )
        return Response(
            shown.html,
            media_type="text/html",
            headers={"Content-Security-Policy": _EMAIL_CSP, "Referrer-Policy": "no-referrer"},
        )

    @post("/{message_id:int}/retry", sync_to_thread=True)
    def retry(
        self, request: Request[Any, Any, Any], db: Db, message_id: FromPath[int], me: Me
    ) -> Redirect:
        outbox.retry(db, me.region_id, message_id, actor=me.actor)
        return Redirect(f"/outbox/{message_id}?retried=1", status_code=303)

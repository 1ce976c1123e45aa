"""A request's invitations for its coordinator: the team and each answer, the timeline in plain
words, withdrawing a reviewer, pausing or resuming automatic re-matching."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from peermatch.settings import Settings
from peermatch.staffing import invitations, lifecycle, requests
from peermatch.staffing.lifecycle import Command
from peermatch.web.pages import timeline
from peermatch.web.params import Db, Me


class RequestInvitationsController(Controller):
    path = "/requests/{request_id:int}/invitations"

    @get("/", sync_to_thread=True)
    def show(
        self, request: Request[Any, Any, Any], db: Db, request_id: FromPath[int], me: Me
    ) -> Template:
        found = invitations.for_request(db, me.region_id, request_id)
        today = dt.date.today()
        return Template(
            "invitations/request.html",
            context={
                "found": found,
                "can": {
                    "withdraw": lifecycle.refusal(found.request, Command.withdraw, today=today)
                    is None,
                    "pause": lifecycle.refusal(found.request, Command.pause_rematch, today=today)
                    is None,
                },
                "timeline": timeline.for_request(db, found.request, newest_first=False),
                "done": request.query_params.get("done"),
            },
        )

    @post("/pause", sync_to_thread=True)
    def pause(
        self, request: Request[Any, Any, Any], db: Db, request_id: FromPath[int], me: Me
    ) -> Redirect:
        requests.set_rematch_paused(db, me.region_id, request_id, True, actor=me.actor)
        return Redirect(f"/requests/{request_id}/invitations?done=paused", status_code=303)

    @post("/resume", sync_to_thread=True)
    def resume(
        self, request: Request[Any, Any, Any], db: Db, request_id: FromPath[int], me: Me
    ) -> Redirect:
        requests.set_rematch_paused(db, me.region_id, request_id, False, actor=me.actor)
        return Redirect(f"/requests/{request_id}/invitations?done=resumed", status_code=303)

    @post("/{assignment_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        request_id: FromPath[int],
        assignment_id: FromPath[int],
        me: Me,
    ) -> Redirect:
        settings: Settings = request.app.state.settings
        invitations.withdraw(db, settings, me.region_id, assignment_id, actor=me.actor)
        return Redirect(f"/requests/{request_id}/invitations?done=withdrawn", status_code=303)

"""A reviewer's answer to an invitation, from the signed link in their email.

Public by design (reviewers have no account): the signed token in the path is what
authenticates. GET only shows the invitation (mail scanners follow links); only the POSTs
change anything. Pages are never cached and never send the link on as a Referer.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.params import FromPath
from litestar.response import Template
from litestar.status_codes import HTTP_404_NOT_FOUND, HTTP_410_GONE

from peermatch.errors import ValidationFailed
from peermatch.settings import Settings
from peermatch.staffing import invitations
from peermatch.staffing.invitations import DECLINE_REASONS, InvitationUnavailable
from peermatch.web.forms import provide_form
from peermatch.web.params import Db, Form

_TITLES = {
    "invalid": "This link does not work",
    "expired": "This invitation has expired",
    "answered": "You have already answered this invitation",
    "withdrawn": "This invitation has been withdrawn",
}


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _unavailable(exc: InvitationUnavailable) -> Template:
    return Template(
        "answers/unavailable.html",
        context={"title": _TITLES[exc.reason], "reason": exc.reason},
        status_code=HTTP_404_NOT_FOUND if exc.reason == "invalid" else HTTP_410_GONE,
    )


class AnswerController(Controller):
    path = "/answer"
    dependencies = {"form": provide_form}
    cache_control = CacheControlHeader(no_store=True)
    response_headers = [
        ResponseHeader(name="Referrer-Policy", value="no-referrer"),
        ResponseHeader(name="X-Robots-Tag", value="noindex, nofollow"),
    ]

    @get("/{token:str}", sync_to_thread=True)
    def show(self, request: Request[Any, Any, Any], db: Db, token: FromPath[str]) -> Template:
        try:
            view = invitations.show(db, _settings(request), token)
        except InvitationUnavailable as exc:
            return _unavailable(exc)
        return _page(view, token)

    @post("/{token:str}/accept", sync_to_thread=True)
    def accept(self, request: Request[Any, Any, Any], db: Db, token: FromPath[str]) -> Template:
        try:
            view = invitations.accept(db, _settings(request), token)
        except InvitationUnavailable as exc:
            return _unavailable(exc)
        return Template("answers/done.html", context={"view": view, "answer": "accepted"})

    @post("/{token:str}/decline", sync_to_thread=True)
    def decline(
        self, request: Request[Any, Any, Any], db: Db, token: FromPath[str], form: Form
    ) -> Template:
        reason = str(form.get("reason") or "")
        try:
            view = invitations.decline(db, _settings(request), token, reason or None)
        except InvitationUnavailable as exc:
            return _unavailable(exc)
        except ValidationFailed as exc:
            errors = dict(exc.errors)
            view = invitations.show(db, _settings(request), token)
            return _page(view, token, errors=errors, status_code=400)
        return Template("answers/done.html", context={"view": view, "answer": "declined"})


def _page(
    view: invitations.InvitationView,
    token: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "answers/show.html",
        context={
            "view": view,
            "token": token,
            "reasons": DECLINE_REASONS,
            "errors": errors or {},
            "error_summary": [{"text": m, "href": "#reason"} for m in (errors or {}).values()],
        },
        status_code=status_code,
    )

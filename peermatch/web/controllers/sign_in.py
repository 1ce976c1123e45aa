"""Sign in and sign out. A new session token at every sign-in; the old one is deleted."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.response import Redirect, Template

from peermatch import accounts
from peermatch.settings import Settings
from peermatch.web.auth import (
    SESSION_COOKIE,
    end_session,
    expired_session_cookie,
    session_cookie,
    start_session,
)
from peermatch.web.errors import safe_next
from peermatch.web.forms import provide_form
from peermatch.web.params import Db, Form

# Per client address, on top of the per-account lock in accounts.authenticate: slows password
# spraying across many accounts from one place.
_SIGN_IN_RATE_LIMIT = RateLimitConfig(rate_limit=("minute", 20))


class SignInController(Controller):
    dependencies = {"form": provide_form}

    @get("/sign-in", sync_to_thread=False)
    def show(self, request: Request) -> Template | Redirect:
        next_path = safe_next(request.query_params.get("next"))
        if request.scope.get("user") is not None:
            return Redirect(next_path, status_code=303)
        return _page(next=next_path, signed_out="signed-out" in request.query_params)

    @post("/sign-in", sync_to_thread=True, middleware=[_SIGN_IN_RATE_LIMIT.middleware])
    def sign_in(self, request: Request, db: Db, form: Form) -> Template | Redirect:
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        next_path = safe_next(form.get("next"))
        errors = _required(email, password)
        if errors:
            return _page(next=next_path, email=email, errors=errors, status_code=400)
        try:
            user = accounts.authenticate(db, email, password)
        except accounts.SignInThrottled as exc:
            return _failed(next_path, email, exc.message, 429)
        except accounts.SignInFailed as exc:
            return _failed(next_path, email, exc.message, 400)
        token = start_session(db, user, previous_token=_presented_token(request))
        settings: Settings = request.app.state.settings
        return Redirect(next_path, status_code=303, cookies=[session_cookie(token, settings)])

    @post("/sign-out", sync_to_thread=True)
    def sign_out(self, request: Request, db: Db) -> Redirect:
        token = _presented_token(request)
        if token:
            end_session(db, token)
        settings: Settings = request.app.state.settings
        return Redirect(
            "/sign-in?signed-out", status_code=303, cookies=[expired_session_cookie(settings)]
        )


def _presented_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def _failed(next_path: str, email: str, message: str, status_code: int) -> Template:
    return _page(next=next_path, email=email, errors={"email": message}, status_code=status_code)


def _required(email: str, password: str) -> dict[str, str]:
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    return errors


def _page(*, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("email", "")
    return Template("sign_in.html", context=context, status_code=status_code)

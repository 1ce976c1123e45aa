"""Sign in and sign out. A new session token at every sign-in; every old one presented is
deleted, and the CSRF cookie starts afresh."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from peermatch import accounts, sessions
from peermatch.addresses import client_address
from peermatch.settings import Settings
from peermatch.web.auth import expired_cookies, presented_tokens, session_cookie
from peermatch.web.errors import safe_next
from peermatch.web.forms import provide_form
from peermatch.web.params import Db, Form


class SignInController(Controller):
    dependencies = {"form": provide_form}

    @get("/sign-in", sync_to_thread=False)
    def show(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        next_path = safe_next(request.query_params.get("next"))
        if request.scope.get("user") is not None:
            return Redirect(next_path, status_code=303)
        return _page(next=next_path, signed_out="signed-out" in request.query_params)

    @post("/sign-in", sync_to_thread=True)
    def sign_in(self, request: Request[Any, Any, Any], db: Db, form: Form) -> Template | Redirect:
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        next_path = safe_next(form.get("next"))
        errors = _required(email, password)
        if errors:
            return _page(next=next_path, email=email, errors=errors, status_code=400)
        settings: Settings = request.app.state.settings
        client = client_address(request, settings.trusted_proxies)
        try:
            user = accounts.authenticate(db, email, password, client=client)
        except accounts.SignInThrottled as exc:
            return _failed(next_path, email, exc.message, 429)
        except accounts.SignInFailed as exc:
            return _failed(next_path, email, exc.message, 400)
        token = sessions.start(db, user, previous_tokens=presented_tokens(request))
        # The CSRF cookie of the signed-out visitor ends here too (the next page sets a new one).
        cookies = [*expired_cookies(settings)[1:], session_cookie(token, settings)]
        return Redirect(next_path, status_code=303, cookies=cookies)

    @post("/sign-out", sync_to_thread=True)
    def sign_out(self, request: Request[Any, Any, Any], db: Db) -> Redirect:
        # Every session cookie the request carries ends, not only the first one.
        sessions.end(db, presented_tokens(request))
        settings: Settings = request.app.state.settings
        return Redirect("/sign-in?signed-out", status_code=303, cookies=expired_cookies(settings))


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

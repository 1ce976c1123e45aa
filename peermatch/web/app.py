"""The Litestar application: templates, static files, sessions, CSRF and the page routes."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader
from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from peermatch.api import create_api_router, openapi_config
from peermatch.dates import govuk_date
from peermatch.db import make_engine, session_scope
from peermatch.resources import resource_dir
from peermatch.settings import Settings, load_settings
from peermatch.staffing import match_runs
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web import errors, security
from peermatch.web.auth import (
    SessionMiddleware,
    provide_coordinator,
    requires_sign_in,
)
from peermatch.web.controllers.answers import AnswerController
from peermatch.web.controllers.health import healthz
from peermatch.web.controllers.home import home
from peermatch.web.controllers.invitations import RequestInvitationsController
from peermatch.web.controllers.ledger import LedgerController
from peermatch.web.controllers.organisations import OrganisationController
from peermatch.web.controllers.outbox import OutboxController
from peermatch.web.controllers.partnerships import PartnershipController
from peermatch.web.controllers.requests import RequestController
from peermatch.web.controllers.reviewer_import import ReviewerImportController
from peermatch.web.controllers.reviewers import ReviewerController
from peermatch.web.controllers.runs import RunController
from peermatch.web.controllers.sign_in import SignInController
from peermatch.web.csrf import CsrfMiddleware
from peermatch.web.pages.proposal import short_name
from peermatch.worker import Worker

TEMPLATES_DIR = resource_dir("templates")
log = logging.getLogger("peermatch.web")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Litestar:
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)

    def provide_db() -> Iterator[Session]:
        # One unit of work per request: commit when the handler succeeds, roll back when it
        # raises, so a failed request never leaves half a write behind. Services validate
        # before they write, so a handler that catches ValidationFailed to re-show its form
        # has nothing to undo.
        with Session(engine, expire_on_commit=False) as db:
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    coordinator_pages = Router(
        path="/",
        route_handlers=[
            home,
            RequestController,
            ReviewerImportController,
            ReviewerController,
            PartnershipController,
            OrganisationController,
            OutboxController,
            LedgerController,
            RequestInvitationsController,
            RunController,
        ],
        # Signed in, and not a read of audited pages started by another site.
        guards=[requires_sign_in, security.refuse_cross_site_reads],
        # Pages with personal data stay out of shared caches and the back button after sign-out.
        cache_control=CacheControlHeader(no_store=True),
    )
    static = create_static_files_router(
        path="/static", directories=[settings.static_dir], include_in_schema=False
    )
    worker = Worker(engine, settings)
    # The outbox relay and the invitations' clock run inside `serve` unless turned off (or in
    # tests, which drive them by hand).
    background = settings.worker_in_serve and settings.mode != "test"
    # A solver worker is started ahead of the first run, except in tests: most never start a
    # run, and one that does spawns its worker when it starts.
    prewarm = settings.mode != "test"
    return Litestar(
        route_handlers=[
            healthz,
            SignInController,
            AnswerController,
            coordinator_pages,
            static,
            create_api_router(engine, settings),
        ],
        openapi_config=openapi_config(),
        dependencies={
            "db": Provide(provide_db),
            "me": Provide(provide_coordinator, sync_to_thread=False),  # params.Me
        },
        middleware=[
            DefineMiddleware(SessionMiddleware, engine=engine, settings=settings),
            security.RequestShapeMiddleware,  # bounded int path params, no control characters
            # CSRF tokens bound to the session cookie (peermatch/web/csrf.py); it reads forms,
            # so after the shape check and within each route's body limit.
            DefineMiddleware(
                CsrfMiddleware,
                secret=settings.secret_key,
                secure=settings.secure_cookies,
                # The partnership API authenticates with API keys, not cookies. A reviewer's
                # answer form is authenticated by the signed token in its own URL, not by any
                # cookie, so a forged cross-site POST would need that secret token: no CSRF
                # cookie is needed, and a reviewer whose browser refuses cookies can still
                # answer.
                exclude=("^/api/", "^/healthz$", "^/answer/"),
            ),
        ],
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(_jinja_environment())
        ),
        exception_handlers=errors.HANDLERS,
        # Every page's form is small; the CSV import sets its own larger cap and the API its
        # own per operation. A larger body gets the 413 page before anything parses it.
        request_max_body_size=errors.MAX_FORM_BYTES,
        # Security headers and the CSP nonce on every response, error pages and static included.
        before_send=[security.add_security_headers],
        state=State({"settings": settings, "engine": engine}),
        on_startup=[
            lambda: _fail_stale_runs(engine),
            *([match_runs.prewarm] if prewarm else []),
            *([worker.start] if background else []),
        ],
        on_shutdown=[match_runs.kill_all_local, *([worker.stop] if background else [])],
        debug=False,
    )


def _fail_stale_runs(engine: Engine) -> None:
    """Runs left queued or running by a server that died are failed, their requests freed."""
    try:
        with session_scope(engine) as session:
            match_runs.recover_stale(session)
    except SQLAlchemyError:  # no tables yet: `peermatch db upgrade` has not run
        log.warning("could not check for stale matching runs")


def _jinja_environment() -> Environment:
    loader = ChoiceLoader(
        [
            FileSystemLoader(TEMPLATES_DIR),
            # The macros import each other as "govuk_frontend_jinja/components/...".
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    env = Environment(loader=loader, autoescape=True)
    env.globals["vocabulary"] = load_vocabulary()
    env.globals["csp_nonce"] = security.csp_nonce  # base.html: {% set cspNonce = ... %}
    env.filters["govuk_date"] = govuk_date
    env.filters["short_partnership"] = short_name
    return env

"""The partnership API under /api/v1: API-key authentication, strict JSON, problem details.

``create_api_router`` is the one thing the app mounts; ``openapi_config`` describes the API
(served at /schema/openapi.json) with its bearer security scheme.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar import Request, Router
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from sqlalchemy.engine import Engine
from sqlmodel import Session

from peermatch.api.auth import ApiGate, provide_client
from peermatch.api.bodies import check_body
from peermatch.api.controllers import (
    RequestController,
    ReviewerController,
    read_ledger,
    read_organisations,
)
from peermatch.api.docs import LocalSwaggerRenderPlugin
from peermatch.api.service import ForeignResource, record_foreign_attempt
from peermatch.settings import Settings

MAX_BODY = 64 * 1024  # bytes; each write operation sets its own, smaller (api/bodies.py)
SECURITY_SCHEME = "apiKey"


def create_api_router(engine: Engine, settings: Settings) -> Router:
    gate = ApiGate(engine, settings)

    def provide_db(request: Request[Any, Any, Any]) -> Iterator[Session]:
        # The API's unit of work: commit on success, roll back on any error; a reach for
        # another partnership's data is rolled back too, but written to the audit log.
        with Session(engine, expire_on_commit=False) as db:
            try:
                yield db
            except ForeignResource as exc:
                db.rollback()
                record_foreign_attempt(db, exc, request.method)
                db.commit()
                raise
            except BaseException:
                db.rollback()
                raise
            db.commit()

    async def provide_raw_body(request: Request[Any, Any, Any]) -> bytes:
        return await request.body()

    def provide_gate() -> ApiGate:
        return gate

    async def check_key(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        await gate.guard(connection, handler)

    return Router(
        path="/api/v1",
        route_handlers=[RequestController, ReviewerController, read_ledger, read_organisations],
        # The key first (an unknown caller learns nothing), then the body's shape.
        guards=[check_key, check_body],
        dependencies={
            "db": Provide(provide_db),
            "client": Provide(provide_client, sync_to_thread=False),
            "gate": Provide(provide_gate, sync_to_thread=False),
            "raw_body": Provide(provide_raw_body),
        },
        security=[{SECURITY_SCHEME: []}],
        request_max_body_size=MAX_BODY,
        cache_control=CacheControlHeader(no_store=True),
    )


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="PeerMatch partnership API",
        version="1",
        description=(
            "Partnerships request peers for their reviews, follow them, offer reviewers and "
            "read their own ledger. Authenticate with `Authorization: Bearer <key>`; a key is "
            "made by `peermatch apikeys create` and belongs to one partnership. Errors are "
            "RFC 9457 problem details (`application/problem+json`)."
        ),
        components=Components(
            security_schemes={
                SECURITY_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="pm_<prefix>_<secret>",
                    description="A partnership's API key",
                )
            }
        ),
        tags=[
            Tag(name="Requests", description="Review requests: peers asked for, and who came"),
            Tag(name="Reviewers", description="The partnership's reviewers in the registry"),
            Tag(name="Ledger", description="Peers lent and received"),
        ],
        use_handler_docstrings=True,
        path="/schema",
        # Swagger UI from this site's own static files: no CDN, no inline script (strict CSP).
        render_plugins=[LocalSwaggerRenderPlugin(["/", "/swagger"]), JsonRenderPlugin()],
    )

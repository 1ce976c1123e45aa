"""A public liveness check for load balancers and ``docker run --health-cmd``."""

from __future__ import annotations

from litestar import get
from sqlalchemy import text

from peermatch.web.params import Db


@get("/healthz", sync_to_thread=True, opt={"public": True})
def healthz(db: Db) -> dict[str, str]:
    db.execute(text("SELECT 1"))
    return {"status": "ok"}

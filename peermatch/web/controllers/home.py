"""A coordinator's home page: where the region's requests stand and what needs them now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get
from litestar.response import Template

from peermatch.web.auth import Coordinator
from peermatch.web.pages import home as home_page
from peermatch.web.params import Db


@get("/", sync_to_thread=True)
def home(request: Request[Any, Any, Any], db: Db) -> Template:
    me = request.scope.get("user")
    assert isinstance(me, Coordinator)  # the router's guard has checked
    summary = home_page.dashboard(db, me.region_id, dt.date.today())
    answers = home_page.invitation_tiles(db, me.region_id)
    return Template("home.html", context={"dashboard": summary, "invitation_tiles": answers})

"""The partnerships of the coordinator's region, with their reviewers and opening balances."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from peermatch import registry
from peermatch.web.controllers.reviewers import _me
from peermatch.web.params import Db


class PartnershipController(Controller):
    path = "/partnerships"

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: Db) -> Template:
        partnerships = registry.list_partnerships(db, _me(request).region_id)
        return Template("partnerships/index.html", context={"partnerships": partnerships})

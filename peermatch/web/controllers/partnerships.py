"""The partnerships of the coordinator's region, with their reviewers and opening balances."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from peermatch import registry
from peermatch.web.params import Db, Me


class PartnershipController(Controller):
    path = "/partnerships"

    @get("/", sync_to_thread=True)
    def index(self, db: Db, me: Me) -> Template:
        partnerships = registry.list_partnerships(db, me.region_id)
        return Template("partnerships/index.html", context={"partnerships": partnerships})

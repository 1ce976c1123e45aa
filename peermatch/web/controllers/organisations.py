"""The organisations of the coordinator's region (employers: a police force, an integrated care
board...): list, add, rename and change the partnerships each serves."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from peermatch import organisations, registry
from peermatch.errors import ValidationFailed
from peermatch.web.forms import error_summary, parse_int, provide_form
from peermatch.web.params import Db, Form, Me

OrganisationId = FromPath[int]
_ORDER = {"name": "name", "agency": "agency", "partnership_ids": "partnership_ids"}


class OrganisationController(Controller):
    path = "/organisations"
    dependencies = {"form": provide_form}

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template:
        names = {p.id: p.name for p in registry.list_partnerships(db, me.region_id)}
        found = organisations.list_organisations(db, me.region_id)
        saved = parse_int(request.query_params.get("saved"))
        return Template(
            "organisations/index.html",
            context={
                "organisations": found,
                "partnership_names": names,
                # Only an organisation of this region is ever named in the banner.
                "saved": next((o for o in found if o.id == saved), None),
            },
        )

    @get("/new", sync_to_thread=True)
    def new(self, db: Db, me: Me) -> Template:
        return _form_page(db, me, {"name": "", "agency": "", "partnership_ids": []})

    @post("/new", sync_to_thread=True)
    def create(self, db: Db, me: Me, form: Form) -> Template | Redirect:
        typed = _typed(form)
        try:
            org = organisations.create_organisation(
                db,
                me.region_id,
                name=typed["name"],
                agency=typed["agency"],
                partnership_ids=_ids(typed["partnership_ids"]),
                actor=me.actor,
            )
        except ValidationFailed as exc:
            return _form_page(db, me, typed, errors=exc.errors)
        return Redirect(f"/organisations?saved={org.id}", status_code=303)

    @get("/{organisation_id:int}/edit", sync_to_thread=True)
    def edit(self, db: Db, me: Me, organisation_id: OrganisationId) -> Template:
        org = organisations.get_organisation(db, me.region_id, organisation_id)
        typed = {
            "name": org.name,
            "agency": org.agency,
            "partnership_ids": [str(p) for p in org.partnership_ids],
        }
        return _form_page(db, me, typed, organisation=org)

    @post("/{organisation_id:int}/edit", sync_to_thread=True)
    def update(
        self, db: Db, me: Me, organisation_id: OrganisationId, form: Form
    ) -> Template | Redirect:
        org = organisations.get_organisation(db, me.region_id, organisation_id)
        typed = {**_typed(form), "agency": org.agency}
        try:
            organisations.update_organisation(
                db,
                me.region_id,
                organisation_id,
                name=typed["name"],
                partnership_ids=_ids(typed["partnership_ids"]),
                actor=me.actor,
            )
        except ValidationFailed as exc:
            return _form_page(db, me, typed, organisation=org, errors=exc.errors)
        return Redirect(f"/organisations?saved={organisation_id}", status_code=303)


def _typed(form: Any) -> dict[str, Any]:
    return {
        "name": str(form.get("name") or "")[:500],
        "agency": str(form.get("agency") or ""),
        "partnership_ids": [str(p)[:20] for p in form.getall("partnership_ids", [])[:500]],
    }


def _ids(values: list[str]) -> list[int]:
    # Something that is not a number names no partnership of the region: refused as such.
    return [parse_int(v) or 0 for v in values]


def _form_page(
    db: Db,
    me: Me,
    typed: dict[str, Any],
    *,
    organisation: Any = None,
    errors: dict[str, str] | None = None,
) -> Template:
    errors = errors or {}
    anchors = {"partnership_ids": "partnership_ids", "agency": "agency"}
    ordered = {k: errors[k] for k in _ORDER if k in errors}
    return Template(
        "organisations/form.html",
        context={
            "form": typed,
            "organisation": organisation,
            "action": f"/organisations/{organisation.id}/edit"
            if organisation
            else "/organisations/new",
            "errors": errors,
            "error_summary": error_summary(ordered, anchors),
            "partnerships": registry.list_partnerships(db, me.region_id),
        },
        status_code=400 if errors else 200,
    )

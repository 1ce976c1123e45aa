"""The reviewer registry: list with search and filters, a reviewer's page, add and edit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from peermatch import organisations, registry
from peermatch.errors import ValidationFailed
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web.forms import (
    ReviewerForm,
    error_summary,
    parse_date,
    parse_int,
    provide_form,
)
from peermatch.web.params import Db, Form, Me, ReviewerId

PER_PAGE = 25
FILTER_KEYS = ("q", "partnership", "agency", "skill", "available_on")


class ReviewerController(Controller):
    path = "/reviewers"
    dependencies = {"form": provide_form}

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template:
        raw = {key: str(request.query_params.get(key) or "").strip() for key in FILTER_KEYS}
        filters, errors = _filters(raw)
        page_number = max(1, parse_int(request.query_params.get("page")) or 1)
        page = registry.list_reviewers(
            db, me.region_id, filters, page=page_number, per_page=PER_PAGE
        )
        query = {k: v for k, v in raw.items() if v and k not in errors}
        return Template(
            "reviewers/index.html",
            context={
                "page": page,
                "filters": raw,
                "filtered": bool(query),
                "errors": errors,
                "partnerships": registry.list_partnerships(db, me.region_id),
                "pagination": _pagination(page, query),
                "query_string": urlencode(query),
            },
        )

    @get("/{reviewer_id:int}", sync_to_thread=True)
    def show(
        self, request: Request[Any, Any, Any], db: Db, me: Me, reviewer_id: ReviewerId
    ) -> Template:
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)
        return Template(
            "reviewers/show.html",
            context={
                "reviewer": reviewer,
                "experience": registry.reviews_completed(db, [reviewer.id])[reviewer.id],
                "partnerships": _names(registry.list_partnerships(db, me.region_id)),
                # Only ever one of two words; anything else in the link is not shown.
                "saved": {"added": "added", "updated": "updated"}.get(
                    str(request.query_params.get("saved"))
                ),
            },
        )

    @get("/new", sync_to_thread=True)
    def new(self, db: Db, me: Me) -> Template:
        return _form_page(db, me, ReviewerForm(), action="/reviewers/new")

    @post("/new", sync_to_thread=True)
    def create(self, db: Db, me: Me, form: Form) -> Template | Redirect:
        typed = ReviewerForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            reviewer = registry.create_reviewer(
                db, me.region_id, data, actor=me.actor, input_errors=unreadable
            )
        except ValidationFailed as exc:
            return _form_page(db, me, typed, action="/reviewers/new", errors=exc.errors)
        return Redirect(f"/reviewers/{reviewer.id}?saved=added", status_code=303)

    @get("/{reviewer_id:int}/edit", sync_to_thread=True)
    def edit(self, db: Db, me: Me, reviewer_id: ReviewerId) -> Template:
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)
        return _form_page(
            db,
            me,
            ReviewerForm.from_view(reviewer),
            action=f"/reviewers/{reviewer_id}/edit",
            reviewer=reviewer,
        )

    @post("/{reviewer_id:int}/edit", sync_to_thread=True)
    def update(self, db: Db, me: Me, reviewer_id: ReviewerId, form: Form) -> Template | Redirect:
        typed = ReviewerForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            registry.update_reviewer(
                db, me.region_id, reviewer_id, data, actor=me.actor, input_errors=unreadable
            )
        except ValidationFailed as exc:
            errors = exc.errors
        else:
            return Redirect(f"/reviewers/{reviewer_id}?saved=updated", status_code=303)
        # The failed update wrote nothing; the page shows the reviewer as stored.
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)
        return _form_page(
            db,
            me,
            typed,
            action=f"/reviewers/{reviewer_id}/edit",
            errors=errors,
            reviewer=reviewer,
        )


def _names(partnerships: list[Any]) -> dict[int, str]:
    return {p.id: p.name for p in partnerships}


def _filters(raw: dict[str, str]) -> tuple[registry.ReviewerFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    try:
        available_on = parse_date(raw["available_on"])
    except ValueError:
        available_on = None
        errors["available_on"] = "Enter a real date, like 2026-03-31"
    filters = registry.ReviewerFilter(
        q=raw["q"] or None,
        partnership_id=parse_int(raw["partnership"]),
        agency=raw["agency"] or None,
        skill=raw["skill"] or None,
        available_on=available_on,
        # Someone inactive is not available on any date.
        active=True if available_on else None,
    )
    return filters, errors


def _pagination(page: Any, query: dict[str, str]) -> dict[str, Any] | None:
    """GOV.UK pagination: previous, next, the first, last and nearby pages, gaps as ellipses."""
    if page.pages <= 1:
        return None

    def href(n: int) -> str:
        return "/reviewers?" + urlencode({**query, "page": n})

    items: list[dict[str, Any]] = []
    shown = {1, page.pages, page.page - 1, page.page, page.page + 1}
    for n in range(1, page.pages + 1):
        if n in shown:
            items.append({"number": n, "href": href(n), "current": n == page.page})
        elif items and not items[-1].get("ellipsis"):
            items.append({"ellipsis": True})
    result: dict[str, Any] = {"items": items, "landmarkLabel": "Pages of reviewers"}
    if page.page > 1:
        result["previous"] = {"href": href(page.page - 1)}
    if page.page < page.pages:
        result["next"] = {"href": href(page.page + 1)}
    return result


def _organisation_choices(db: Db, me: Me, typed: ReviewerForm) -> list[Any]:
    """Those of the reviewer's agency serving their partnership once both are known (editing,
    or a form sent back with errors); every organisation of the region before that."""
    partnership_id = parse_int(typed.partnership_id)
    if partnership_id is not None and typed.agency in load_vocabulary().agencies:
        return organisations.list_organisations(
            db, me.region_id, partnership_id=partnership_id, agency=typed.agency
        )
    return organisations.list_organisations(db, me.region_id)


def _form_page(
    db: Db,
    me: Me,
    typed: ReviewerForm,
    *,
    action: str,
    errors: dict[str, str] | None = None,
    reviewer: Any = None,
) -> Template:
    errors = errors or {}
    return Template(
        "reviewers/form.html",
        context={
            "form": typed,
            "action": action,
            "reviewer": reviewer,
            "errors": errors,
            "error_summary": error_summary(errors),
            "partnerships": registry.list_partnerships(db, me.region_id),
            "organisations": _organisation_choices(db, me, typed),
        },
        status_code=400 if errors else 200,
    )

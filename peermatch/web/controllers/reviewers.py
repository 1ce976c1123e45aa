"""The reviewer registry: list with search and filters, a reviewer's page, add and edit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from peermatch import registry
from peermatch.errors import ValidationFailed
from peermatch.web.auth import Coordinator
from peermatch.web.errors import form_errors
from peermatch.web.forms import (
    ReviewerForm,
    error_summary,
    field_errors,
    parse_date,
    parse_int,
    provide_form,
)
from peermatch.web.params import Db, Form, ReviewerId

PER_PAGE = 25
FILTER_KEYS = ("q", "partnership", "agency", "skill", "available_on")


class ReviewerController(Controller):
    path = "/reviewers"
    dependencies = {"form": provide_form}

    @get("/", sync_to_thread=True)
    def index(self, request: Request, db: Db) -> Template:
        me = _me(request)
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
    def show(self, request: Request, db: Db, reviewer_id: ReviewerId) -> Template:
        me = _me(request)
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)
        return Template(
            "reviewers/show.html",
            context={
                "reviewer": reviewer,
                "experience": registry.reviews_completed(db, [reviewer.id])[reviewer.id],
                "partnerships": _names(registry.list_partnerships(db, me.region_id)),
                "saved": request.query_params.get("saved"),
            },
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request, db: Db) -> Template:
        return _form_page(request, db, ReviewerForm(), action="/reviewers/new")

    @post("/new", sync_to_thread=True)
    def create(self, request: Request, db: Db, form: Form) -> Template | Redirect:
        me = _me(request)
        typed = ReviewerForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            _refuse_unreadable(db, me, data, unreadable)
            reviewer = registry.create_reviewer(db, me.region_id, data, actor=me.actor)
        except ValidationFailed as exc:
            errors = field_errors(typed, form_errors(db, exc))
            return _form_page(request, db, typed, action="/reviewers/new", errors=errors)
        return Redirect(f"/reviewers/{reviewer.id}?saved=added", status_code=303)

    @get("/{reviewer_id:int}/edit", sync_to_thread=True)
    def edit(self, request: Request, db: Db, reviewer_id: ReviewerId) -> Template:
        me = _me(request)
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)
        return _form_page(
            request,
            db,
            ReviewerForm.from_view(reviewer),
            action=f"/reviewers/{reviewer_id}/edit",
            reviewer=reviewer,
        )

    @post("/{reviewer_id:int}/edit", sync_to_thread=True)
    def update(
        self,
        request: Request,
        db: Db,
        reviewer_id: ReviewerId,
        form: Form,
    ) -> Template | Redirect:
        me = _me(request)
        reviewer = registry.get_reviewer(db, me.region_id, reviewer_id)  # 404 outside region
        typed = ReviewerForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            _refuse_unreadable(db, me, data, unreadable, reviewer_id=reviewer_id)
            registry.update_reviewer(db, me.region_id, reviewer_id, data, actor=me.actor)
        except ValidationFailed as exc:
            errors = field_errors(typed, form_errors(db, exc))
        else:
            return Redirect(f"/reviewers/{reviewer_id}?saved=updated", status_code=303)
        return _form_page(
            request,
            db,
            typed,
            action=f"/reviewers/{reviewer_id}/edit",
            errors=errors,
            reviewer=reviewer,
        )


def _me(request: Request) -> Coordinator:
    user = request.scope.get("user")
    assert isinstance(user, Coordinator)  # the router's guard has checked
    return user


def _refuse_unreadable(
    db: Db,
    me: Coordinator,
    data: registry.ReviewerInput,
    unreadable: dict[str, str],
    reviewer_id: ReviewerId | None = None,
) -> None:
    """A form with an unreadable date is not saved; it comes back with that problem and every
    rule the rest of it breaks, so the coordinator can fix everything in one go."""
    if unreadable:
        rules = registry.validation_errors(
            db, me.region_id, registry.clean_input(data), reviewer_id=reviewer_id
        )
        raise ValidationFailed({**rules, **unreadable})


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


def _form_page(
    request: Request,
    db: Db,
    typed: ReviewerForm,
    *,
    action: str,
    errors: dict[str, str] | None = None,
    reviewer: Any = None,
) -> Template:
    me = _me(request)
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
        },
        status_code=400 if errors else 200,
    )

"""Review requests: the list, the form to open or change one, its page and its actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from peermatch import organisations, registry, working_days
from peermatch.errors import DomainError, NotFound, ValidationFailed
from peermatch.models import RequestStatus
from peermatch.staffing import lifecycle, requests
from peermatch.staffing.lifecycle import Command
from peermatch.web.auth import Coordinator, provide_coordinator
from peermatch.web.forms import (
    RequestForm,
    parse_int,
    provide_form,
    request_error_summary,
)
from peermatch.web.pages import timeline
from peermatch.web.pagination import pagination
from peermatch.web.params import Db, Form, Me, RequestId

PER_PAGE = 25
_SAVED = {
    "added": "Request saved as a draft.",
    "updated": "Changes saved.",
    "submitted": "Request submitted for matching.",
    "accepted": "Request accepted for matching.",
    "sent_back": "Request sent back to the partnership as a draft.",
    "cancelled": "Request cancelled.",
    "completed": "The review is marked as completed.",
}


class RequestController(Controller):
    path = "/requests"
    dependencies = {"form": provide_form}

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template:
        raw = {k: str(request.query_params.get(k) or "").strip() for k in ("status", "partnership")}
        status = raw["status"] if raw["status"] in RequestStatus.__members__ else ""
        filters = requests.RequestFilter(
            status=RequestStatus(status) if status else None,
            partnership_id=parse_int(raw["partnership"]),
        )
        page_number = max(1, min(parse_int(request.query_params.get("page")) or 1, 10_000))
        page = requests.list_requests(
            db, me.region_id, filters, page=page_number, per_page=PER_PAGE, actor=me.actor
        )
        query = {
            k: v for k, v in {"status": status, "partnership": raw["partnership"]}.items() if v
        }
        return Template(
            "requests/index.html",
            context={
                "page": page,
                "status": status,
                "partnership": raw["partnership"],
                "counts": requests.status_counts(db, me.region_id),
                "partnerships": registry.list_partnerships(db, me.region_id),
                "pagination": pagination(page, "/requests", query, "Pages of requests"),
            },
        )

    @get("/new", sync_to_thread=True)
    def new(self, request: Request[Any, Any, Any], db: Db) -> Template:
        return _form_page(request, db, RequestForm(), action="/requests/new")

    @post("/new", sync_to_thread=True)
    def create(
        self, request: Request[Any, Any, Any], db: Db, form: Form, me: Me
    ) -> Template | Redirect:
        typed = RequestForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            _refuse_unreadable(db, me, data, unreadable)
            created = requests.create_request(db, me.region_id, data, actor=me.actor)
        except ValidationFailed as exc:
            errors = dict(exc.errors)
            return _form_page(request, db, typed, action="/requests/new", errors=errors)
        return Redirect(f"/requests/{created.id}?saved=added", status_code=303)

    @get("/{request_id:int}", sync_to_thread=True)
    def show(self, request: Request[Any, Any, Any], db: Db, request_id: RequestId) -> Template:
        saved = str(request.query_params.get("saved") or "")
        return _request_page(request, db, request_id, saved=_SAVED.get(saved))

    @get("/{request_id:int}/edit", sync_to_thread=True)
    def edit(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template:
        found = requests.get_request(db, me.region_id, request_id, actor=me.actor)
        if found.status not in requests.EDITABLE:
            why = requests.not_editable_reason(found)
            return _request_page(request, db, request_id, errors={"status": why})
        return _form_page(
            request,
            db,
            RequestForm.from_request(found),
            action=f"/requests/{request_id}/edit",
            review_request=found,
        )

    @post("/{request_id:int}/edit", sync_to_thread=True)
    def update(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, form: Form, me: Me
    ) -> Template | Redirect:
        typed = RequestForm.from_form(form)
        data, unreadable = typed.to_input()
        try:
            _refuse_unreadable(db, me, data, unreadable, request_id=request_id)
            requests.update_request(db, me.region_id, request_id, data, actor=me.actor)
        except ValidationFailed as exc:
            errors = dict(exc.errors)
        except NotFound:
            raise
        except DomainError as exc:  # no longer editable: say why on the request's page
            db.rollback()
            return _request_page(request, db, request_id, errors={"status": exc.message})
        else:
            return Redirect(f"/requests/{request_id}?saved=updated", status_code=303)
        found = requests.get_request(db, me.region_id, request_id, actor=me.actor)
        return _form_page(
            request,
            db,
            typed,
            action=f"/requests/{request_id}/edit",
            errors=errors,
            review_request=found,
        )

    @post("/{request_id:int}/submit", sync_to_thread=True)
    def submit(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template | Redirect:
        return _act(request, db, request_id, "submitted", requests.submit, me)

    @post("/{request_id:int}/accept", sync_to_thread=True)
    def accept(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template | Redirect:
        return _act(request, db, request_id, "accepted", requests.accept, me)

    @post("/{request_id:int}/send-back", sync_to_thread=True)
    def send_back(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, form: Form, me: Me
    ) -> Template | Redirect:
        reason = str(form.get("reason") or "")
        try:
            requests.send_back(db, me.region_id, request_id, reason, actor=me.actor)
        except NotFound:
            raise
        except ValidationFailed as exc:
            return _request_page(request, db, request_id, errors=dict(exc.errors))
        except DomainError as exc:
            db.rollback()
            return _request_page(request, db, request_id, errors={"status": exc.message})
        return Redirect(f"/requests/{request_id}?saved=sent_back", status_code=303)

    @get("/{request_id:int}/cancel", sync_to_thread=True)
    def confirm_cancel(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template:
        return _confirm(request, db, request_id, me, Command.cancel, "requests/cancel.html")

    @get("/{request_id:int}/complete", sync_to_thread=True)
    def confirm_complete(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template:
        return _confirm(request, db, request_id, me, Command.complete, "requests/complete.html")

    @post("/{request_id:int}/complete", sync_to_thread=True)
    def complete(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template | Redirect:
        return _act(request, db, request_id, "completed", requests.complete, me)

    @post("/{request_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self, request: Request[Any, Any, Any], db: Db, request_id: RequestId, me: Me
    ) -> Template | Redirect:
        return _act(request, db, request_id, "cancelled", requests.cancel, me)


def _act(
    request: Request[Any, Any, Any],
    db: Db,
    request_id: int,
    done: str,
    action: Any,
    me: Coordinator,
) -> Template | Redirect:
    """Run one lifecycle action; a refusal re-renders the request's page with the reason."""
    try:
        action(db, me.region_id, request_id, actor=me.actor)
    except NotFound:
        raise
    except DomainError as exc:
        db.rollback()
        return _request_page(request, db, request_id, errors={"status": exc.message})
    return Redirect(f"/requests/{request_id}?saved={done}", status_code=303)


def _confirm(
    request: Request[Any, Any, Any],
    db: Db,
    request_id: int,
    me: Coordinator,
    command: Command,
    template: str,
) -> Template:
    """A confirmation page for ``command``; the request's page with the reason when the
    lifecycle does not allow it now."""
    found = requests.get_request(db, me.region_id, request_id, actor=me.actor)
    if (why := lifecycle.refusal(found, command, today=dt.date.today())) is not None:
        return _request_page(request, db, request_id, errors={"status": why})
    return Template(template, context={"review_request": found})


def _refuse_unreadable(
    db: Db,
    me: Coordinator,
    data: requests.RequestInput,
    unreadable: dict[str, str],
    request_id: int | None = None,
) -> None:
    """A form with an unreadable date is not saved; it comes back with that problem and every
    rule the rest of it breaks, so the coordinator can fix everything in one go."""
    if unreadable:
        rules = requests.validation_errors(db, me.region_id, data, request_id=request_id)
        raise ValidationFailed({**rules, **unreadable})


def _request_page(
    request: Request[Any, Any, Any],
    db: Db,
    request_id: int,
    *,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
) -> Template:
    me = provide_coordinator(request)
    errors = errors or {}
    detail = requests.request_detail(
        db, me.region_id, request_id, actor=me.actor, today=dt.date.today()
    )
    summary = [
        {"text": message, "href": "#reason" if key == "reason" else "#actions"}
        for key, message in errors.items()
    ]
    return Template(
        "requests/show.html",
        context={
            "detail": detail,
            "timeline": timeline.for_request(db, detail.request),
            "review_request": detail.request,
            "errors": errors,
            "error_summary": summary,
            "saved": saved,
            "reasons": requests.SEND_BACK_REASONS,
            "organisation_names": [
                o.name
                for o in organisations.organisations_by_id(
                    db, me.region_id, detail.request.organisations_involved or []
                ).values()
            ],
        },
        status_code=409 if errors.get("status") else (400 if errors else 200),
    )


def _organisation_choices(db: Db, region_id: int, typed: RequestForm) -> list[dict[str, Any]]:
    """The organisations a request may name: those serving its partnership once it is chosen
    (editing, or a form sent back), every one of the region before that; each with the
    partnerships it serves, so the choice can be made without JavaScript."""
    names = {p.id: p.name for p in registry.list_partnerships(db, region_id)}
    partnership_id = parse_int(typed.partnership_id)
    chosen = organisations.list_organisations(
        db, region_id, partnership_id=partnership_id if partnership_id in names else None
    )
    return [
        {
            "id": o.id,
            "name": o.name,
            "agency": o.agency,
            "serves": ", ".join(sorted(names[p] for p in o.partnership_ids if p in names)),
        }
        for o in chosen
    ]


def _form_page(
    request: Request[Any, Any, Any],
    db: Db,
    typed: RequestForm,
    *,
    action: str,
    errors: dict[str, str] | None = None,
    review_request: Any = None,
) -> Template:
    me = provide_coordinator(request)
    errors = errors or {}
    return Template(
        "requests/form.html",
        context={
            "form": typed,
            "action": action,
            "review_request": review_request,
            "errors": errors,
            "error_summary": request_error_summary(errors, typed),
            "partnerships": registry.list_partnerships(db, me.region_id),
            "organisations": _organisation_choices(db, me.region_id, typed),
            "reference_help": requests.REFERENCE_HELP,
            "default_days": working_days.DEFAULT_WORKING_DAYS,
        },
        status_code=400 if errors else 200,
    )

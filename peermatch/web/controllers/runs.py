"""Matching runs: the region's runs, "Run matching", a run's progress and its proposal, locks
and exclusions, approval. The solver runs in its own process, supervised from a thread; these
pages only read and write the database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.engine import Engine

from peermatch import ledger
from peermatch.errors import DomainError, NotFound
from peermatch.models import PairDecisionKind, utcnow
from peermatch.settings import Settings
from peermatch.staffing import match_runs
from peermatch.vocabulary import load as load_vocabulary
from peermatch.web.auth import provide_coordinator
from peermatch.web.forms import parse_int, provide_form
from peermatch.web.pages import proposal
from peermatch.web.params import Db, Form, Me

PER_PAGE = 20
RunId = FromPath[int]
_MESSAGES = {
    "started": "Matching has started. This page shows its progress.",
    "already": "A run of your region was already under way, so you are watching that one.",
    "cancelled": "The run was cancelled. Its requests are back to submitted.",
    "approved": "Proposal approved. Invitations for the teams that still hold are in the outbox.",
    "locked": "Reviewer locked on the request. Run matching again to use the change.",
    "excluded": "Reviewer excluded from the request. Run matching again to use the change.",
    "removed": "Decision removed. Run matching again to use the change.",
}


class RunController(Controller):
    path = "/runs"
    dependencies = {"form": provide_form}

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db) -> Template:
        return _index(request, db)

    @post("/", sync_to_thread=True)
    def start(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template | Redirect:
        settings: Settings = request.app.state.settings
        try:
            run, created = match_runs.start_run(
                db, me.region_id, actor=me.actor, time_limit=settings.solver_time_limit
            )
        except DomainError as exc:
            db.rollback()
            return _index(request, db, error=exc.message)
        db.commit()  # the supervisor reads the run from its own session
        if created:
            engine: Engine = request.app.state.engine
            assert run.id is not None
            match_runs.execute_in_background(engine, run.id)
        done = "started" if created else "already"
        return Redirect(f"/runs/{run.id}?done={done}", status_code=303)

    @get("/{run_id:int}", sync_to_thread=True)
    def show(self, request: Request[Any, Any, Any], db: Db, run_id: RunId) -> Template:
        return _show(request, db, run_id)

    @get("/{run_id:int}/progress", sync_to_thread=True)
    def progress(self, request: Request[Any, Any, Any], db: Db, run_id: RunId) -> Template:
        view = _view(request, db, run_id)
        # Once the run has ended, HTMX reloads the whole page to show the proposal.
        headers = {} if view.active else {"HX-Refresh": "true"}
        return Template("runs/_progress.html", context=_context(view), headers=headers)

    @post("/{run_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self, request: Request[Any, Any, Any], db: Db, run_id: RunId, me: Me
    ) -> Template | Redirect:
        try:
            match_runs.cancel_run(db, me.region_id, run_id, actor=me.actor)
        except DomainError as exc:
            db.rollback()
            return _show(request, db, run_id, error=exc.message)
        return Redirect(f"/runs/{run_id}?done=cancelled", status_code=303)

    @post("/{run_id:int}/approve", sync_to_thread=True)
    def approve(
        self, request: Request[Any, Any, Any], db: Db, run_id: RunId, me: Me
    ) -> Template | Redirect:
        try:
            match_runs.approve_run(
                db,
                run_id,
                actor=me.actor,
                region_id=me.region_id,
                settings=request.app.state.settings,
            )
        except DomainError as exc:
            db.rollback()
            return _show(request, db, run_id, error=exc.message)
        return Redirect(f"/runs/{run_id}?done=approved", status_code=303)

    @post("/{run_id:int}/decisions", sync_to_thread=True)
    def decide(
        self, request: Request[Any, Any, Any], db: Db, run_id: RunId, form: Form, me: Me
    ) -> Template | Redirect:
        match_runs.get_run(db, me.region_id, run_id)  # 404 outside the region
        request_id = parse_int(form.get("request_id"))
        reviewer_id = parse_int(form.get("reviewer_id"))
        action = str(form.get("action") or "")
        try:
            if request_id is None or reviewer_id is None or action not in _ACTIONS:
                raise match_runs.RunRefused("Choose a reviewer and what to do with them")
            if action == "remove":
                match_runs.remove_decision(
                    db, me.region_id, request_id, reviewer_id, actor=me.actor
                )
            else:
                match_runs.decide_pair(
                    db,
                    me.region_id,
                    request_id,
                    reviewer_id,
                    PairDecisionKind(action),
                    actor=me.actor,
                )
        except DomainError as exc:
            db.rollback()
            return _show(request, db, run_id, error=exc.message)
        done = {"locked": "locked", "excluded": "excluded", "remove": "removed"}[action]
        return Redirect(f"/runs/{run_id}?done={done}#request-{request_id}", status_code=303)


_ACTIONS = {"locked", "excluded", "remove"}


def _view(
    request: Request[Any, Any, Any], db: Db, run_id: int, *, compare_with: int | None = None
) -> proposal.RunView:
    vocab = load_vocabulary()
    return proposal.run_view(
        db,
        provide_coordinator(request).region_id,
        run_id,
        skill_label=vocab.skill_label,
        agency_label=vocab.agency_label,
        compare_with=compare_with,
    )


def _compare_with(request: Request[Any, Any, Any]) -> int | None:
    """``?compare=N``: the run to compare with; an id that is not a number is not found."""
    value = request.query_params.get("compare")
    if value is None or value == "":
        return None
    number = parse_int(value)
    if number is None:
        raise NotFound("There is no such run to compare with")
    return number


def _context(view: proposal.RunView) -> dict[str, Any]:
    elapsed = (utcnow() - view.run.started_at).total_seconds()
    return {
        "view": view,
        "run": view.run,
        "elapsed": max(0, int(elapsed)),
        "balance_rule": ledger.BALANCE_RULE,
    }


def _show(
    request: Request[Any, Any, Any], db: Db, run_id: int, *, error: str | None = None
) -> Template:
    view = _view(request, db, run_id, compare_with=_compare_with(request))
    done = str(request.query_params.get("done") or "")
    if done in ("started", "already") and not view.active:
        done = ""  # reloaded once the run ended: the page itself says how it went
    return Template(
        "runs/show.html",
        context={
            **_context(view),
            "message": None if error else _MESSAGES.get(done),
            "errors": {"run": error} if error else {},
            "error_summary": [{"text": error, "href": "#actions"}] if error else [],
        },
        status_code=400 if error else 200,
    )


def _index(request: Request[Any, Any, Any], db: Db, *, error: str | None = None) -> Template:
    me = provide_coordinator(request)
    page_number = max(1, parse_int(request.query_params.get("page")) or 1)
    match_runs.recover_stale(db, region_id=me.region_id)
    page = match_runs.list_runs(db, me.region_id, page=page_number, per_page=PER_PAGE)
    return Template(
        "runs/index.html",
        context={
            "page": page,
            "names": match_runs.actor_names(db, [r.started_by for r in page.items]),
            "pagination": _pagination(page),
            "waiting": len(match_runs.matchable_requests(db, me.region_id)),
            "active": match_runs.active_run(db, me.region_id),
            "errors": {"run": error} if error else {},
            "error_summary": [{"text": error, "href": "#run-matching"}] if error else [],
        },
        status_code=400 if error else 200,
    )


def _pagination(page: match_runs.RunPage) -> dict[str, Any] | None:
    if page.pages <= 1:
        return None

    def href(n: int) -> str:
        return "/runs?" + urlencode({"page": n})

    result: dict[str, Any] = {
        "items": [
            {"number": n, "href": href(n), "current": n == page.page}
            for n in range(1, page.pages + 1)
        ],
        "landmarkLabel": "Pages of matching runs",
    }
    if page.page > 1:
        result["previous"] = {"href": href(page.page - 1)}
    if page.page < page.pages:
        result["next"] = {"href": href(page.page + 1)}
    return result

"""The reciprocity ledger of the coordinator's region: peers lent and received per
partnership over a period, the running balance as a chart, and a CSV export."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.response import Template

from peermatch import ledger, ledger_chart, text
from peermatch.web.params import Db, Me

_DIGITS = re.compile(r"[0-9]{1,4}")
# The one CSV escaper (the same function the reviewer export uses), under its old name here.
csv_cell = text.spreadsheet_cell


def _date(params: Any, name: str) -> tuple[dt.date | None, dict[str, str], str | None]:
    """A GOV.UK date input (``name-day``, ``-month``, ``-year``): the date, what was typed,
    and an error message (None when fine or left empty)."""
    typed = {
        part: str(params.get(f"{name}-{part}") or "").strip() for part in ("day", "month", "year")
    }
    if not any(typed.values()):
        return None, typed, None
    try:
        # ASCII digits only: int() would also read "１２" or "١٢" (forms.parse_int's rule).
        if not all(_DIGITS.fullmatch(typed[p]) for p in ("day", "month", "year")):
            raise ValueError
        day, month, year = (int(typed[p]) for p in ("day", "month", "year"))
        if year < 1000:
            raise ValueError
        return dt.date(year, month, day), typed, None
    except (ValueError, OverflowError):
        return None, typed, "must be a real date, like 31 3 2027"


def _period(
    request: Request[Any, Any, Any],
) -> tuple[dt.date, dt.date, dict[str, dict[str, str]], dict[str, str]]:
    today = dt.date.today()
    start, typed_from, from_error = _date(request.query_params, "from")
    end, typed_to, to_error = _date(request.query_params, "to")
    errors: dict[str, str] = {}
    if from_error:
        errors["from"] = f"The start of the period {from_error}"
    if to_error:
        errors["to"] = f"The end of the period {to_error}"
    start = start or dt.date(today.year - 1, today.month, 1)
    end = end or today
    if not errors and start > end:
        errors["to"] = "The end of the period must be the same as or after its start"
    if errors:  # show the whole history's default period beside the messages
        start, end = dt.date(today.year - 1, today.month, 1), today
    return start, end, {"from": typed_from, "to": typed_to}, errors


def _query(start: dt.date, end: dt.date) -> str:
    return urlencode(
        {
            "from-day": start.day, "from-month": start.month, "from-year": start.year,
            "to-day": end.day, "to-month": end.month, "to-year": end.year,
        }
    )  # fmt: skip


class LedgerController(Controller):
    path = "/ledger"

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Template:
        start, end, typed, errors = _period(request)
        rows = ledger.balances(db, me.region_id, start=start, end=end)
        points = ledger.running_balances(db, me.region_id, start=start, end=end)
        chart = ledger_chart.build(points, {b.code: b.name for b in rows}) if rows else None
        return Template(
            "ledger/index.html",
            context={
                "rows": rows,
                "chart": chart,
                "start": start,
                "end": end,
                "typed": typed,
                "errors": errors,
                "error_summary": [{"text": m, "href": f"#{k}-day"} for k, m in errors.items()],
                "query": _query(start, end),
                "balance_rule": ledger.BALANCE_RULE,
            },
            status_code=400 if errors else 200,
        )

    @get("/export.csv", sync_to_thread=True)
    def export(self, request: Request[Any, Any, Any], db: Db, me: Me) -> Response[Any]:
        start, end, _, errors = _period(request)
        if errors:
            return Response(next(iter(errors.values())), status_code=400, media_type="text/plain")
        out = io.StringIO()
        # The one way a CSV leaves PeerMatch (peermatch/text.py): every cell quoted, and any
        # cell a spreadsheet would run as a formula escaped, as in the reviewer export.
        writer = text.csv_writer(out)
        writer.writerow(["partnership_code", "partnership", "from", "to", "opening_balance",
                         "lent", "received", "closing_balance"])  # fmt: skip
        for b in ledger.balances(db, me.region_id, start=start, end=end):
            writer.writerow(
                text.spreadsheet_row(
                    (b.code, b.name, start, end, b.opening, b.lent, b.received, b.closing)
                )
            )
        name = f"ledger-{start.isoformat()}-to-{end.isoformat()}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

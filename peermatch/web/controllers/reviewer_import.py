"""CSV import and export of reviewers. An upload is checked in full first: a preview lists
every bad row, and nothing is written unless every row is valid and the coordinator confirms."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from peermatch import reviewer_csv
from peermatch.web.forms import parse_int, provide_form
from peermatch.web.params import Db, Form, Me


class ReviewerImportController(Controller):
    path = "/reviewers"
    dependencies = {"form": provide_form}

    @get("/import", sync_to_thread=False)
    def upload_form(self, request: Request[Any, Any, Any]) -> Template:
        # Only ever a count: anything else in the link is ignored, never shown.
        imported = parse_int(request.query_params.get("imported"), 1, reviewer_csv.MAX_ROWS)
        return Template("reviewers/import.html", context={"errors": {}, "imported": imported})

    @post("/import", sync_to_thread=True, request_max_body_size=reviewer_csv.MAX_UPLOAD_BYTES)
    def preview(self, db: Db, me: Me, form: Form) -> Template:
        upload = form.get("file")
        content = _read(upload)
        if content is None:
            return Template(
                "reviewers/import.html",
                context={"errors": {"file": "Select a CSV file of reviewers"}},
                status_code=400,
            )
        result = reviewer_csv.preview_import(db, me.region_id, content)
        return _preview_page(result, content)

    @post(
        "/import/confirm",
        sync_to_thread=True,
        request_max_body_size=reviewer_csv.MAX_UPLOAD_BYTES,
    )
    def confirm(self, db: Db, me: Me, form: Form) -> Template | Redirect:
        try:
            content = base64.b64decode(str(form.get("content") or ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        # Checked again as it is written: the region's data may have changed since the preview.
        try:
            count = reviewer_csv.apply_import(db, me.region_id, content, actor=me.actor)
        except reviewer_csv.ImportRejected as exc:
            return _preview_page(exc.preview, content)
        return Redirect(f"/reviewers/import?imported={count}", status_code=303)

    @get("/export.csv", sync_to_thread=True)
    def export(self, db: Db, me: Me) -> Response[str]:
        # A copy of personal data leaving the service: audited, as the CLI export is.
        content = reviewer_csv.export_reviewers(db, me.region_id, actor=me.actor)
        filename = f"reviewers-{dt.date.today().isoformat()}.csv"
        return Response(
            content,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _read(upload: object) -> bytes | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # One byte over the limit is enough for the import to say the file is too large.
    return upload.file.read(reviewer_csv.MAX_BYTES + 1)


def _preview_page(result: reviewer_csv.ImportPreview, content: bytes) -> Template:
    valid = not result.fatal and not result.errors and bool(result.rows)
    return Template(
        "reviewers/import_preview.html",
        context={
            "result": result,
            "valid": valid,
            "content": base64.b64encode(content).decode("ascii") if valid else "",
        },
        status_code=200 if valid else 400,
    )

"""GOV.UK pagination for a list page: previous, next, the first, last and nearby pages, and
gaps as ellipses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from peermatch.registry import Page


def pagination(
    page: Page[Any], path: str, query: dict[str, str], label: str
) -> dict[str, Any] | None:
    """The ``govukPagination`` parameters for ``page`` of the list at ``path``, or None when
    everything fits on one page."""
    if page.pages <= 1:
        return None

    def href(n: int) -> str:
        return f"{path}?" + urlencode({**query, "page": n})

    items: list[dict[str, Any]] = []
    shown = {1, page.pages, page.page - 1, page.page, page.page + 1}
    for n in range(1, page.pages + 1):
        if n in shown:
            items.append({"number": n, "href": href(n), "current": n == page.page})
        elif items and not items[-1].get("ellipsis"):
            items.append({"ellipsis": True})
    result: dict[str, Any] = {"items": items, "landmarkLabel": label}
    if page.page > 1:
        result["previous"] = {"href": href(page.page - 1)}
    if page.page < page.pages:
        result["next"] = {"href": href(page.page + 1)}
    return result

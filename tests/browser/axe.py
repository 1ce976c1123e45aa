"""WCAG 2.2 AA checks with axe-core (installed from the npm registry by ``make assets``).

``assert_accessible(page)`` runs axe in the page and fails on any serious or critical violation.
The script is injected by Playwright, so the context needs ``bypass_csp=True`` (the service's
Content-Security-Policy rightly refuses scripts it did not serve).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


def violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.2 AA violations on the page as it is now."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make assets`")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    return [v for v in result["violations"] if v.get("impact") in BLOCKING]


def assert_accessible(page: Any) -> None:
    found = violations(page)
    assert not found, "axe found WCAG 2.2 AA violations on {}:\n{}".format(
        page.url,
        "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in found
        ),
    )

"""Rules every template keeps, checked on every template (new ones included): nothing reaches a
GOV.UK macro's ``html`` parameter except markup built in the template by a ``{% set %}`` block
(which autoescapes what goes in), and ``|safe`` is used only for Litestar's CSRF field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "templates").rglob("*.html"))
_HTML_PARAM = re.compile(r"""["']html["']\s*:\s*([^,}\n]+)""")
_SET_BLOCK = re.compile(r"{%-?\s*set\s+(\w+)\s*-?%}")
_SAFE = re.compile(r"{{(.*?)\|\s*safe\b")


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_it_passes_only_set_block_markup_to_html_parameters(template: Path):
    text = template.read_text()
    captured = set(_SET_BLOCK.findall(text))
    for value in _HTML_PARAM.findall(text):
        name = value.strip()
        assert re.fullmatch(r"\w+", name) and name in captured, (
            f"{template.name}: 'html': {name} — build the markup in a {{% set {name} %}} block "
            f"(autoescaped) or use 'text'"
        )


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_it_marks_nothing_safe_but_the_csrf_field(template: Path):
    for expression in _SAFE.findall(template.read_text()):
        assert expression.strip() == "csrf_input", f"{template.name}: |safe on {expression!r}"


def test_the_rules_see_the_templates():
    assert len(TEMPLATES) > 5


def test_python_code_marks_nothing_safe():
    root = Path(__file__).resolve().parents[2] / "peermatch"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bMarkup\(|markupsafe|\bautoescape\s*=\s*False", line)
    ]
    assert offenders == []

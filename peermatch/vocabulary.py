"""Agencies, skills and methodologies: data loaded from ``data/vocabularies.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from peermatch.resources import resource_dir

VOCABULARY_FILE = resource_dir("data") / "vocabularies.json"


@dataclass(frozen=True)
class Vocabulary:
    agencies: dict[str, str]  # code -> label, in display order
    skills: dict[str, str]
    methodologies: dict[str, str]

    def agency_label(self, code: str) -> str:
        return self.agencies.get(code, code)

    def skill_label(self, code: str) -> str:
        return self.skills.get(code, code)

    def methodology_label(self, code: str) -> str:
        return self.methodologies.get(code, code)


@cache
def load() -> Vocabulary:
    raw = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return Vocabulary(
        agencies=dict(raw["agencies"]),
        skills=dict(raw["skills"]),
        methodologies=dict(raw["methodologies"]),
    )

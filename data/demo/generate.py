"""Writes the demo region files in this folder. Run once; the output is committed.

    .venv/bin/python data/demo/generate.py

Every name, place and email address here is invented. Fixed random seed: re-running gives the
same files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

from peermatch.reviewer_csv import COLUMNS

HERE = Path(__file__).resolve().parent
rng = random.Random(20261127)
# Drawn from a second stream so that adding them left every earlier column as it was.
later = random.Random(20261128)

REGIONS = [
    {
        "code": "demo-north",
        "name": "Northvale and Moors (demo region)",
        "coordinator": {"email": "coordinator@demo.peermatch.example", "name": "Demo Coordinator"},
        "places": [
            "Brackenford",
            "Calderbury",
            "Dunmere",
            "Elmstead Vale",
            "Fenwick Moor",
            "Greyholm",
            "Harrowdale",
            "Ivymouth",
            "Kestrelby",
            "Larchfield",
        ],
        "reviewers": 150,
        "requests": 12,
    },
    {
        "code": "demo-south",
        "name": "Southshore (second demo region)",
        "coordinator": {
            "email": "coordinator@south.demo.peermatch.example",
            "name": "Second Demo Coordinator",
        },
        "places": ["Saltcombe", "Tidewell", "Wrenhaven"],
        "reviewers": 24,
        "requests": 0,
    },
]

# Employers shared by several partnerships, as in England: a police force and an integrated
# care board each serve many. Reviewers of those agencies in those partnerships work for them;
# every other reviewer is in their partnership's own organisation ("<Partnership> <agency>").
ORGANISATIONS = {
    "demo-north": [
        {
            "name": "Northshire Police",
            "agency": "police",
            "partnerships": ["BRA", "CAL", "DUN", "ELM", "FEN"],
        },
        {
            "name": "Moorland Constabulary",
            "agency": "police",
            "partnerships": ["GRE", "HAR", "IVY", "KES", "LAR"],
        },
        {
            "name": "Northvale and Moors Integrated Care Board",
            "agency": "health",
            "partnerships": ["BRA", "CAL", "DUN", "ELM", "FEN", "GRE", "HAR", "IVY", "KES", "LAR"],
        },
    ],
    "demo-south": [
        {"name": "Southshore Police", "agency": "police", "partnerships": ["SAL", "TID", "WRE"]},
    ],
}


def _employer(region_code: str, home: str, agency: str) -> str:
    for org in ORGANISATIONS.get(region_code, []):
        if org["agency"] == agency and home in org["partnerships"]:
            return str(org["name"])
    return ""


FIRST = [
    "Aisha",
    "Amara",
    "Ben",
    "Bethan",
    "Callum",
    "Chidi",
    "Dafydd",
    "Deepa",
    "Eilidh",
    "Emeka",
    "Fatima",
    "Finn",
    "Grace",
    "Gurpreet",
    "Hannah",
    "Harvey",
    "Imran",
    "Isla",
    "Jamal",
    "Joanna",
    "Kavita",
    "Kieran",
    "Laila",
    "Liam",
    "Maryam",
    "Megan",
    "Niamh",
    "Nathan",
    "Olumide",
    "Orla",
    "Priya",
    "Rhys",
    "Ruth",
    "Sanjay",
    "Siobhan",
    "Tariq",
    "Tomasz",
    "Una",
    "Victor",
    "Wren",
    "Yasmin",
    "Zoe",
]
LAST = [
    "Abernethy",
    "Ashdown",
    "Bellweather",
    "Bramwell",
    "Carrow",
    "Colquhoun",
    "Delacourt",
    "Drummond",
    "Eastleigh",
    "Fairbrother",
    "Fenmore",
    "Gathercole",
    "Hallbrook",
    "Hawksworth",
    "Ingleby",
    "Jessop",
    "Kettleby",
    "Lockwood",
    "Marchbank",
    "Merriweather",
    "Nightingale",
    "Okonjo",
    "Pemberton",
    "Quarrie",
    "Ravensworth",
    "Rowntree",
    "Saltmarsh",
    "Stanforth",
    "Thackeray",
    "Underhill",
    "Varley",
    "Wetherall",
    "Whitlock",
    "Yardley",
]

AGENCIES = {
    "local-authority": [
        "Independent reviewing officer",
        "Service manager, children's social care",
        "Practice educator",
        "Head of quality assurance",
    ],
    "police": [
        "Detective inspector, public protection",
        "Detective sergeant, child abuse unit",
        "Safeguarding review officer",
    ],
    "health": [
        "Designated nurse for safeguarding",
        "Named GP for safeguarding",
        "Named midwife",
        "Designated doctor",
    ],
    "education": ["Designated safeguarding lead", "Head teacher", "Education safeguarding adviser"],
    "probation": ["Senior probation officer", "MAPPA coordinator"],
    "voluntary": ["Service manager, family support charity", "Safeguarding lead, youth charity"],
}
SKILLS = [
    "peer-review",
    "lead-reviewer",
    "rca",
    "appreciative-inquiry",
    "deep-dive-audit",
    "reflective-learning",
    "single-agency-review",
]


def _code(place: str) -> str:
    return place[:3].upper()


def _gaps() -> list[str]:
    """Leave and busy periods: most reviewers have one or two in the next year."""
    gaps = []
    for _ in range(rng.choices([0, 1, 2, 3], weights=[30, 40, 22, 8])[0]):
        start = dt.date(2026, 12, 1) + dt.timedelta(days=rng.randrange(0, 330))
        length = rng.choice([3, 7, 10, 14, 14, 21, 28, 42])
        gaps.append((start, start + dt.timedelta(days=length - 1)))
    return [f"{s}..{e}" for s, e in sorted(gaps)]


def _reviewers(region: dict, codes: list[str], used: set[str]) -> list[list[str]]:
    rows = []
    agencies = list(AGENCIES)
    for i in range(region["reviewers"]):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}".lower()
        n = 2
        while email in used:
            email, n = f"{first}.{last}{n}".lower(), n + 1
        used.add(email)
        agency = agencies[i % len(agencies)]  # every agency well represented
        home = codes[i % len(codes)]
        skills = {"peer-review"} if rng.random() < 0.8 else set()
        skills |= set(rng.sample(SKILLS[1:], rng.choice([0, 1, 1, 2, 3])))
        skills.add(SKILLS[i % len(SKILLS)])  # every skill well represented
        # Root cause analysis is the scarce skill: few reviewers hold it.
        if "rca" in skills and later.random() < 0.75:
            skills.discard("rca")
        others = [c for c in codes if c != home]
        conflicts = rng.sample(others, 1) if others and rng.random() < 0.12 else []
        rows.append(
            [
                f"{first} {last}",
                f"{email}@example.org",
                home,
                agency,
                rng.choice(AGENCIES[agency]),
                ";".join(s for s in SKILLS if s in skills),
                str(rng.choices([0, 1, 2, 3], weights=[6, 50, 34, 10])[0]),
                "no" if rng.random() < 0.06 else "yes",
                str(dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(0, 2800))),
                ";".join(_gaps()),
                ";".join(conflicts),
                *_experience(),
                _employer(region["code"], home, agency),
            ]
        )
    return rows


def _experience() -> list[str]:
    """Peer reviews before PeerMatch and the day the last one ended: many have none, a few
    have done many."""
    prior = later.choices([0, 1, 2, 3, 5, 8, 12], weights=[35, 18, 14, 12, 10, 7, 4])[0]
    if not prior:
        return ["0", ""]
    last = dt.date(2022, 1, 3) + dt.timedelta(days=later.randrange(0, 1760))
    return [str(prior), str(last)]


def _working_days_after(day: dt.date, n: int) -> dt.date:
    while n:
        day += dt.timedelta(days=1)
        n -= day.weekday() < 5
    return day


METHOD_SKILL = {
    "appreciative-inquiry": "appreciative-inquiry",
    "reflective-learning": "reflective-learning",
    "single-agency-review": "single-agency-review",
    "multi-agency-deep-dive": "deep-dive-audit",
    "peer-review": "peer-review",
    "root-cause-analysis": "rca",
}
# Several submitted requests, so the demo region has matching to do; among them a high-profile
# one (DUN) and one needing the scarce root cause analysis skill (GRE).
STATUSES = [
    "draft",
    "submitted",
    "submitted",
    "submitted",
    "proposed",
    "submitted",
    "inviting",
    "staffed",
    "staffed",
    "completed",
    "completed",
    "cancelled",
]


def _requests(region: dict, codes: list[str]) -> list[dict]:
    requests = []
    methods = list(METHOD_SKILL)
    for i in range(region["requests"]):
        status = STATUSES[i % len(STATUSES)]
        past = status in {"completed", "cancelled"}
        notified = dt.date(2026, 12, 1) + dt.timedelta(days=rng.randrange(0, 45))
        if past:
            notified -= dt.timedelta(days=120)
        start = _working_days_after(notified, 5)
        end = start + dt.timedelta(days=rng.choice([10, 14, 21, 28]))
        method = methods[i % len(methods)]
        code = codes[i % len(codes)]
        reference = f"{code}-{notified.year}-{rng.randrange(1, 60):03d}"
        involved = sorted(rng.sample(list(AGENCIES), rng.choice([1, 2, 3])))
        requests.append(
            {
                "region": region["code"],
                "partnership": code,
                "reference": reference,
                "methodology": method,
                "high_profile": i % 5 == 2,
                "agencies_involved": involved,
                # The force or board serving the partnership, when its agency is involved.
                "organisations_involved": sorted(
                    filter(None, (_employer(region["code"], code, a) for a in involved))
                ),
                "required_skills": sorted(
                    {METHOD_SKILL[method], "lead-reviewer"}
                    if i % 3 == 0
                    else {METHOD_SKILL[method]}
                ),
                "peers": rng.choice([1, 2, 2, 3, 3, 4]),
                "window_start": str(start),
                "window_end": str(end),
                "notified_on": str(notified),
                # None: PeerMatch works it out from the notification date and methodology.
                "statutory_deadline": None,
                "status": status,
            }
        )
    return requests


def main() -> None:
    regions, requests, used = [], [], set()
    for region in REGIONS:
        partnerships = [
            {
                "code": _code(place),
                "name": f"{place} Safeguarding Children Partnership",
                "opening_lent": rng.randrange(0, 6),
                "opening_received": rng.randrange(0, 6),
            }
            for place in region["places"]
        ]
        codes = [p["code"] for p in partnerships]
        assert len(set(codes)) == len(codes), codes
        regions.append(
            {
                "code": region["code"],
                "name": region["name"],
                "coordinator": region["coordinator"],
                "partnerships": partnerships,
                "organisations": ORGANISATIONS.get(region["code"], []),
            }
        )
        with (HERE / f"reviewers-{region['code']}.csv").open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(_reviewers(region, codes, used))
        requests += _requests(region, codes)
    (HERE / "regions.json").write_text(json.dumps(regions, indent=2) + "\n")
    (HERE / "requests.json").write_text(json.dumps(requests, indent=2) + "\n")


if __name__ == "__main__":
    main()

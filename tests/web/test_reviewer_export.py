"""CSV export of the region's reviewers."""

from __future__ import annotations

import csv
import io


def test_it_downloads_the_regions_reviewers_as_csv(alice_client, add_reviewer, partnership_a):
    add_reviewer(partnership_a, "Priya Shah", skills=["rca"])
    response = alice_client.get("/reviewers/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["partnership"], r["skills"]) for r in rows] == [
        ("Priya Shah", "ALPHA", "rca")
    ]

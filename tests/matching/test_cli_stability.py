"""The command line with organisations and stable re-runs: ``generate --organisations``,
``solve --previous SOLUTION.json`` (a bad file exits 2 naming the element), ``check`` reporting
the pairs kept."""

from __future__ import annotations

import json

from test_cli import one_line_error, peermatch, write

from peermatch.matching.io import load_problem, load_solution
from peermatch.matching.validate import validate


def test_generate_organisations_then_rerun_with_previous(tmp_path):
    path = tmp_path / "region.json"
    gen = peermatch(
        "generate", "--partnerships", "8", "--reviewers", "80", "--requests", "10", "--seed", "2",
        "--organisations", "--out", str(path),
    )  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    problem = load_problem(path.read_text())
    forces = {r.organisation for r in problem.reviewers if r.agency == "police"}
    assert None not in forces and 1 < len(forces) < 8  # one force serves several partnerships
    homes = {f: {r.partnership for r in problem.reviewers if r.organisation == f} for f in forces}
    assert any(len(h) > 1 for h in homes.values())
    assert any(q.organisations_involved for q in problem.requests)
    first = tmp_path / "first.json"
    assert peermatch("solve", str(path), "--workers", "1", "--out", str(first)).returncode == 0
    earlier = load_solution(first.read_text())
    assert earlier.kept is None and '"kept"' not in first.read_text()
    again = tmp_path / "again.json"
    rerun = peermatch(
        "solve", str(path), "--workers", "1", "--previous", str(first), "--out", str(again)
    )
    assert rerun.returncode == 0, rerun.stderr
    solution = load_solution(again.read_text())
    with_previous = load_problem(path.read_text())
    from dataclasses import replace

    with_previous = replace(with_previous, previous=earlier.assignments)
    assert validate(with_previous, solution) == []
    assert solution.kept == solution.bound_kept == earlier.filled
    assert set(solution.assignments) == set(earlier.assignments)
    # The validator of `check` needs the previous pairs in the problem to judge `kept`.
    data = json.loads(path.read_text()) | {
        "previous": [{"request": p.request, "reviewer": p.reviewer} for p in earlier.assignments]
    }
    problem_path = write(tmp_path, json.dumps(data), "with-previous.json")
    checked = peermatch("check", problem_path, str(again))
    assert checked.returncode == 0, checked.stderr
    assert f"kept {solution.kept}" in checked.stdout
    same = peermatch("check", str(path), str(again), "--previous", str(first))
    assert same.returncode == 0, same.stderr
    assert f"kept {solution.kept}" in same.stdout
    without = peermatch("check", str(path), str(again))  # kept, but no previous to judge it by
    assert without.returncode == 1
    assert "kept is reported but the problem has no previous pairs" in without.stderr


def test_a_bad_previous_file_exits_2_naming_the_element(tmp_path):
    problem = write(
        tmp_path,
        json.dumps({
            "format": "peermatch.problem/1", "partnerships": [{"id": "A"}, {"id": "B"}],
            "reviewers": [{"id": "r1", "partnership": "B", "agency": "police"}],
            "requests": [{"id": "q1", "partnership": "A", "peers": 1, "from": "2027-03-01",
                          "to": "2027-03-02"}],
        }),
    )  # fmt: skip
    first = tmp_path / "first.json"
    assert peermatch("solve", problem, "--out", str(first)).returncode == 0
    data = json.loads(first.read_text())
    data["assignments"][0]["reviewer"] = 7
    bad = write(tmp_path, json.dumps(data), "bad.json")
    result = peermatch("solve", problem, "--previous", bad)
    assert result.returncode == 2
    assert one_line_error(result) == (
        f"Error: {bad}: assignments[0].reviewer: must be a string, not a number"
    )
    missing = peermatch("solve", problem, "--previous", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    assert one_line_error(missing).startswith(f"Error: {tmp_path / 'none.json'}")
    broken = write(tmp_path, "{", "broken.json")
    result = peermatch("solve", problem, "--previous", broken)
    assert result.returncode == 2
    assert one_line_error(result).startswith(f"Error: {broken}: solution: not valid JSON")

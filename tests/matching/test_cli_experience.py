"""The command line with the "experience and practice" extension: generate, solve and check
problems that use it; refusals of its fields exit 2 naming the element."""

from __future__ import annotations

import json

from test_cli import EXAMPLES, one_line_error, peermatch, write

from peermatch.matching.io import load_problem, load_solution
from peermatch.matching.validate import validate


def test_generate_experience_and_scarce_skill_then_solve_and_check(tmp_path):
    path = tmp_path / "hard.json"
    gen = peermatch(
        "generate", "--partnerships", "4", "--reviewers", "40", "--requests", "8", "--seed", "3",
        "--experience", "--scarce-skill", "--out", str(path),
    )  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    problem = load_problem(path.read_text())
    assert any(q.needs_experienced for q in problem.requests)
    assert any("lead-reviewer" in q.required_skills for q in problem.requests)
    out = tmp_path / "hard.solution.json"
    solved = peermatch("solve", str(path), "--workers", "1", "--out", str(out))
    assert solved.returncode == 0, solved.stderr
    solution = load_solution(out.read_text())
    assert validate(problem, solution) == []
    assert solution.practice is not None and solution.bound_practice is not None
    assert solution.practice <= solution.bound_practice
    checked = peermatch("check", str(path), str(out))
    assert checked.returncode == 0, checked.stderr
    assert f"practice {solution.practice}" in checked.stdout


def test_check_refuses_a_tampered_practice(tmp_path):
    example = next(e for e in EXAMPLES if e.stem == "experience-and-practice")
    out = tmp_path / "s.json"
    assert peermatch("solve", str(example), "--out", str(out)).returncode == 0
    data = json.loads(out.read_text())
    data["practice"] += 1
    bad = peermatch("check", str(example), write(tmp_path, json.dumps(data), "bad.json"))
    assert bad.returncode == 1
    assert "practice is" in bad.stderr


def test_an_old_solution_without_practice_still_checks(tmp_path):
    example = EXAMPLES[0]
    out = tmp_path / "s.json"
    assert peermatch("solve", str(example), "--out", str(out)).returncode == 0
    data = json.loads(out.read_text())
    del data["practice"], data["bounds"]["practice"]
    old = peermatch("check", str(example), write(tmp_path, json.dumps(data), "old.json"))
    assert old.returncode == 0, old.stderr


def test_a_bad_extension_field_exits_2_naming_it(tmp_path):
    data = json.loads(EXAMPLES[0].read_text())
    data["reviewers"][0]["reviews_completed"] = -2
    result = peermatch("solve", write(tmp_path, json.dumps(data)))
    assert result.returncode == 2
    assert "reviewers[0].reviews_completed: must be at least 0" in one_line_error(result)

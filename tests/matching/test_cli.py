"""The real ``peermatch`` console script: exit codes 0/1/2, one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import problem as build_problem
from builders import request, reviewer

from peermatch.matching.io import dump_problem, load_problem, load_solution
from peermatch.matching.validate import validate

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "data" / "examples").glob("*.json"))
SCRIPT = Path(sys.executable).with_name("peermatch")  # the installed console script
COMMAND = (
    [str(SCRIPT)]
    if SCRIPT.exists()
    else [sys.executable, "-c", "from peermatch.cli import main; main()"]
)


def peermatch(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    assert "Traceback" not in result.stderr + result.stdout
    return result


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_examples_are_shipped():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_solve_examples_validate(example):
    result = peermatch("solve", str(example), "--workers", "1", "--time-limit", "20")
    assert result.returncode == 0, result.stderr
    problem = load_problem(example.read_text())
    solution = load_solution(result.stdout)
    assert solution.status == "optimal"
    assert validate(problem, solution) == []


def test_solve_writes_out_file(tmp_path):
    out = tmp_path / "solution.json"
    result = peermatch("solve", str(EXAMPLES[0]), "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(out.read_text())["format"] == "peermatch.solution/1"


def test_solve_is_reproducible_with_one_worker():
    runs = [peermatch("solve", str(EXAMPLES[0]), "--workers", "1", "--seed", "7") for _ in "ab"]
    first, second = (
        {k: v for k, v in json.loads(r.stdout).items() if not k.endswith("seconds")} for r in runs
    )  # timings differ between runs, nothing else may
    assert first == second


def write(tmp_path: Path, text: str, name: str = "problem.json") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "problem: empty file"),
        ("{", "problem: not valid JSON"),
        ('{"format": "peermatch.problem/9"}', "format: unknown format"),
        (
            '{"format": "peermatch.problem/1", "partnerships": [{"id": "a"}],'
            ' "requests": [{"id": "q", "partnership": "a", "peers": 0,'
            ' "from": "2027-01-01", "to": "2027-01-02"}]}',
            "requests[0].peers: must be at least 1",
        ),
        ('{"format": "peermatch.problem/1", "reviewers": true}', "reviewers: must be a list"),
    ],
    ids=["empty", "malformed", "format", "peers", "type"],
)
def test_invalid_problem_exits_2_with_the_message(tmp_path, text, message):
    path = write(tmp_path, text)
    result = peermatch("solve", path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert one_line_error(result).startswith(f"Error: {path}: {message}")


def test_unreadable_or_binary_file_exits_2(tmp_path):
    missing = peermatch("solve", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert "cannot read" in one_line_error(missing)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = peermatch("solve", str(binary))
    assert result.returncode == 2
    assert "not UTF-8" in one_line_error(result)
    directory = peermatch("solve", str(tmp_path))
    assert directory.returncode == 2
    one_line_error(directory)


@pytest.mark.parametrize(
    "options",
    [
        ["--time-limit", "0"],
        ["--time-limit", "soon"],
        ["--workers", "-1"],
        ["--seed", "x"],
        ["--frobnicate"],
        [],
    ],
    ids=["zero-time", "text-time", "negative-workers", "text-seed", "unknown-option", "no-file"],
)
def test_bad_options_exit_2_with_one_line(options):
    args = ["solve", *options]
    if options:
        args.append(str(EXAMPLES[0]))
    result = peermatch(*args)
    assert result.returncode == 2
    one_line_error(result)


def test_infeasible_locked_pairs_exit_1(tmp_path):
    # The locked reviewer lacks the skill and nobody else can bring it.
    problem = build_problem(
        [reviewer("r1"), reviewer("r2", agency="health", skills=["rca"], capacity=0)],
        [request("q1", peers=2, required_skills=["rca"])],
        locked=[("q1", "r1")],
    )
    result = peermatch("solve", write(tmp_path, dump_problem(problem)))
    assert result.returncode == 1
    assert "cannot be completed" in one_line_error(result)
    assert load_solution(result.stdout).status == "infeasible"


def test_generate_writes_a_valid_problem(tmp_path):
    out = tmp_path / "g.json"
    args = ["--partnerships", "4", "--reviewers", "30", "--requests", "6", "--seed", "2"]
    result = peermatch("generate", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    problem = load_problem(out.read_text())
    assert (len(problem.partnerships), len(problem.reviewers), len(problem.requests)) == (4, 30, 6)
    again = peermatch("generate", *args)
    assert again.stdout == out.read_text()  # deterministic


def test_generate_with_decisions_then_solve(tmp_path):
    path = tmp_path / "g.json"
    gen = peermatch(
        "generate", "--partnerships", "3", "--reviewers", "25", "--requests", "5",
        "--locked", "3", "--excluded", "2", "--out", str(path),
    )  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    problem = load_problem(path.read_text())
    assert len(problem.locked) == 3 and len(problem.excluded) == 2
    result = peermatch("solve", str(path), "--workers", "1")
    assert result.returncode in (0, 1), result.stderr
    if result.returncode == 0:
        assert validate(problem, load_solution(result.stdout)) == []


@pytest.mark.parametrize(
    "args",
    [["--partnerships", "0", "--reviewers", "1", "--requests", "1"], ["--partnerships", "2"]],
    ids=["zero-partnerships", "missing-sizes"],
)
def test_generate_bad_options_exit_2(args):
    result = peermatch("generate", *args)
    assert result.returncode == 2
    one_line_error(result)


def test_check_accepts_solver_output_and_rejects_a_tampered_one(tmp_path):
    example = str(EXAMPLES[0])
    out = tmp_path / "s.json"
    assert peermatch("solve", example, "--out", str(out)).returncode == 0
    good = peermatch("check", example, str(out))
    assert good.returncode == 0, good.stderr
    assert "valid" in good.stdout
    data = json.loads(out.read_text())
    data["imbalance"] += 1
    bad = peermatch("check", example, write(tmp_path, json.dumps(data), "bad.json"))
    assert bad.returncode == 1
    assert "imbalance is" in bad.stderr
    garbage = peermatch("check", example, write(tmp_path, "[]", "garbage.json"))
    assert garbage.returncode == 2
    one_line_error(garbage)


def test_impossible_out_path_exits_2_before_solving(tmp_path):
    for out in (tmp_path, tmp_path / "missing" / "s.json"):
        result = peermatch("solve", str(EXAMPLES[0]), "--out", str(out))
        assert result.returncode == 2
        one_line_error(result)


def test_solve_takes_every_shipped_example_at_once_as_json_lines():
    result = peermatch("solve", *map(str, EXAMPLES), "--workers", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXAMPLES)
    for example, line in zip(EXAMPLES, lines, strict=True):
        solution = load_solution(line)
        assert validate(load_problem(example.read_text()), solution) == []


def test_solve_writes_one_file_per_problem_into_an_out_directory(tmp_path):
    result = peermatch("solve", *map(str, EXAMPLES), "--out", str(tmp_path), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    for example in EXAMPLES:
        written = tmp_path / f"{example.stem}.solution.json"
        assert validate(load_problem(example.read_text()), load_solution(written.read_text())) == []


def test_several_problems_need_a_directory_for_out(tmp_path):
    target = tmp_path / "one.json"
    result = peermatch("solve", *map(str, EXAMPLES[:2]), "--out", str(target))
    assert result.returncode == 2
    assert "--out must be an existing directory" in one_line_error(result)
    assert not target.exists()


def test_a_bad_problem_among_several_stops_the_run_before_anything_is_written(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "peermatch.problem/1", "partnerships": 3}')
    out = tmp_path / "out"
    out.mkdir()
    result = peermatch("solve", str(EXAMPLES[0]), str(bad), "--out", str(out))
    assert result.returncode == 2
    assert one_line_error(result).startswith(f"Error: {bad}: partnerships")
    assert list(out.iterdir()) == []

"""Benchmark of the matching solver against a coordinator's greedy baseline and, on the hard
scarce-skill instances, against HiGHS (an off-the-shelf MIP solver) on an exact MILP.

    .venv/bin/python tests/benchmarks/bench_matching.py  # everything (make bench)
    .venv/bin/python tests/benchmarks/bench_matching.py --quick  # all but national sizes
    .venv/bin/python tests/benchmarks/bench_matching.py --only scarce-regional --seeds 5
    .venv/bin/python tests/benchmarks/bench_matching.py --size 40 2000 200
    .venv/bin/python tests/benchmarks/bench_matching.py --only stable-rerun --seeds 3

The stable re-run rows solve a problem with organisations, then re-solve it after one decline
(the declined pair excluded) with the first solution as ``previous``: ``kept`` says how many of
the first solution's pairs the re-run keeps, out of its bound.

The scarce-skill rows (``generate(..., scarce_skill=True)``) run over SCARCE_SEEDS seeds each
(20 regional, 3 national) unless ``--seeds`` says otherwise. Their HiGHS column solves the MILP
of ``peermatch.matching.milp`` (the same problem: the candidate pairs, every rule, the objective
``W·fill − imbalance``) with ``highspy`` in the same process right after the solver, capped at
``--highs-cap`` seconds (printed); ``x`` is the solver's time over HiGHS's.

Each instance runs in its own subprocess so peak memory (ru_maxrss) is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from dataclasses import replace

from peermatch.matching.generate import generate
from peermatch.matching.instance import build
from peermatch.matching.problem import Pair, Problem, Reviewer
from peermatch.matching.solver import solve
from peermatch.matching.validate import objective_values, validate

INSTANCES = {
    "small": (10, 100, 15),
    "regional": (20, 600, 60),
    "re-solve": (20, 600, 60),
    "national": (150, 10_000, 1_000),
    "scarce-regional": (20, 600, 60),
    "scarce-national": (150, 10_000, 1_000),
    "stable-rerun": (20, 600, 60),
    "stable-national": (150, 10_000, 1_000),
}
SCARCE_SEEDS = {"scarce-regional": 20, "scarce-national": 3}
NATIONAL = ("national", "scarce-national", "stable-national")
HIGHS_CAP = {"scarce-regional": 120.0, "scarce-national": 300.0}
# The national MILP has 7.9 million binary columns and 56 million non-zeros (seed 0): building
# it takes 2.7 GB before HiGHS starts, more than this shared machine can spare per run, so the
# national HiGHS column is opt-in (--highs-national).
HIGHS_BY_DEFAULT = ("scarce-regional",)


def highs_baseline(problem: Problem, cap: float) -> dict:
    """HiGHS (highspy) on the exact MILP of ``problem``: time, status, fill, imbalance and its
    proven bound, within ``cap`` seconds (model building included)."""
    import highspy
    import numpy as np

    from peermatch.matching import milp
    from peermatch.matching.objective import balance_of, objective_weight
    from peermatch.matching.seats import LockedInfeasible, place_locked

    started = time.perf_counter()
    inst = build(problem)
    try:
        seats = place_locked(inst)
    except LockedInfeasible:
        return {"status": "infeasible", "seconds": time.perf_counter() - started}
    weight = objective_weight(inst, seats)
    model = milp.build(inst, seats, weight)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", max(1.0, cap - (time.perf_counter() - started)))
    inf = highspy.kHighsInf
    n = model.n_cols
    h.addVars(n, np.zeros(n), np.where(np.isinf(model.col_upper), inf, model.col_upper))
    starts, index, value = model.csr()
    lo = np.where(np.isinf(model.row_lower), -inf, model.row_lower)
    hi = np.where(np.isinf(model.row_upper), inf, model.row_upper)
    h.addRows(model.n_rows, lo, hi, len(index), starts.astype(np.int32), index.astype(np.int32),
              value)  # fmt: skip
    h.changeColsCost(n, np.arange(n, dtype=np.int32), model.cost)
    kinds = np.where(model.integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), kinds)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.changeObjectiveOffset(model.offset)
    h.run()
    seconds = time.perf_counter() - started
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    row = {"status": status, "seconds": seconds}
    if info.primal_solution_status:
        every = inst.locked + model.pairs_of(np.asarray(h.getSolution().col_value))
        row |= {
            "filled": len(every),
            "imbalance": int(np.abs(balance_of(inst, every)).sum()),
        }
    row["bound"] = info.mip_dual_bound
    row["weight"] = weight
    return row


def greedy(problem: Problem) -> list[Pair]:
    """A coordinator with a spreadsheet: most constrained request first (fewest eligible
    reviewers per seat), then eligible reviewers with the most spare capacity, keeping every
    rule (agencies distinct, skills covered or nobody, capacity, locked pairs kept)."""
    load = {r.id: 0 for r in problem.reviewers}
    pairs = list(problem.locked)
    for p in pairs:
        load[p.reviewer] += 1
    eligible = build(problem).eligible  # the rule table, vectorised (a loop takes minutes)
    pools = {
        q.id: [problem.reviewers[i] for i in eligible[k].tolist()]
        for k, q in enumerate(problem.requests)
    }
    reviewers = {r.id: r for r in problem.reviewers}
    for q in sorted(problem.requests, key=lambda q: (len(pools[q.id]) / q.peers, q.id)):
        team = [reviewers[p.reviewer] for p in problem.locked if p.request == q.id]
        chosen: list[Reviewer] = []
        need = set(q.required_skills) - {s for r in team for s in r.skills}
        pool = sorted(pools[q.id], key=lambda r: (-(r.capacity - load[r.id]), r.id))
        for r in sorted(pool, key=lambda r: -len(need & r.skills)):  # stable: skills first
            if len(team) + len(chosen) >= q.peers:
                break
            agencies = {m.agency for m in team + chosen}
            if load[r.id] < r.capacity and r.agency not in agencies and r not in team:
                chosen.append(r)
                need -= r.skills
        if need:
            chosen = []  # the skills cannot be covered: leave the request to a human
        for r in chosen:
            load[r.id] += 1
            pairs.append(Pair(q.id, r.id))
    return pairs


def declined(problem: Problem) -> Problem:
    """The regional problem after one decline: the first solution's pairs accepted (locked)
    except one, which is excluded."""
    first = solve(problem, workers=1)
    pairs = list(first.assignments)
    refused = pairs[len(pairs) // 2]
    return replace(
        problem,
        locked=tuple(p for p in pairs if p != refused),
        excluded=(*problem.excluded, refused),
    )


def rerun(problem: Problem, time_limit: float) -> Problem:
    """The problem after one decline, to be re-solved stably: the first solution's pairs as
    ``previous``, the declined one (the middle pair) excluded."""
    first = solve(problem, time_limit=time_limit)
    pairs = list(first.assignments)
    refused = pairs[len(pairs) // 2]
    return replace(problem, excluded=(*problem.excluded, refused), previous=tuple(pairs))


class _Timings(logging.Handler):
    """Collects the timings the solver logs (they are kept out of the solution itself)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        for key in ("relaxation_seconds", "first_solution_seconds"):
            if hasattr(record, key):
                self.seen[key] = getattr(record, key)


def run_one(
    name: str, size: tuple[int, int, int], seed: int, time_limit: float, highs_cap: float
) -> dict:
    stable = name.startswith("stable")
    problem = generate(
        *size, seed=seed, scarce_skill=name.startswith("scarce"), organisations=stable
    )
    if name == "re-solve":
        problem = declined(problem)
    if stable:
        problem = rerun(problem, time_limit)
    timings = _Timings()
    logging.getLogger("peermatch.matching.solver").addHandler(timings)
    logging.getLogger("peermatch.matching.solver").setLevel(logging.INFO)
    started = time.perf_counter()
    solution = solve(problem, time_limit=time_limit)
    seconds = time.perf_counter() - started
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    errors = validate(problem, solution)
    started = time.perf_counter()
    baseline = greedy(problem)
    greedy_seconds = time.perf_counter() - started
    g_filled, g_imbalance = objective_values(problem, baseline)
    return {
        "instance": name,
        "size": size,
        "seconds": round(seconds, 3),
        "first": timings.seen.get("first_solution_seconds"),
        "status": solution.status,
        "filled": solution.filled,
        "bound_filled": solution.bound_filled,
        "imbalance": solution.imbalance,
        "bound_imbalance": solution.bound_imbalance,
        "method": solution.extra.get("method"),
        "valid": not errors,
        "greedy_seconds": round(greedy_seconds, 3),
        "greedy_filled": g_filled,
        "greedy_imbalance": g_imbalance,
        "peak_mb": peak_mb,
        "practice": solution.practice,
        "kept": solution.kept,
        "bound_kept": solution.bound_kept,
        "previous": len(problem.previous or ()),
        "highs": highs_baseline(problem, highs_cap) if highs_cap else None,
        "highs_cap": highs_cap,
    }


def report(row: dict) -> str:
    p, r, q = row["size"]
    ratio_fill = row["filled"] / max(1, row["greedy_filled"])
    return (
        f"{row['instance']:<9} {p:>4} {r:>6} {q:>5} | first {row['first']:>7.3f}s "
        f"done {row['seconds']:>7.3f}s {row['status']:<8} "
        f"fill {row['filled']}/{row['bound_filled']} "
        f"imb {row['imbalance']}/{row['bound_imbalance']} "
        + (
            f"kept {row['kept']}/{row['bound_kept']} of {row['previous']} "
            if row.get("kept") is not None
            else ""
        )
        + f"({row['method']}, "
        f"valid={row['valid']}) {row['peak_mb']} MB | greedy {row['greedy_seconds']:.3f}s "
        f"fill {row['greedy_filled']} imb {row['greedy_imbalance']} | fill ratio {ratio_fill:.3f}"
        + _highs_column(row)
    )


def _highs_column(row: dict) -> str:
    h = row.get("highs")
    if not h:
        skipped = row["instance"].startswith("scarce") and not row["highs_cap"]
        return " | HiGHS not run (national: opt in with --highs-national)" if skipped else ""
    found = f"fill {h['filled']} imb {h['imbalance']}" if "filled" in h else "no solution"
    bound = h.get("bound")
    decoded = ""
    if bound is not None and abs(bound) < 1e300:
        w = h["weight"]
        b = int(bound + 1e-6)
        fill_bound = -(-b // w)
        decoded = f" bound fill {fill_bound} imb {w * fill_bound - b}"
    return (
        f" | HiGHS (cap {row['highs_cap']:.0f}s) {h['seconds']:.3f}s {h['status']} {found}"
        f"{decoded} | x{row['seconds'] / max(h['seconds'], 1e-3):.2f} of HiGHS time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the national instance")
    parser.add_argument("--size", nargs=3, type=int, metavar=("P", "R", "Q"), action="append")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds", type=int, help="run seeds SEED..SEED+N-1 (default 1; scarce rows 20 and 3)"
    )
    parser.add_argument("--highs-cap", type=float, help="seconds for HiGHS (default 120/300)")
    parser.add_argument(
        "--highs-national", action="store_true", help="run HiGHS on the national rows too"
    )
    parser.add_argument("--only", choices=list(INSTANCES), action="append", help="these only")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: NAME P R Q as JSON
    args = parser.parse_args()
    if args.one:
        name, size = json.loads(args.one)
        cap = args.highs_cap or HIGHS_CAP.get(name, 0.0)
        if name not in HIGHS_BY_DEFAULT and not args.highs_national:
            cap = 0.0
        print(json.dumps(run_one(name, tuple(size), args.seed, args.time_limit, cap)))
        return
    plan = [(f"custom{i}", tuple(s)) for i, s in enumerate(args.size or [])] or [
        (n, s)
        for n, s in INSTANCES.items()
        if not (args.quick and n in NATIONAL) and (not args.only or n in args.only)
    ]
    start = time.perf_counter()
    generate(150, 10_000, 1_000, seed=0)
    print(f"generator: national instance in {time.perf_counter() - start:.2f}s (target < 5 s)")
    print("instance     P      R     Q | solver ... | greedy baseline | HiGHS baseline")
    for name, size in plan:
        seeds = _seeds(args, name)
        rows = [_child(name, size, seed, args.time_limit, args) for seed in seeds]
        if len(rows) > 1:
            optimal = sum(r["status"] == "optimal" for r in rows)
            slowest = max(r["seconds"] for r in rows)
            median = sorted(r["seconds"] for r in rows)[len(rows) // 2]
            print(
                f"{name}: {optimal}/{len(rows)} optimal, median {median:.3f}s, max {slowest:.3f}s"
                + _highs_summary(rows)
            )


def _highs_summary(rows: list[dict]) -> str:
    highs = [r["highs"] for r in rows if r.get("highs")]
    if not highs:
        return ""
    optimal = sum(h["status"] == "Optimal" for h in highs)
    slower = sum(r["seconds"] > r["highs"]["seconds"] for r in rows if r.get("highs"))
    return (
        f"; HiGHS {optimal}/{len(highs)} optimal, max {max(h['seconds'] for h in highs):.3f}s; "
        f"solver slower than HiGHS on {slower}"
    )


def _seeds(args: argparse.Namespace, name: str) -> range:
    return range(args.seed, args.seed + (args.seeds or SCARCE_SEEDS.get(name, 1)))


def _child(
    name: str, size: tuple[int, int, int], seed: int, time_limit: float, args: argparse.Namespace
) -> dict:
    child = [sys.executable, __file__, "--seed", str(seed), "--time-limit", str(time_limit)]
    if args.highs_cap:
        child += ["--highs-cap", str(args.highs_cap)]
    if args.highs_national:
        child += ["--highs-national"]
    child += ["--one", json.dumps([name, size])]
    out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    print(f"seed {seed:<3} " + report(row), flush=True)
    return row


if __name__ == "__main__":
    main()

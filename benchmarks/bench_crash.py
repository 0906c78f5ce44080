"""Crash safety, idempotency and deterministic training, measured on a small demo.

    .venv/bin/python benchmarks/bench_crash.py                      # everything (~30 min)
    .venv/bin/python benchmarks/bench_crash.py --stages train,score --trainings 0

1. A clean `journey run` on the demo (1,500 people, 150 days by default): the yardstick, with
   the checksum of every table (orchestration.checksums: count(*) and sum(hash(row)), the
   columns it excludes listed there).
2. Idempotency: in the same data directory, the whole main job again, then `journey ingest`
   and `journey transform` over a range of days in the middle; each compared with the clean
   run table by table, and the score rows compared column by column.
3. The kill -9 matrix: for each stage a fresh copy of the landing files, `journey run`
   SIGKILLed (whole process group) at that stage (tests/crash_harness.py says at which
   moment), then `journey run` again: did it recover (one line), close the MLflow runs left
   RUNNING, finish, and equal the clean run?
4. Training spread: N trainings of each model on the clean run's training rows, each read in
   another row order (as dbt stores them after another build), with the trainer's canonical
   row order off (before) and on (after).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.crash_harness

import duckdb  # noqa: E402

from orchestration.checksums import EXCLUDED_COLUMNS, differences, warehouse_checksums  # noqa: E402
from tests.crash_harness import (  # noqa: E402
    RECOVERED,
    STAGES,
    clean_baseline,
    copy_landing,
    demo_env,
    journey_ok,
    mlflow_runs,
    start_and_kill,
)

SCORE_KEY = ["customer_id", "score_date"]


def score_rows_equal(expected_path: str, actual_path: str) -> tuple[int, int]:
    """(rows equal on every compared column, rows in the clean run) of marts.customer_scores."""
    excluded = {k.rsplit(".", 1)[1] for k in EXCLUDED_COLUMNS if "customer_scores" in k}
    with duckdb.connect() as con:
        con.execute(f"attach '{expected_path}' as a (read_only)")
        con.execute(f"attach '{actual_path}' as b (read_only)")
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_catalog = 'a'"
                " and table_schema = 'marts' and table_name = 'customer_scores'"
                " order by ordinal_position"
            ).fetchall()
            if c not in excluded
        ]
        listed = ", ".join(columns)
        (equal,) = con.execute(
            f"select count(*) from (select {listed} from a.marts.customer_scores"
            f" intersect all select {listed} from b.marts.customer_scores)"
        ).fetchone()
        (total,) = con.execute("select count(*) from a.marts.customer_scores").fetchone()
    return int(equal), int(total)


def idempotency(baseline, middle: tuple[str, str]) -> list[tuple[str, int, int, str, float]]:
    rows = []
    env = baseline.env
    _, seconds = journey_ok(env, "run", "--skip-generate")
    rows.append(("journey run, again", *_compare(baseline, env), seconds))
    first, last = middle
    started = time.monotonic()
    journey_ok(env, "ingest", "--from", first, "--to", last)
    journey_ok(env, "transform", "--from", first, "--to", last)
    seconds = time.monotonic() - started
    rows.append((f"ingest + transform {first}..{last}", *_compare(baseline, env), seconds))
    return rows


def _compare(baseline, env) -> tuple[int, int, str]:
    actual = warehouse_checksums(env["JOURNEY_WAREHOUSE"])
    diff = differences(baseline.checksums, actual)
    equal, total = score_rows_equal(
        baseline.env["JOURNEY_WAREHOUSE"] + ".clean", env["JOURNEY_WAREHOUSE"]
    )
    for line in diff:
        print(f"    differs: {line}")
    return len(baseline.checksums), len(baseline.checksums) - len(diff), f"{equal}/{total}"


def kill_matrix(baseline, root: Path, stages: list[str]) -> list[tuple]:
    rows = []
    for stage in stages:
        env = demo_env(root / f"kill_{stage}")
        copy_landing(baseline, env)
        _, kill = start_and_kill(env, stage)
        output, seconds = journey_ok(env, "run", "--skip-generate")
        recovered = [line.strip() for line in output.splitlines() if RECOVERED in line]
        killed_mlflow = mlflow_runs(env, "KILLED")
        left_running = mlflow_runs(env, "RUNNING")
        actual = warehouse_checksums(env["JOURNEY_WAREHOUSE"])
        diff = differences(baseline.checksums, actual)
        for line in diff:
            print(f"    {stage} differs: {line}")
        rows.append(
            (
                stage,
                f"{kill.seconds_in:.0f}",
                kill.outcome,
                kill.reopened_tables,
                "yes" if recovered else "NO",
                f"{killed_mlflow} KILLED, {left_running} RUNNING",
                f"{seconds:.0f}",
                f"{len(actual) - len(diff)}/{len(baseline.checksums)}",
            )
        )
        for line in recovered:
            print(f"    {stage}: {line}")
    return rows


def training_spread(baseline, trainings: int) -> list[tuple]:
    import ml.train
    from ml.features import canonical_order
    from ml.train import train_classifier
    from orchestration.ml.assets import read_training_frame
    from orchestration.ml.specs import ID_COLUMNS, MODEL_SPECS, TIME_COLUMN

    rows = []
    with duckdb.connect(baseline.env["JOURNEY_WAREHOUSE"] + ".clean", read_only=True) as con:
        frames = {spec.model_name: read_training_frame(con, spec)[0] for spec in MODEL_SPECS}
    for spec in MODEL_SPECS:
        frame = frames[spec.model_name]
        for when, order in (("before", lambda f, keys=(): f), ("after", canonical_order)):
            ml.train.canonical_order = order
            aucs = []
            for seed in range(trainings):
                shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
                result = train_classifier(
                    shuffled,
                    spec.label,
                    time_column=TIME_COLUMN,
                    id_columns=ID_COLUMNS,
                    exclude_columns=spec.excluded_columns,
                    label_end_column=spec.label_end_column,
                )
                aucs.append(result.metrics["roc_auc"])
            ml.train.canonical_order = canonical_order
            rows.append(
                (
                    spec.model_name,
                    when,
                    trainings,
                    f"{min(aucs):.4f}",
                    f"{max(aucs):.4f}",
                    len({round(a, 12) for a in aucs}),
                )
            )
    return rows


def table(headers: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        print("  " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--stages", default=",".join(STAGES), help="kill points (all)")
    parser.add_argument("--trainings", type=int, default=3, help="trainings per model (3)")
    parser.add_argument("--no-idempotency", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_crash_") as tmp:
        root = Path(tmp)
        baseline = clean_baseline(root / "clean", args.people, args.days, args.seed)
        clean_copy = baseline.env["JOURNEY_WAREHOUSE"] + ".clean"
        # The clean warehouse as it was: the idempotency re-runs write the original.
        for suffix in ("", ".wal"):
            if Path(baseline.env["JOURNEY_WAREHOUSE"] + suffix).exists():
                shutil.copy(baseline.env["JOURNEY_WAREHOUSE"] + suffix, clean_copy + suffix)
        with duckdb.connect(clean_copy, read_only=True) as con:
            (days,) = con.execute(
                "select count(distinct _partition_date) from raw.web_events"
            ).fetchone()
        print(
            f"clean run: demo {args.people} people, {args.days} days (seed {args.seed}); "
            f"{len(baseline.checksums)} tables; journey run {baseline.seconds:.0f} s"
        )
        if not args.no_idempotency:
            from datetime import date, timedelta

            start = date(2026, 1, 1) + timedelta(days=days // 2)
            middle = (start.isoformat(), (start + timedelta(days=6)).isoformat())
            print("\nIdempotency (compared with the clean run)")
            table(
                ("re-run", "tables", "tables equal", "score rows equal", "seconds"),
                [(*r[:4], f"{r[4]:.0f}") for r in idempotency(baseline, middle)],
            )
        stages = [s for s in args.stages.split(",") if s]
        if stages:
            print("\nkill -9 matrix (each: fresh landing copy, journey run killed, journey run)")
            table(
                (
                    "stage",
                    "killed at s",
                    "state at kill",
                    "tables after reopen",
                    "recovered",
                    "MLflow runs",
                    "rerun s",
                    "tables equal clean",
                ),
                kill_matrix(baseline, root, stages),
            )
        if args.trainings:
            print("\nTraining on identical rows in shuffled order")
            table(
                ("model", "canonical order", "trainings", "min AUC", "max AUC", "distinct AUCs"),
                training_spread(baseline, args.trainings),
            )


if __name__ == "__main__":
    main()

"""Holdout uplift against a known treatment effect: the loop from scores to actions to outcomes,
closed on the demo.

    .venv/bin/python -m benchmarks.report_uplift --root /tmp/report_uplift \
        --people 5000 --days 150 --seed 7 --share 0.5

The generator cannot know our actions ahead of time, so the demo is built twice:
1. generate `--days` days; move the landing files after day T = days - 32 aside; `journey run`
   on days 1..T with JOURNEY_HOLDOUT_SHARE=--share: models trained, day T scored, each
   customer's intended action recorded with its holdout flag in marts.customer_scores;
2. map each scored customer to the generator's person (resolved identifiers against the
   ground truth, as benchmarks/model_ceiling.py) and write treatments.csv (person_id, day,
   action, hazard, treated): churn-population actions act on the churn hazard, lead actions on
   the purchase hazard;
3. generate the same demo again WITH the treatments (from T + 1 a treated customer's daily churn
   hazard x 0.6, a treated lead's purchase hazard x 1.5: simulation.TREATMENT_FACTORS; no random
   draw is added, so everyone else's records are identical) into the same landing folder and
   `journey run` on all days: the warehouse still holds day T's scores, dbt builds
   marts.agg_action_uplift from them, the outcome windows of day T are complete.

Per action the table shows the warehouse's estimate (treated - holdout rate, 95 % Wald
interval) against two truths from the generator's ground truth (people.csv):
- true effect: the treated customers' outcome in the treated demo minus the SAME people's
  outcome in the untreated demo (the generator's own counterfactual: same random numbers, only
  the hazard factor differs), i.e. the effect on the treated in this sample;
- oracle difference: treated - holdout outcome rate from the ground truth of the treated demo
  (what the estimate would be with perfect measurement; it differs from the true effect by
  the holdout's sampling noise only).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.model_ceiling import customer_person_map
from ml.actions import NON_ACTIONS
from orchestration.demo import generate
from orchestration.demo.simulation import CHURN_HAZARD, PURCHASE_HAZARD, TREATMENT_FACTORS
from orchestration.settings import path_environment

CHURN_DAYS, PURCHASE_DAYS = 30, 14  # dbt vars churn_label_days / purchase_label_days
START = date(2026, 1, 1)


def journey_run(env: dict[str, str], label: str) -> None:
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("journey")), "run", "--skip-generate"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{label}: {' '.join(command)} failed:\n{result.stdout[-4000:]}")
    print(f"{label}: journey run {time.perf_counter() - started:.0f} s", flush=True)


def move_later_days(landing: Path, aside: Path, last: date) -> int:
    """Move every landing file dated after `last` to `aside` (same sub-folders)."""
    moved = 0
    for path in sorted(landing.glob("*/*")):
        if path.is_file() and date.fromisoformat(path.name.split(".")[0]) > last:
            target = aside / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


def scored_people(warehouse: Path, truth: Path, day: date) -> pd.DataFrame:
    """Day's scores with the generator person of each customer (unmatched customers dropped)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customer_person_map(con, str(truth))
        return con.execute(
            """
            select s.customer_id, p.person_id, s.intended_action, s.is_holdout,
                   s.churn_probability is not null as is_churn_population
            from marts.customer_scores s
            inner join customer_person p using (customer_id)
            where s.score_date = ?
            """,
            [day],
        ).df()


def write_treatments(scores: pd.DataFrame, day: date, path: Path) -> pd.DataFrame:
    acting = scores[~scores["intended_action"].isin(NON_ACTIONS)].copy()
    acting["hazard"] = acting["is_churn_population"].map(
        {True: CHURN_HAZARD, False: PURCHASE_HAZARD}
    )
    acting["treated"] = ~acting["is_holdout"].astype(bool)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["person_id", "day", "action", "hazard", "treated"])
        for row in acting.itertuples(index=False):
            writer.writerow([row.person_id, day, row.intended_action, row.hazard, row.treated])
    return acting


def _moment(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def true_outcomes(truth: Path, day: date) -> dict[str, tuple[bool, bool]]:
    """person_id -> (retained 30 d, purchased 14 d) after the end of `day`, from people.csv,
    with the warehouse's windows: from the cutoff (the next day 00:00 UTC)."""
    cutoff = datetime(day.year, day.month, day.day) + timedelta(days=1)
    out = {}
    with (truth / "people.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            churned = _moment(row["churned_at"])
            bought = _moment(row["became_customer_at"])
            churned = churned.replace(tzinfo=None) if churned else None
            bought = bought.replace(tzinfo=None) if bought else None
            retained = churned is None or churned >= cutoff + timedelta(days=CHURN_DAYS)
            purchased = bought is not None and bought < cutoff + timedelta(days=PURCHASE_DAYS)
            out[row["person_id"]] = (retained, purchased)
    return out


def report(
    warehouse: Path, treatments: Path, truth: Path, base_truth: Path, score_day: date
) -> pd.DataFrame:
    """Per action: the warehouse's estimate for the month of `score_day` against the truth."""
    acting = pd.read_csv(treatments)
    acting["is_holdout"] = ~acting["treated"].astype(bool)
    acting["is_churn_population"] = acting["hazard"] == CHURN_HAZARD
    acting = acting.rename(columns={"action": "intended_action"})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        estimates = con.execute(
            "select * from marts.agg_action_uplift where score_month = ?",
            [score_day.replace(day=1)],
        ).df()
        (known,) = con.execute(
            "select count(*) from marts.customer_scores s "
            "inner join marts.dim_customers d using (customer_id) where s.score_date = ?",
            [score_day],
        ).fetchone()
        (scored,) = con.execute(
            "select count(*) from marts.customer_scores where score_date = ?", [score_day]
        ).fetchone()
    print(f"   day T's scored customers still in dim_customers after the rebuild: {known}/{scored}")
    treated_world, untreated_world = (
        true_outcomes(truth, score_day),
        true_outcomes(base_truth, score_day),
    )
    rows = []
    for action, group in acting.groupby("intended_action"):
        churn = bool(group["is_churn_population"].iloc[0])
        k = 0 if churn else 1
        treated = group[~group["is_holdout"].astype(bool)]["person_id"]
        held = group[group["is_holdout"].astype(bool)]["person_id"]
        if treated.empty:
            continue
        effect = sum(treated_world[p][k] - untreated_world[p][k] for p in treated) / len(treated)
        oracle = (
            sum(treated_world[p][k] for p in treated) / len(treated)
            - sum(treated_world[p][k] for p in held) / len(held)
            if len(held)
            else float("nan")
        )
        est = estimates[estimates["intended_action"] == action]
        e = est.iloc[0] if len(est) else None
        rows.append(
            {
                "action": action,
                "outcome": "retained_30d" if churn else "purchased_14d",
                "treated": len(treated),
                "holdout": len(held),
                # The mart's own counts (customers re-keyed by the rebuild are left out there).
                "mart_n": None
                if e is None
                else f"{int(e['treated_known'])}/{int(e['holdout_known'])}",
                "estimated": None if e is None else e["uplift"],
                "ci_95": None
                if e is None
                else f"[{e['uplift_ci_lower']:+.3f}, {e['uplift_ci_upper']:+.3f}]",
                "treated_rate": None if e is None else e["treated_rate"],
                "holdout_rate": None if e is None else e["holdout_rate"],
                "oracle_diff": oracle,
                "true_effect": effect,
                "complete": None if e is None else e["outcome_complete_share"],
            }
        )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.float_format", "{:+.3f}".format):
        print(f"\n4. uplift for {score_day:%Y-%m} (day T {score_day}) vs the known effect")
        print(table.to_string(index=False))
    return table


def build(args: argparse.Namespace, env: dict[str, str], demo: dict, score_day: date) -> None:
    """Steps 1-3: untreated demo to T, scores, treatments, treated demo on all days."""
    landing, truth = Path(env["JOURNEY_LANDING_DIR"]), Path(env["JOURNEY_GROUND_TRUTH_DIR"])
    base_truth, warehouse = args.root / "ground_truth_untreated", Path(env["JOURNEY_WAREHOUSE"])
    generate(landing, base_truth, **demo)
    moved = move_later_days(landing, args.root / "later", score_day)
    print(f"1. demo without treatments; {moved} landing files after T = {score_day} moved aside")
    journey_run(env, f"1. days {START}..{score_day}")
    scores = scored_people(warehouse, base_truth, score_day)
    acting = write_treatments(scores, score_day, args.root / "treatments.csv")
    print(
        f"2. day T scored: {len(scores):,} customers matched to people, {len(acting):,} with an "
        f"action, {int(acting['is_holdout'].sum()):,} held out (share {args.share})"
    )
    shutil.rmtree(args.root / "later")
    generate(landing, truth, **demo, treatments=args.root / "treatments.csv")
    journey_run(env, f"3. all days with treatments {TREATMENT_FACTORS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_uplift"))
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--share", type=float, default=0.5, help="holdout share for day T")
    parser.add_argument(
        "--report-only", action="store_true", help="only step 4, on an existing --root"
    )
    args = parser.parse_args()
    data = args.root / "data"
    if data.exists() and not args.report_only:
        shutil.rmtree(data)
    env = {
        **os.environ,
        **path_environment(data),
        "JOURNEY_AUC_FLOOR": "0.6",
        "JOURNEY_HOLDOUT_SHARE": str(args.share),
        # The demo's population ages between the training window's last snapshot and some
        # days (docs/models.md "Drift gate"); this report is about the actions, not the gate.
        "JOURNEY_DRIFT_BLOCK": "false",
    }
    truth, warehouse = Path(env["JOURNEY_GROUND_TRUTH_DIR"]), Path(env["JOURNEY_WAREHOUSE"])
    base_truth = args.root / "ground_truth_untreated"
    score_day = START + timedelta(days=args.days - CHURN_DAYS - 2)
    demo = {"people": args.people, "days": args.days, "seed": args.seed, "start": START}
    if not args.report_only:
        build(args, env, demo, score_day)
    report(warehouse, args.root / "treatments.csv", truth, base_truth, score_day)


if __name__ == "__main__":
    main()

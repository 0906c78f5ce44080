"""An opt-out that arrives mid-history stops marketing to that person (issue 12, item 4).

Through the `journey` command line on real demo exports: the pipeline first runs on the days
before the opt-out (ingest, transform, train, score), where a person with marketing consent is
proposed a marketing action. Then the privacy export of the next day carries that person's
`opt_out` (their email in another case and spacing, as an export would), and `journey refresh`
ingests it together with the later days. From then on the person's consent is false in
`dim_customers` and no score row of theirs proposes an action that needs consent.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ml.actions import ACTION_RULES
from orchestration.demo import generate
from tests.conftest import _demo_env, run_journey

pytestmark = pytest.mark.e2e

PEOPLE, DAYS, SEED = 1500, 150, 11  # the session demo's size: enough labels to train
START = date(2026, 1, 1)
OPT_OUT_DAY = START + timedelta(days=135)  # mid-history: 14 more days follow it
LAST_DAY = START + timedelta(days=DAYS - 1)
# Actions that contact a person for marketing: the rules that need consent (ml/actions.py).
MARKETING_ACTIONS = tuple(sorted(r.action for r in ACTION_RULES if r.needs_consent is True))


def _rows(env: dict[str, str], sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(env["JOURNEY_WAREHOUSE"], read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _hold_back_days_from(landing: Path, first: date, holding: Path) -> int:
    """Move the export files of `first` and later out of the landing dir (not delivered yet)."""
    moved = 0
    for path in sorted(landing.glob("*/*.*")):
        if date.fromisoformat(path.stem) >= first:
            target = holding / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


def _deliver(holding: Path, landing: Path) -> None:
    for path in sorted(holding.glob("*/*.*")):
        target = landing / path.relative_to(holding)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)


def _append_opt_out(landing: Path, day: date, email: str) -> None:
    """Add an opt_out line to the day's privacy export (created with its header if absent)."""
    path = landing / "privacy_requests" / f"{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        if new:
            writer.writerow(["request_id", "email", "request_type", "requested_at"])
        # Another case and stray spaces: the request must still find the person.
        writer.writerow(
            ["pr_test_opt_out", f"  {email.upper()} ", "opt_out", f"{day}T09:30:00+00:00"]
        )


def _marketing_candidate(env: dict[str, str], day: date) -> tuple[str, str, str]:
    """A consenting person proposed a marketing action on `day`: (customer_id, email, action)."""
    marketing = ", ".join(f"'{a}'" for a in MARKETING_ACTIONS)
    rows = _rows(
        env,
        f"""
        select scores.customer_id, min(ids.identifier), min(scores.next_best_action)
        from marts.customer_scores as scores
        inner join marts.dim_customers as customers using (customer_id)
        inner join intermediate.int_customer_identifiers as ids
            on ids.customer_id = scores.customer_id and ids.identifier_type = 'email'
        where scores.score_date = ? and customers.marketing_consent
          and not customers.is_erased
          and scores.next_best_action in ({marketing})
        group by scores.customer_id
        order by scores.customer_id
        limit 1
        """,
        day,
    )
    assert rows, f"nobody with consent was proposed one of {MARKETING_ACTIONS} on {day}"
    return rows[0]


def test_opt_out_mid_history_stops_marketing_actions(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    # Model quality is not under test here: fewer days give fewer churn labels, and the champion
    # only has to exist so that the refresh scores.
    env["JOURNEY_AUC_FLOOR"] = "0.0"
    # Nor is drift: the refresh scores two weeks past the champion's training day without a
    # retrain, so the age-like features have moved on (the gate has its own tests).
    env["JOURNEY_DRIFT_BLOCK"] = "false"
    landing = Path(env["JOURNEY_LANDING_DIR"])
    # The demo `journey run` would generate, written first so that later days can be held back.
    generate(
        landing, env["JOURNEY_GROUND_TRUTH_DIR"], people=PEOPLE, days=DAYS, seed=SEED, start=START
    )
    holding = tmp_path / "not_delivered_yet"
    assert _hold_back_days_from(landing, OPT_OUT_DAY, holding) > 0

    # Before: the pipeline up to the day before the opt-out.
    run_journey(env, "run", "--skip-generate")
    before_day = OPT_OUT_DAY - timedelta(days=1)
    customer_id, email, action = _marketing_candidate(env, before_day)
    assert action in MARKETING_ACTIONS

    # The opt-out arrives with the next day's exports; the refresh ingests it and the rest.
    _deliver(holding, landing)
    _append_opt_out(landing, OPT_OUT_DAY, email)
    run_journey(env, "refresh", "--from", str(OPT_OUT_DAY), "--to", str(LAST_DAY))

    assert _rows(
        env, "select count(*) from raw.privacy_requests where request_id = ?", "pr_test_opt_out"
    ) == [(1,)]
    [(now_id,)] = _rows(
        env,
        "select customer_id from intermediate.int_customer_identifiers "
        "where identifier_type = 'email' and identifier = ?",
        email,
    )
    assert now_id == customer_id  # the same person, before and after
    assert _rows(
        env, "select marketing_consent from marts.dim_customers where customer_id = ?", customer_id
    ) == [(False,)]
    after = _rows(
        env,
        "select score_date, next_best_action from marts.customer_scores "
        "where customer_id = ? and score_date >= ? order by score_date",
        customer_id,
        OPT_OUT_DAY,
    )
    assert after, "the person is still scored after the opt-out"
    assert not [row for row in after if row[1] in MARKETING_ACTIONS], after
    # Nobody without consent is proposed a marketing action on any day scored by the refresh.
    marketing = ", ".join(f"'{a}'" for a in MARKETING_ACTIONS)
    assert _rows(
        env,
        f"""
        select count(*) from marts.customer_scores as scores
        inner join marts.dim_customers as customers using (customer_id)
        where scores.score_date >= ? and not customers.marketing_consent
          and scores.next_best_action in ({marketing})
        """,
        OPT_OUT_DAY,
    ) == [(0,)]

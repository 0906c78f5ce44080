"""Support sentiment (issue 10 §1): the VADER scorer, the scores ingestion writes beside the
tickets, the demo's ticket tone and its truth, `marts.fct_support_tickets` against raw, and
the point-in-time sentiment features (dbt unit test, run here with the models' data tests).
"""

from __future__ import annotations

import csv
import socket
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from sklearn.metrics import roc_auc_score

from ml import sentiment
from orchestration.demo.generator import generate
from orchestration.ingest.assets import build_ingestion_asset, derived_raw_specs, raw_asset_key
from orchestration.ingest.loaders import load_partitions
from orchestration.ingest.sentiment import SENTIMENT_TABLE
from orchestration.privacy import erasure
from orchestration.privacy.pseudonyms import keyed_hash
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.settings import Settings
from tests.conftest import DemoPipeline, WriteLanding, dbt_test_on_demo

HEADER = (
    "ticket_id,requester_email,created_at,updated_at,solved_at,channel,priority,status,"
    "satisfaction,subject,description\n"
)


# --- ml.sentiment ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Terrible experience, still broken and I am frustrated. We will cancel.", "negative"),
        ("Thanks a lot, we love the product, great support!", "positive"),
        ("How do we add five seats to the account?", "neutral"),
        ("", "neutral"),
    ],
)
def test_clear_sentences_get_the_expected_label(text: str, label: str) -> None:
    result = sentiment.score_text(text)
    assert result.label == label
    assert -1.0 <= result.score <= 1.0
    assert (result.score < 0) == (label == "negative")


def test_labels_use_vaders_standard_thresholds() -> None:
    assert sentiment.label_for(0.05) == "positive"
    assert sentiment.label_for(0.0499) == "neutral"
    assert sentiment.label_for(-0.0499) == "neutral"
    assert sentiment.label_for(-0.05) == "negative"


def test_ticket_text_hash_and_batch_scoring() -> None:
    assert sentiment.ticket_text(" Export broken ", "It is still broken.") == (
        "Export broken\nIt is still broken."
    )
    assert sentiment.ticket_text(None, "  ") == ""
    text = sentiment.ticket_text("Export broken", None)
    assert sentiment.text_hash(text) == sentiment.text_hash("Export broken")
    assert len(sentiment.text_hash(text)) == 32
    texts = ["This is awful.", "This is great.", "This is awful."]
    scores = sentiment.score_texts(texts)
    assert [s.label for s in scores] == ["negative", "positive", "negative"]
    assert scores[0] == scores[2] == sentiment.score_text("This is awful.")


def test_scoring_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    # The lexicon ships in the wheel: a fresh analyzer loads and scores with sockets refused.
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    sentiment._analyzer.cache_clear()
    try:
        assert sentiment.score_text("Really frustrating, still broken.").label == "negative"
    finally:
        sentiment._analyzer.cache_clear()
    assert sentiment.scorer_version().startswith("vaderSentiment==")


# --- ingestion -------------------------------------------------------------------------------


def _tickets(*rows: str) -> str:
    return HEADER + "".join(row + "\n" for row in rows)


def test_ingestion_scores_each_ticket_version_and_a_rerun_does_not_duplicate(
    journey_env: Settings,
    write_landing: WriteLanding,
    warehouse_con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
) -> None:
    day1, day2 = date(2026, 1, 5), date(2026, 1, 6)
    angry = "T1,a@example.com,2026-01-05T09:00:00Z,{u},,email,high,{s},,Still broken,"
    angry += "Terrible. Export is still broken and we are frustrated."
    write_landing(
        "support_tickets",
        day1,
        _tickets(
            angry.format(u="2026-01-05T09:00:00Z", s="new"),
            angry.format(u="2026-01-05T09:00:00Z", s="new"),  # an exact re-delivery
            "T2,b@example.com,2026-01-05T10:00:00Z,2026-01-05T10:00:00Z,,chat,low,new,,"
            "Question,Thanks a lot! Great product.",
        ),
    )
    write_landing(
        "support_tickets",
        day2,
        _tickets(angry.format(u="2026-01-06T08:00:00Z", s="solved")),
    )
    days = [day1, day2]
    loaded = load_partitions(warehouse_con, "support_tickets", days, landing_dir)
    assert loaded.sentiment is not None and loaded.sentiment.rows_scored == 3

    def rows() -> list[tuple]:
        return warehouse_con.execute(
            f"select ticket_id, _partition_date, sentiment_label, scorer_version "
            f"from {SENTIMENT_TABLE} order by all"
        ).fetchall()

    first = rows()
    version = sentiment.scorer_version()
    assert first == [
        ("T1", day1, "negative", version),
        ("T1", day2, "negative", version),
        ("T2", day1, "positive", version),
    ]
    columns = {r[0] for r in warehouse_con.execute(f"describe {SENTIMENT_TABLE}").fetchall()}
    assert not {"subject", "description", "requester_email"} & columns  # no text, no email

    # Re-running a day (and the whole range) replaces its scores: nothing duplicates.
    load_partitions(warehouse_con, "support_tickets", [day2], landing_dir)
    load_partitions(warehouse_con, "support_tickets", days, landing_dir)
    assert rows() == first

    # A day delivered again without a ticket loses that ticket's score.
    write_landing("support_tickets", day1, _tickets())
    load_partitions(warehouse_con, "support_tickets", [day1], landing_dir)
    assert rows() == [("T1", day2, "negative", version)]


def test_the_tickets_asset_records_the_sentiment_table_with_its_counts(
    journey_env: Settings, write_landing: WriteLanding, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEY_START_DATE", "2026-01-01")
    write_landing(
        "support_tickets",
        "2026-01-05",
        _tickets(
            "T1,a@example.com,2026-01-05T09:00:00Z,2026-01-05T09:00:00Z,,email,high,new,,"
            "Broken,Terrible. Still broken.",
        ),
    )
    result = dg.materialize(
        [build_ingestion_asset("support_tickets"), *derived_raw_specs()],
        selection=[raw_asset_key("support_tickets")],
        resources={
            "warehouse": WarehouseResource(path=str(journey_env.warehouse_path)),
            "landing": LandingResource(root=str(journey_env.landing_dir)),
        },
        partition_key="2026-01-01",
    )
    assert result.success
    found = {
        e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization
        for e in result.get_asset_materialization_events()
    }
    scores = found[raw_asset_key("support_ticket_sentiment")]
    assert scores.metadata["sentiment_rows_scored"].value == 1
    assert scores.metadata["sentiment_labels"].value == "negative 1, neutral 0, positive 0"
    tickets = found[raw_asset_key("support_tickets")]
    assert tickets.metadata["sentiment_rows_scored"].value == 1


def test_erasure_removes_the_erased_persons_ticket_scores(
    journey_env: Settings,
    write_landing: WriteLanding,
    warehouse_con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
) -> None:
    # The score rows hold only a ticket id: erasure finds them through the person's tickets.
    day = date(2026, 1, 5)
    write_landing(
        "support_tickets",
        day,
        _tickets(
            "T1,a@example.com,2026-01-05T09:00:00Z,2026-01-05T09:00:00Z,,email,high,new,,"
            "Broken,Terrible.",
            "T2,b@example.com,2026-01-05T10:00:00Z,2026-01-05T10:00:00Z,,chat,low,new,,"
            "Question,Thanks!",
        ),
    )
    load_partitions(warehouse_con, "support_tickets", [day], landing_dir)
    erasure.ensure_privacy_tables(warehouse_con)
    key = "test-hash-key"
    warehouse_con.execute(
        f"insert into {erasure.TOMBSTONE} values ('email', ?, 'r1', now())",
        [keyed_hash(key, "email:a@example.com")],
    )
    result = erasure.erase(warehouse_con, key, ["r1"], None)
    assert result.rows["r1"][SENTIMENT_TABLE] == 1
    assert result.rows["r1"]["raw.support_tickets"] == 1
    left = warehouse_con.execute(f"select ticket_id from {SENTIMENT_TABLE}").fetchall()
    assert left == [("T2",)]


# --- the demo generator ----------------------------------------------------------------------


def test_demo_ticket_tone_follows_the_true_outcome(tmp_path: Path) -> None:
    generate(tmp_path / "landing", tmp_path / "truth", people=1200, days=120, seed=3)
    with (tmp_path / "truth" / "ticket_tone.csv").open(encoding="utf-8") as f:
        truth = {row["ticket_id"]: row for row in csv.DictReader(f)}
    texts: dict[str, str] = {}
    for path in sorted((tmp_path / "landing" / "support_tickets").glob("*.csv")):
        with path.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                texts[row["ticket_id"]] = sentiment.ticket_text(row["subject"], row["description"])
    assert len(truth) >= 200 and set(texts) <= set(truth)
    # The rating, when given, is the true outcome.
    for row in truth.values():
        if row["satisfaction"]:
            assert (row["satisfaction"] == "bad") == (row["bad_outcome"] == "true")
    ids = sorted(texts)
    bad = [truth[i]["bad_outcome"] == "true" for i in ids]
    scores = [s.score for s in sentiment.score_texts(texts[i] for i in ids)]
    auc = roc_auc_score(bad, [-s for s in scores])
    # Tone follows the outcome, with noise: clearly informative, far from perfect.
    assert 0.6 <= auc <= 0.9, auc
    tones = {row["written_tone"] for row in truth.values()}
    assert tones == {"negative", "neutral", "positive"}


# --- marts on the small demo of `journey run` -----------------------------------------------


def test_fct_support_tickets_has_the_columns_and_agrees_with_raw(
    demo_pipeline: DemoPipeline,
) -> None:
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        columns = [r[0] for r in con.execute("describe marts.fct_support_tickets").fetchall()]
        assert columns == [
            "ticket_id",
            "customer_id",
            "created_at",
            "solved_at",
            "channel",
            "priority",
            "status",
            "satisfaction",
            "sentiment_score",
            "sentiment_label",
        ]
        counts = con.execute(
            """
            select
                (select count(*) from marts.fct_support_tickets),
                (select count(distinct ticket_id) from staging.stg_support__tickets),
                (select count(*) from marts.fct_support_tickets where sentiment_score is null),
                (select count(*) from marts.fct_support_tickets where customer_id is null)
            """
        ).fetchone()
        assert counts[0] == counts[1] > 100
        assert counts[2] == 0  # every ticket is scored at ingestion
        assert counts[3] < 0.05 * counts[0]
        # The mart's score is the raw score of the ticket's latest version, and that score is
        # the scorer's on the version's text.
        mismatches = con.execute(
            f"""
            with latest as (
                select trim(ticket_id) as ticket_id, subject, description, updated_at
                from raw.support_tickets
                qualify row_number() over (
                    partition by trim(ticket_id)
                    order by updated_at desc nulls last, _partition_date desc, _line_number desc
                ) = 1
            )
            select f.ticket_id, f.sentiment_score, latest.subject, latest.description
            from marts.fct_support_tickets as f
            join latest using (ticket_id)
            where not exists (
                select 1 from {SENTIMENT_TABLE} as s
                where s.ticket_id = f.ticket_id and s.sentiment_score = f.sentiment_score
                  and s.updated_at = latest.updated_at
            )
            """
        ).fetchall()
        assert mismatches == []
        sample = con.execute(
            """
            select f.sentiment_score, t.subject, t.description
            from marts.fct_support_tickets as f
            join staging.stg_support__tickets as t using (ticket_id)
            order by f.ticket_id limit 50
            """
        ).fetchall()
    for score, subject, description in sample:
        assert sentiment.score_text(sentiment.ticket_text(subject, description)).score == score


def test_sentiment_dbt_data_and_unit_tests_pass(
    demo_pipeline: DemoPipeline, tmp_path: Path
) -> None:
    done = dbt_test_on_demo(
        demo_pipeline,
        tmp_path,
        "stg_support__ticket_sentiment",
        "fct_support_tickets",
        "test_customer_features_ticket_sentiment_is_point_in_time",
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "test_customer_features_ticket_sentiment_is_point_in_time" in done.stdout

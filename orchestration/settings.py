"""Paths and settings, read from the environment with defaults under ./data.

Every path is resolved at call time (never at import time) so that tests can point the
whole project at a temporary directory by setting environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# The sources the demo generator writes and the ingestion assets load, with their file type.
SOURCES: dict[str, str] = {
    "web_events": "jsonl",
    "crm_contacts": "csv",
    "email_events": "csv",
    "support_tickets": "csv",
    "orders": "csv",
    "subscriptions": "csv",
    "privacy_requests": "csv",
    # Snowplow `atomic.events` exports (tab-separated, header row); the demo does not write it.
    "snowplow_events": "tsv",
}


# The demo's first day, and the first partition when nothing else says otherwise.
DEFAULT_START_DATE = "2026-01-01"


def _path(var: str, default: str) -> Path:
    value = os.environ.get(var)
    path = Path(value) if value else PROJECT_ROOT / default
    return path.resolve()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    warehouse_path: Path
    serving_path: Path
    dagster_home: Path
    mlflow_tracking_uri: str
    ground_truth_dir: Path
    # JOURNEY_START_DATE when set; otherwise the first daily partition is the earliest export
    # day in the landing directory (see `first_partition_date`).
    start_date: str | None

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = _path("JOURNEY_DATA_DIR", "data")
        mlflow_dir = data_dir / "mlflow"
        return cls(
            data_dir=data_dir,
            landing_dir=_path("JOURNEY_LANDING_DIR", str(data_dir / "landing")),
            warehouse_path=_path("JOURNEY_WAREHOUSE", str(data_dir / "warehouse.duckdb")),
            serving_path=_path("JOURNEY_SERVING", str(data_dir / "serving.duckdb")),
            dagster_home=_path("DAGSTER_HOME", str(data_dir / "dagster")),
            mlflow_tracking_uri=os.environ.get("MLFLOW_TRACKING_URI")
            or f"sqlite:///{mlflow_dir / 'mlflow.db'}",
            ground_truth_dir=_path("JOURNEY_GROUND_TRUTH_DIR", str(data_dir / "ground_truth")),
            start_date=os.environ.get("JOURNEY_START_DATE") or None,
        )

    @property
    def first_partition_date(self) -> str:
        """First daily partition: JOURNEY_START_DATE, else the earliest export day found in
        the landing directory, else the demo's first day. Read when definitions are built,
        so the Dagster UI and the command line agree without anyone typing a date."""
        if self.start_date:
            return self.start_date
        from orchestration.landing import earliest_landing_day

        earliest = earliest_landing_day(self.landing_dir)
        return earliest.isoformat() if earliest else DEFAULT_START_DATE

    @property
    def demo_start_date(self) -> str:
        return self.start_date or DEFAULT_START_DATE


def get_settings() -> Settings:
    return Settings.from_env()


def path_environment(data_dir: Path) -> dict[str, str]:
    """The environment variables that put every path of a project under `data_dir`, laid out
    as the defaults are (for child `journey` processes of tests and benchmarks)."""
    return {
        "JOURNEY_DATA_DIR": str(data_dir),
        "JOURNEY_LANDING_DIR": str(data_dir / "landing"),
        "JOURNEY_WAREHOUSE": str(data_dir / "warehouse.duckdb"),
        "JOURNEY_SERVING": str(data_dir / "serving.duckdb"),
        "DAGSTER_HOME": str(data_dir / "dagster"),
        "JOURNEY_GROUND_TRUTH_DIR": str(data_dir / "ground_truth"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}",
    }


HASH_KEY_ENV = "JOURNEY_HASH_KEY"


def hash_key(settings: Settings | None = None) -> str:
    """The secret that keys every pseudonym (customer_id, email_hash, erasure tombstones).

    JOURNEY_HASH_KEY when set (a secret manager's value in production); otherwise
    `<data dir>/hash.key`, created once with 256 random bits and mode 0600. Without a secret an
    unsalted hash of an email is re-identifiable by anyone holding the email (issue 12).
    Losing the key changes every customer_id at the next build and orphans the tombstones:
    back it up with the warehouse (docs/privacy.md)."""
    value = os.environ.get(HASH_KEY_ENV)
    if value:
        return value
    settings = settings or get_settings()
    path = settings.data_dir / "hash.key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once keep one key, never two.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def export_hash_key(settings: Settings | None = None) -> str:
    """Put the key in the environment, where dbt (profiles/vars) and child processes read it."""
    key = hash_key(settings)
    os.environ[HASH_KEY_ENV] = key
    return key

"""No raw personal data where it does not belong (issue 12, item 5; docs/privacy.md).

On the session demo (`journey run`, tests/conftest.py `demo_pipeline`) the generator's
personal values are read back from the landing files: every email (normalised), every
person's first and last name, and the direct identifiers user id, anonymous id and CRM contact
id. They are then searched for in

- every table of `marts` and every table of the serving copy, all columns as text (a value
  whole or inside a longer text, a first + last name side by side, a name alone in a cell);
- every file of the MLflow store (tracking db and artifacts; zip members such as model.skops
  opened);
- every file of the Dagster instance (event log and run storage, schedules, compute logs) and
  the `journey` command logs.

Each store must hold none of them. The same search over `raw.*` and over the landing files
finds every kind of value, so a scan that finds nothing has looked.

The unit tests at the end check the two guards the stores rely on without the demo: the
ingestion preview's masking and MLflow's made-up input example.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.tracking import scrub_input_examples, synthetic_example
from orchestration.demo.catalog import GENERIC_EMAILS
from orchestration.ingest.loaders import MASK, LoadError, load_file, mask_pii, mask_reason
from tests.conftest import DemoPipeline, WriteLanding

# Emails and ids: runs of these characters in the lower-cased bytes, then their parts.
TOKEN = re.compile(rb"[a-z0-9_.%+@-]+")
TOKEN_PARTS = re.compile(rb"[.%+@]")
WORD = re.compile(rb"[a-z]+")
# At most this many non-letters between a first and a last name ("Lena Santos",
# "Lena | Santos" in a markdown table, "Lena","Santos" in JSON).
NAME_GAP = 6
ID_KINDS = ("user_id", "anonymous_id", "contact_id")


@dataclass(frozen=True)
class KnownPii:
    emails: frozenset[str]
    names: frozenset[tuple[str, str]]  # (first, last), lower case
    name_words: frozenset[str]
    ids: dict[str, frozenset[str]]  # kind -> values, lower case

    def counts(self) -> dict[str, int]:
        return {
            "email": len(self.emails),
            "full_name": len(self.names),
            "name_word": len(self.name_words),
            **{kind: len(values) for kind, values in self.ids.items()},
        }


def _csv_rows(folder: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def known_pii(landing: Path) -> KnownPii:
    """Every personal value the demo generator wrote to the landing files."""
    emails: set[str] = set()
    ids: dict[str, set[str]] = {kind: set() for kind in ID_KINDS}
    names: set[tuple[str, str]] = set()

    def add_email(value: object) -> None:
        if isinstance(value, str):
            emails.add(value.strip().lower())

    for source, column in (
        ("crm_contacts", "email"),
        ("email_events", "email"),
        ("orders", "email"),
        ("support_tickets", "requester_email"),
        ("privacy_requests", "email"),
    ):
        for row in _csv_rows(landing / source):
            add_email(row.get(column))
            if source == "crm_contacts":
                if row.get("contact_id"):
                    ids["contact_id"].add(row["contact_id"].strip().lower())
                first, last = (row.get("first_name") or "").strip(), (row.get("last_name") or "")
                if first and last.strip():
                    names.add((first.lower(), last.strip().lower()))
    for path in sorted((landing / "web_events").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # the generator's deliberately broken lines
            if not isinstance(event, dict):
                continue
            traits = event.get("traits")
            if isinstance(traits, dict):
                add_email(traits.get("email"))
            for kind, key in (("user_id", "userId"), ("anonymous_id", "anonymousId")):
                if isinstance(event.get(key), str) and event[key]:
                    ids[kind].add(event[key].lower())
    # Shared junk values (test@example.com, unknown) are nobody's.
    emails -= {e.strip().lower() for e in GENERIC_EMAILS}
    emails.discard("")
    return KnownPii(
        emails=frozenset(emails),
        names=frozenset(names),
        name_words=frozenset(word for pair in names for word in pair),
        ids={kind: frozenset(values) for kind, values in ids.items()},
    )


def find_pii(data: bytes, pii: KnownPii) -> dict[str, set[str]]:
    """The known values found in `data` (any bytes: text, JSON, SQLite pages), by kind."""
    lower = data.lower()
    tokens = set(TOKEN.findall(lower))
    candidates = {t.strip(b".-_").replace(b"%40", b"@").decode("ascii") for t in tokens}
    candidates |= {
        part.strip(b"-_").decode("ascii") for t in tokens for part in TOKEN_PARTS.split(t)
    }
    hits: dict[str, set[str]] = {}
    if found := candidates & pii.emails:
        hits["email"] = found
    for kind, values in pii.ids.items():
        if found := candidates & values:
            hits[kind] = found
    words = [(m.group().decode(), m.start(), m.end()) for m in WORD.finditer(lower)]
    pairs = {
        f"{a} {b}"
        for (a, _, end), (b, start, _) in zip(words, words[1:], strict=False)
        if start - end <= NAME_GAP and (a, b) in pii.names
    }
    if pairs:
        hits["full_name"] = pairs
    return hits


@dataclass
class StoreScan:
    store: str
    bytes_scanned: int = 0
    places: int = 0
    hits: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )

    def add(self, place: str, data: bytes, pii: KnownPii) -> None:
        self.bytes_scanned += len(data)
        self.places += 1
        for kind, values in find_pii(data, pii).items():
            self.hits[kind][place] |= values

    def distinct(self, kind: str) -> int:
        return len(set().union(*self.hits[kind].values())) if kind in self.hits else 0

    def describe(self) -> str:
        found = {
            kind: f"{self.distinct(kind)} value(s) in {sorted(where)[:5]}"
            for kind, where in self.hits.items()
        }
        return (
            f"{self.store}: {self.bytes_scanned:,} bytes in {self.places} place(s); "
            f"hits: {found or 0}"
        )


def scan_files(store: str, root: Path, pii: KnownPii) -> StoreScan:
    """Every file under `root` as bytes; a zip archive's members too (model.skops)."""
    scan = StoreScan(store)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        place = str(path.relative_to(root))
        scan.add(place, path.read_bytes(), pii)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    scan.add(f"{place}!{member}", archive.read(member), pii)
    return scan


def scan_database(
    store: str, path: Path, pii: KnownPii, schemas: tuple[str, ...] | None = None
) -> StoreScan:
    """Every table of the schemas (all of them by default), all columns cast to text."""
    scan = StoreScan(store)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{path}' as db (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'db' "
            "order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            if schemas is not None and schema not in schemas:
                continue
            cursor = con.execute(f'select * from db."{schema}"."{table}"')
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow([d[0] for d in cursor.description])
            name_cells: set[str] = set()
            while batch := cursor.fetchmany(20_000):
                for row in batch:
                    cells = ["" if v is None else str(v) for v in row]
                    writer.writerow(cells)
                    name_cells |= {c.strip().lower() for c in cells} & pii.name_words
            place = f"{schema}.{table}"
            scan.add(place, text.getvalue().encode("utf-8"), pii)
            if name_cells:
                scan.hits["name_cell"][place] |= name_cells
    finally:
        con.close()
    return scan


@pytest.fixture(scope="module")
def pii(demo_pipeline: DemoPipeline) -> KnownPii:
    known = known_pii(demo_pipeline.settings.landing_dir)
    # The demo has people, and all of them have a name and an email.
    assert min(known.counts().values()) > 50, known.counts()
    return known


def test_the_scan_finds_the_values_where_they_belong(
    demo_pipeline: DemoPipeline, pii: KnownPii
) -> None:
    """raw.* and the landing files hold every kind of value: the scan can fail."""
    settings = demo_pipeline.settings
    raw = scan_database("raw", settings.warehouse_path, pii, schemas=("raw",))
    landing = scan_files("landing/crm_contacts", settings.landing_dir / "crm_contacts", pii)
    print(raw.describe(), landing.describe(), sep="\n")
    for kind in ("email", "full_name", "name_cell", *ID_KINDS):
        assert raw.distinct(kind) > 0, f"{kind} not found in raw.*: the scan is blind"
    assert raw.distinct("email") > 0.8 * len(pii.emails)
    assert raw.distinct("anonymous_id") > 0.8 * len(pii.ids["anonymous_id"])
    for kind in ("email", "full_name", "contact_id"):
        assert landing.distinct(kind) > 0


def test_no_personal_data_in_marts_serving_mlflow_or_dagster(
    demo_pipeline: DemoPipeline, pii: KnownPii, record_property: pytest.RecordProperty
) -> None:
    settings = demo_pipeline.settings
    mlflow_db = Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///"))
    scans = [
        scan_database("marts", settings.warehouse_path, pii, schemas=("marts",)),
        scan_database("serving copy", settings.serving_path, pii),
        scan_files("mlflow (tracking db + artifacts)", mlflow_db.parent, pii),
        scan_files("dagster instance", settings.dagster_home, pii),
        scan_files("journey logs", settings.data_dir / "logs", pii),
    ]
    print(f"known values: {pii.counts()}")
    for scan in scans:
        print(scan.describe())
        record_property(scan.store, {"bytes": scan.bytes_scanned, "hits": len(scan.hits)})
    # Each store was there to be scanned (a wrong path would scan nothing and pass).
    assert all(scan.bytes_scanned > 10_000 for scan in scans[:4])
    assert scans[0].places >= 11 and scans[2].places >= 10
    found = {scan.store: scan.describe() for scan in scans if scan.hits}
    assert not found, "\n".join(found.values())


# --- the guards, without the demo --------------------------------------------------------


def test_preview_masks_identifiers_also_inside_the_payload() -> None:
    payload = {
        "type": "identify",
        "messageId": "m1",
        "anonymousId": "0866b967-cf36-4277-9058-36706f88e202",
        "userId": "usr_230895",
        "context": {
            "ip": "203.0.113.7",
            "userAgent": "Mozilla/5.0",
            "page": {"url": "https://x.io/welcome?email=ann%40x.io&ref=Ann.Lee@x.io"},
        },
        "traits": {"email": "ann@x.io", "name": "Ann Lee"},
        "properties": {"plan": "pro"},
    }
    row = {
        "message_id": "m1",
        "anonymous_id": "0866b967-cf36-4277-9058-36706f88e202",
        "user_id": "usr_230895",
        "contact_id": "C000123",
        "useragent": "Mozilla/5.0",
        "user_ipaddress": "203.0.113.7",
        "subject": "Please call Ann Lee",
        "page_url": "https://x.io/?who=ann@x.io",
        "segment": "smb",
        "payload": json.dumps(payload),
    }
    masked = mask_pii(row)
    text = json.dumps(masked)
    for value in ("0866b967", "usr_230895", "C000123", "203.0.113", "Ann", "ann@x.io"):
        assert value not in text, value
    assert masked["message_id"] == "m1" and masked["segment"] == "smb"
    assert masked["page_url"] == f"https://x.io/?who={MASK}"
    shown = json.loads(masked["payload"])
    assert shown["messageId"] == "m1" and shown["properties"] == {"plan": "pro"}
    assert shown["traits"] == shown["userId"] == shown["context"]["ip"] == MASK
    assert mask_pii({"payload": "not json ann@x.io"})["payload"] == MASK


def test_input_example_is_made_up_not_a_persons_row() -> None:
    rng = np.random.default_rng(0)
    n = 500
    frame = pd.DataFrame(
        {
            "customer_id": [f"cus_{i:032x}" for i in range(n)],
            "customer_snapshot_id": [f"{i:032x}" for i in range(n)],
            "snapshot_date": pd.to_datetime("2026-03-01")
            + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
            "sessions_last_30d": rng.integers(0, 40, n),
            "mrr": rng.choice([0.0, 49.0, 199.0], n),
            "plan": rng.choice(["starter", "pro"], n),
            "rare_note": [f"note {i}" for i in range(n)],  # unique per person
            "has_unsubscribed": rng.random(n) < 0.2,
        }
    )
    example = synthetic_example(frame, id_columns=["customer_id"])
    assert len(example) == 1
    assert list(example.columns) == list(frame.columns)
    assert (example.dtypes == frame.dtypes).all()
    row = example.iloc[0]
    assert row["customer_id"] == "example_customer_id"
    # Unique per person: a placeholder, never one person's value.
    assert row["customer_snapshot_id"] == "example_customer_snapshot_id"
    assert row["rare_note"] == "example_rare_note"
    assert row["sessions_last_30d"] == int(np.round(frame["sessions_last_30d"].median()))
    assert row["plan"] in {"starter", "pro"} and not row["has_unsubscribed"]


def test_reject_reasons_shown_in_metadata_mask_personal_values() -> None:
    cast = "CAST: Could not convert string \"{}\" to 'TIMESTAMP WITH TIME ZONE'"
    # A shifted column put an email into a date field: the email is masked, the rest stays.
    assert mask_reason("updated_at", cast.format("lena@x.io")) == cast.format(MASK)
    assert mask_reason("updated_at", cast.format("yesterday")) == cast.format("yesterday")
    # A personal field's quoted value is masked whatever it looks like.
    assert mask_reason("first_name", cast.format("Lena")) == cast.format(MASK)


def test_a_file_without_header_row_keeps_its_values_out_of_the_error(
    warehouse_con: duckdb.DuckDBPyConnection, landing_dir: Path, write_landing: WriteLanding
) -> None:
    day = date(2026, 1, 5)
    path = write_landing(
        "crm_contacts",
        day,
        "C000001,lena.santos@x.io,Lena,Santos,Maple Data,smb,US,lead,"
        "2026-01-05T10:00:00+00:00,2026-01-05T10:00:00+00:00,true\n",
    )
    with pytest.raises(LoadError) as error:
        load_file(warehouse_con, "crm_contacts", path, day, landing_dir)
    message = str(error.value)
    assert "crm_contacts/2026-01-05.csv: line 1" in message and "header row missing" in message
    for value in ("C000001", "lena", "Lena", "Santos", "Maple"):
        assert value not in message


def test_input_examples_logged_before_are_rewritten_once(tmp_path: Path) -> None:
    """Models logged before examples were made up hold five real rows: scrubbed in place."""
    columns = ["customer_id", "snapshot_date", "segment", "sessions_last_30d"]
    rows = [[f"cus_{i:032x}", f"2026-04-0{i + 1}T00:00:00", "smb", i * 3] for i in range(5)]
    folder = tmp_path / "churn" / "models" / "m-1" / "artifacts"
    folder.mkdir(parents=True)
    (folder / "input_example.json").write_text(json.dumps({"columns": columns, "data": rows}))
    (folder / "serving_input_example.json").write_text(
        json.dumps({"dataframe_split": {"columns": columns, "data": rows}})
    )
    (folder / "other.json").write_text(json.dumps({"columns": columns, "data": rows}))

    assert {p.name for p in scrub_input_examples(tmp_path)} == {
        "input_example.json",
        "serving_input_example.json",
    }
    example = json.loads((folder / "input_example.json").read_text())
    serving = json.loads((folder / "serving_input_example.json").read_text())["dataframe_split"]
    expected = [["example_customer_id", "2026-04-03T00:00:00", "smb", 6.0]]
    assert example["data"] == serving["data"] == expected
    assert "cus_" not in (folder / "input_example.json").read_text()
    assert scrub_input_examples(tmp_path) == []  # idempotent

"""Kill a real `journey` process with SIGKILL at a chosen stage, and look at what it left.

Shared by tests/test_crash_safety.py and benchmarks/bench_crash.py. Each kill point waits for
an observable moment of the stage (a progress line, a dbt child process, a DuckDB write-ahead
log, an MLflow run in RUNNING state) and then kills the whole process group, so dbt and every
other child die with it, as with `kill -9` on a terminal's job or the OOM killer.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.checksums import TableChecksum, warehouse_checksums
from orchestration.settings import path_environment

JOURNEY = str(Path(sys.executable).with_name("journey"))
RECOVERED = "left unfinished by a killed journey process"
STAGES = ("ingest", "dbt", "train", "score", "publish")


class Journey:
    """A `journey` command in its own process group, its console lines read by a thread (so
    that waiting on something else never blocks the process on a full pipe)."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.env = env
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [JOURNEY, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def saw(self, needle: str) -> bool:
        return any(needle in line for line in list(self.lines))

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=10)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code


class NotReached(AssertionError):
    """The process ended, or time ran out, before the kill point."""


def wait_until(journey: Journey, condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if journey.process.poll() is not None:
            time.sleep(0.5)  # let the reader drain the last lines
            raise NotReached(f"journey exited before {what}:\n{journey.output[-4000:]}")
        time.sleep(0.1)
    raise NotReached(f"no {what} within {timeout:.0f}s:\n{journey.output[-4000:]}")


def descendants_running(root_pid: int, needle: str) -> bool:
    """Whether a process below root_pid has `needle` in its command line."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    for pid, command in commands.items():
        ancestor = parents.get(pid)
        while ancestor and ancestor != root_pid:
            ancestor = parents.get(ancestor)
        if ancestor == root_pid and needle in command:
            return True
    return False


def mlflow_runs(env: dict[str, str], status: str) -> int:
    """MLflow runs in `status` in the project's SQLite store (0 before it exists)."""
    path = Path(env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"))
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as con:
            (count,) = con.execute(
                "select count(*) from runs where status = ?", [status]
            ).fetchone()
    except sqlite3.Error:  # tables not created yet, or locked for a moment
        return 0
    return int(count)


def wal_path(env: dict[str, str]) -> Path:
    return Path(env["JOURNEY_WAREHOUSE"] + ".wal")


def _serving_leftovers(env: dict[str, str]) -> list[Path]:
    serving = Path(env["JOURNEY_SERVING"])
    return sorted(serving.parent.glob(f".{serving.name}.*.tmp*"))


def step_started(journey: Journey, step_key: str) -> bool:
    """Whether the current run of `journey` has started step `step_key` (read from the run's
    SQLite event log in DAGSTER_HOME, as the Dagster UI would show it)."""
    prefixes = [line.split(": run ")[1][:8] for line in journey.lines if ": run " in line]
    if not prefixes:
        return False
    runs = Path(journey.env["DAGSTER_HOME"]) / "history" / "runs"
    for path in runs.glob(f"{prefixes[-1]}*.db"):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as con:
                (count,) = con.execute(
                    "select count(*) from event_logs"
                    " where dagster_event_type = 'STEP_START' and step_key = ?",
                    [step_key],
                ).fetchone()
        except sqlite3.Error:
            return False
        if count:
            return True
    return False


def _soon(condition: Callable[[], bool], seconds: float) -> None:
    """Wait up to `seconds` for `condition` (a nicer moment to kill), then go ahead anyway."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)


def _wait_for_kill_point(journey: Journey, stage: str, timeout: float) -> None:
    env = journey.env
    if stage == "ingest":
        # The largest source is loading (its step started and DuckDB is writing).
        wait_until(journey, lambda: step_started(journey, "raw__web_events"), "web events", timeout)
        _soon(lambda: wal_path(env).exists(), 10)
    elif stage == "dbt":
        wait_until(
            journey, lambda: descendants_running(journey.process.pid, "build"), "dbt", timeout
        )
        _soon(lambda: wal_path(env).exists(), 120)
    elif stage == "train":
        # A model is logging to MLflow: its run is open.
        wait_until(journey, lambda: mlflow_runs(env, "RUNNING") > 0, "an MLflow run", timeout)
    elif stage == "score":
        # At once: the step loads the champions, then writes a day of scores in about a
        # second and the run ends; waiting for its WAL would miss it.
        wait_until(
            journey, lambda: step_started(journey, "marts__customer_scores"), "scoring", timeout
        )
    elif stage == "publish":
        wait_until(
            journey,
            lambda: step_started(journey, "serving__serving_database"),
            "publishing",
            timeout,
        )
        _soon(lambda: bool(_serving_leftovers(env)), 10)
    else:
        raise ValueError(f"unknown stage {stage!r}; choose one of {STAGES}")


@dataclass
class Kill:
    """What a kill left behind."""

    stage: str
    seconds_in: float  # from the start of the command to the kill
    wal_at_kill: bool  # the warehouse had a write-ahead log: killed mid-write
    mlflow_running_at_kill: int
    serving_leftovers: int  # half-written serving copies
    reopened_tables: int  # tables DuckDB shows when the killed file is opened read-only
    output: str = field(repr=False, default="")

    @property
    def outcome(self) -> str:
        parts = []
        if self.wal_at_kill:
            parts.append("mid-write (WAL)")
        if self.mlflow_running_at_kill:
            parts.append(f"{self.mlflow_running_at_kill} MLflow run RUNNING")
        if self.serving_leftovers:
            parts.append("serving copy half-written")
        return ", ".join(parts) or "no write in progress"


def start_and_kill(
    env: dict[str, str],
    stage: str,
    *args: str,
    timeout: float = 900,
    before_kill: Callable[[Journey], None] | None = None,
) -> tuple[Journey, Kill]:
    """Start `journey <args>` (default: `run --skip-generate`), SIGKILL it at `stage` (after
    `before_kill`, if given, has looked at it), and check that the warehouse file reopens
    (DuckDB replays its WAL)."""
    journey = Journey(env, *(args or ("run", "--skip-generate")))
    try:
        _wait_for_kill_point(journey, stage, timeout)
        if before_kill is not None:
            before_kill(journey)
    finally:
        wal = wal_path(env).exists()
        running = mlflow_runs(env, "RUNNING")
        seconds = time.monotonic() - journey.started
        journey.kill()
    leftovers = len(_serving_leftovers(env))
    tables = 0
    if Path(env["JOURNEY_WAREHOUSE"]).exists():
        # Read-only: the WAL is replayed in memory and left for the next run to replay.
        with duckdb.connect(env["JOURNEY_WAREHOUSE"], read_only=True) as con:
            (tables,) = con.execute("select count(*) from duckdb_tables()").fetchone()
    return journey, Kill(stage, seconds, wal, running, leftovers, int(tables), journey.output)


# --- one clean run of the demo, the yardstick for every other run ---------------------------

# The small demo of the test suite (tests/conftest.py DEMO_*): both models train on it.
DEMO_PEOPLE, DEMO_DAYS, DEMO_SEED = 1500, 150, 11
# A fixed pseudonym key: customer ids are keyed hashes, and runs in different data
# directories must produce the same ids to be compared.
HASH_KEY = "crash-test-hash-key"


def demo_env(root: Path) -> dict[str, str]:
    """The environment of a journey project under `root` (every path set, fixed key)."""
    data = root / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env.update(path_environment(data))
    env.update(
        JOURNEY_HASH_KEY=HASH_KEY,
        # A demo this small cannot carry the production floor (tests/conftest.py).
        JOURNEY_AUC_FLOOR="0.60",
    )
    return env


def write_demo_landing(landing: Path, people: int, days: int, seed: int) -> None:
    from orchestration.demo import generate

    generate(landing, landing.parent / "ground_truth", people=people, days=days, seed=seed)


def journey_ok(env: dict[str, str], *args: str, timeout: float = 1800) -> tuple[str, float]:
    """Run `journey <args>` to the end; its console output and wall seconds. Raises with the
    output when it fails."""
    started = time.monotonic()
    done = subprocess.run(
        [JOURNEY, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise AssertionError(
            f"journey {' '.join(args)} exited {done.returncode}:\n"
            f"{(done.stdout + done.stderr)[-6000:]}"
        )
    return done.stdout, seconds


@dataclass(frozen=True)
class Baseline:
    env: dict[str, str]
    landing: Path  # the generated files, untouched
    checksums: dict[str, TableChecksum]
    seconds: float
    output: str


_BASELINES: dict[tuple[int, int, int], Baseline] = {}


def clean_baseline(
    root: Path, people: int = DEMO_PEOPLE, days: int = DEMO_DAYS, seed: int = DEMO_SEED
) -> Baseline:
    """`journey run` on the demo in `root`, once per process (later calls return the first
    result, whatever their root): the clean run every crash and re-run is compared with."""
    key = (people, days, seed)
    if key not in _BASELINES:
        env = demo_env(root)
        landing = root / "generated" / "landing"
        write_demo_landing(landing, people, days, seed)
        shutil.copytree(landing, env["JOURNEY_LANDING_DIR"])
        output, seconds = journey_ok(env, "run", "--skip-generate")
        checksums = warehouse_checksums(env["JOURNEY_WAREHOUSE"])
        _BASELINES[key] = Baseline(env, landing, checksums, seconds, output)
    return _BASELINES[key]


def copy_landing(baseline: Baseline, env: dict[str, str]) -> None:
    """The demo's landing files as generated (a run's erasure rewrites its own copy)."""
    shutil.copytree(baseline.landing, env["JOURNEY_LANDING_DIR"])

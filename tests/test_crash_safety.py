"""The `journey` command under the failures a user meets: a second command on the same data
directory, and `kill -9` in the middle of a stage (real processes, real signals)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import _demo_env, run_journey
from tests.test_foreign_exports import write_foreign_landing

pytestmark = pytest.mark.e2e

JOURNEY = str(Path(sys.executable).with_name("journey"))


def _start(env: dict[str, str], *args: str) -> subprocess.Popen:
    # Own process group, so that SIGKILL reaches dbt and every other child too.
    return subprocess.Popen(
        [JOURNEY, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for(proc: subprocess.Popen, needle: str, timeout: float = 600) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"journey exited before printing {needle!r}:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return seen
    pytest.fail(f"no {needle!r} within {timeout}s:\n{''.join(seen)}")


def _descendant_running(root_pid: int, needle: str, timeout: float = 300) -> None:
    """Wait until a process below root_pid has `needle` in its command line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parents: dict[int, int] = {}
        commands: dict[int, str] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                commands[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().decode(errors="replace")
                )
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
        for pid, command in commands.items():
            ancestor = parents.get(pid)
            while ancestor and ancestor != root_pid:
                ancestor = parents.get(ancestor)
            if ancestor == root_pid and needle in command:
                return
        time.sleep(0.2)
    pytest.fail(f"no process running {needle!r} under pid {root_pid} within {timeout}s")


def test_second_command_fails_fast_and_kill_9_does_not_block_the_next_run(
    tmp_path: Path,
) -> None:
    env = _demo_env(tmp_path)
    expected = write_foreign_landing(Path(env["JOURNEY_LANDING_DIR"]))

    first = _start(env, "run", "--skip-generate")
    try:
        _wait_for(first, "dbt_build")
        # A second command on the same data directory says who holds it, at once.
        started = time.monotonic()
        second = subprocess.run(
            [JOURNEY, "ingest"], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 2
        assert "`journey run` (pid" in second.stderr and "is using" in second.stderr
        assert time.monotonic() - started < 30
        # Killed while dbt runs: the run is STARTED and holds the warehouse pool slot.
        _descendant_running(first.pid, "build")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

    # The killed run still holds its warehouse pool slot in the Dagster instance: the next
    # command must notice the dead process, free the slot and finish.
    output = run_journey(env, "run", "--skip-generate", timeout=900)
    assert "left unfinished by a killed journey process" in output
    with duckdb.connect(env["JOURNEY_WAREHOUSE"], read_only=True) as con:
        (sessions,) = con.execute("select count(*) from marts.fct_sessions").fetchone()
        (events,) = con.execute("select count(*) from raw.web_events").fetchone()
    assert (sessions, events) == (expected["sessions"], expected["web_events"])

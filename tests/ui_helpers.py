"""Helpers for the UI tests: servers in their own process group, HTTP polling, GraphQL, and
headless Chromium through Playwright (Debian's /usr/bin/chromium, never a downloaded one)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, chars: int = 6000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def _default_sigint() -> None:
    # A shell starts background jobs with SIGINT ignored and children inherit that; Dagster
    # maps SIGTERM to the SIGINT handler, so both would be ignored without this reset.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def process_group(
    command: Sequence[str], *, env: dict[str, str], cwd: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` in a new session (its own process group) with output in `log_path`, and
    stop the whole group on exit: `dagster dev` and `mlflow ui` fork servers and workers."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
        try:
            yield proc
        finally:
            stop_group(proc)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(proc: subprocess.Popen[bytes], grace_seconds: float = 20) -> None:
    """Ctrl-C for the group (what `dagster dev` expects), then SIGKILL whatever is left."""
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        proc.poll()  # reap the leader so that it does not keep the group alive as a zombie
        if not _group_alive(pgid):
            return
        time.sleep(0.2)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
    interval: float = 1.0,
) -> T:
    """Call `probe` until it returns something other than None; fail with the server log if
    the server exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"server exited with code {proc.returncode} while waiting for {what}:\n"
                + (log_tail(log_path) if log_path else "")
            )
        try:
            result = probe()
        except (OSError, urllib.error.URLError, ValueError) as error:
            result, last_error = None, repr(error)
        if result is not None:
            return result
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error or 'none'})"
        + (f"\n{log_tail(log_path)}" if log_path else "")
    )


def http_get_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def http_ok(url: str) -> bool | None:
    """True if `url` answers 200; None (keep waiting) otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return True if response.status == 200 else None
    except urllib.error.HTTPError:
        return None


class GraphQLError(AssertionError):
    pass


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST a GraphQL document; return `data`, or raise with the server's error messages."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise GraphQLError(f"POST {url} → HTTP {error.code}: {error.read()[:2000]!r}") from error
    if payload.get("errors"):
        messages = "; ".join(e.get("message", str(e)) for e in payload["errors"])
        raise GraphQLError(f"GraphQL errors from {url}: {messages}")
    return payload["data"]

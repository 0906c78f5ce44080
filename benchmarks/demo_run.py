"""The demo warehouse a report script reads: `journey run` on a generated demo under
`<root>/data`, once (an existing warehouse is reused, so a report can be re-read cheaply)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import path_environment


def ensure_demo(root: Path, people: int, days: int, seed: int) -> dict[str, str]:
    """The environment of the demo under `root` (its JOURNEY_* paths), built first when its
    warehouse does not exist yet. The AUC floor is the test suite's: small demos train weaker
    models, and a report is about its own figures, not the gate."""
    env = {**os.environ, **path_environment(root / "data"), "JOURNEY_AUC_FLOOR": "0.6"}
    if Path(env["JOURNEY_WAREHOUSE"]).exists():
        return env
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("journey")), "run"]
    command += ["--people", str(people), "--days", str(days), "--seed", str(seed)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}")
    print(
        f"journey run ({people} people, {days} days, seed {seed}): "
        f"{time.perf_counter() - started:.0f} s"
    )
    return env

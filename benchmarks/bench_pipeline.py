"""The whole pipeline as a user runs it, timed: `journey run`, a daily refresh, a sparse data set.

    .venv/bin/python benchmarks/bench_pipeline.py                 # default demo (5,000 people)
    .venv/bin/python benchmarks/bench_pipeline.py --people 50000  # 10x
    .venv/bin/python benchmarks/bench_pipeline.py --sparse        # ~200 events over 255 days

Every figure comes from running the real `journey` commands in subprocesses against a fresh
data directory, as a user would (generator included). Printed per stage: wall seconds and the
peak resident memory of the whole process tree (journey + dbt), sampled every 0.2 s from
/proc. The daily refresh holds the demo's last day back, runs the full pipeline on the other
days, then adds that day with `journey refresh --from D --to D` (what the daily schedule runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.settings import path_environment

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def environment(root: Path) -> dict[str, str]:
    data = root / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env.update(path_environment(data))
    return env


def _tree_rss(root_pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(statm.split()[1]) * PAGE_BYTES
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


@dataclass
class Measured:
    command: str
    seconds: float
    peak_rss_bytes: int
    output: str


def measure(args: list[str], env: dict[str, str]) -> Measured:
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0]
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    command = " ".join(Path(args[0]).name if i == 0 else a for i, a in enumerate(args))
    if proc.returncode != 0:
        raise SystemExit(f"{command} exited {proc.returncode}:\n{output[-4000:]}")
    return Measured(command, seconds, peak[0], output)


STEP = re.compile(r"^\[\s*([\d.]+)s\] (\S+)(?: [\d.-]+)?: (?:run \w+ started|succeeded)$")


def stage_seconds(output: str) -> dict[str, float]:
    """Seconds per Dagster job from the `journey` progress lines (started → succeeded)."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for line in output.splitlines():
        match = STEP.match(line.strip())
        if not match:
            continue
        at, job = float(match.group(1)), match.group(2)
        if line.rstrip().endswith("started"):
            started[job] = at
        elif job in started:
            seconds[job] = at - started[job]
    return seconds


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def report(title: str, measured: Measured) -> None:
    print(
        f"{title:<44} {measured.seconds:8.1f} s   peak RSS {_mb(measured.peak_rss_bytes):>9}"
        f"   ({measured.command})"
    )
    for job, seconds in stage_seconds(measured.output).items():
        print(f"    {job:<40} {seconds:8.1f} s")


def journey(*args: str) -> list[str]:
    return [str(BIN / "journey"), *args]


def hold_back_last_day(landing: Path, aside: Path) -> str:
    days = sorted({p.stem for p in landing.glob("*/*.*")})
    last = days[-1]
    for path in landing.glob(f"*/{last}.*"):
        target = aside / path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target / path.name)
    return last


def restore(aside: Path, landing: Path) -> None:
    for path in aside.glob("*/*"):
        shutil.move(path, landing / path.parent.name / path.name)


def demo_benchmark(
    people: int, days: int, work: Path, each_stage: bool = False
) -> dict[str, float]:
    env = environment(work)
    landing = Path(env["JOURNEY_LANDING_DIR"])
    figures: dict[str, float] = {}
    gen = measure(
        [
            str(BIN / "journey-demo"),
            "generate",
            "--people",
            str(people),
            "--days",
            str(days + 1),
            "--out",
            str(landing),
            "--ground-truth",
            env["JOURNEY_GROUND_TRUTH_DIR"],
        ],
        env,
    )
    report("generate demo exports (not in the run below)", gen)
    new_day = hold_back_last_day(landing, work / "held_back")
    rows = sum(1 for p in landing.glob("*/*.*") for _ in p.open("rb"))
    print(f"landing: {len(list(landing.glob('*/*.*'))):,} files, ~{rows:,} lines, {days} days")

    full = measure(journey("run", "--skip-generate"), env)
    report(f"journey run ({days} days, first run)", full)
    figures["full_run_seconds"] = full.seconds
    figures["full_run_peak_rss_mb"] = full.peak_rss_bytes / 2**20
    size = Path(env["JOURNEY_WAREHOUSE"]).stat().st_size
    print(f"warehouse size: {_mb(size)}")
    figures["warehouse_mb"] = size / 2**20

    restore(work / "held_back", landing)
    # What the daily schedule runs: one `daily_refresh` run narrowed to the new day.
    step = measure(journey("refresh", "--from", new_day, "--to", new_day), env)
    report(f"daily refresh of {new_day} (one daily_refresh run)", step)
    refresh = step.seconds
    print(f"daily refresh {refresh:.1f} s = {100 * refresh / full.seconds:.1f} % of the full run")
    figures["daily_refresh_seconds"] = refresh
    figures["daily_refresh_share"] = refresh / full.seconds
    if each_stage:
        # Each stage alone on the same data: its own peak memory (the run's is the maximum).
        for stage in ("ingest", "transform", "train", "score"):
            step = measure(journey(stage), env)
            report(f"journey {stage} alone (all days)", step)
            figures[f"{stage}_seconds"] = step.seconds
            figures[f"{stage}_peak_rss_mb"] = step.peak_rss_bytes / 2**20
    return figures


def write_sparse_landing(landing: Path, events: int = 200, span_days: int = 255) -> None:
    """~200 Segment page events on 8 days spread over 255 days, and 2 orders."""
    first = date(2026, 1, 5)
    days = [first + timedelta(days=round(i * (span_days - 1) / 7)) for i in range(8)]
    (landing / "web_events").mkdir(parents=True)
    per_day = events // len(days)
    for d_index, day in enumerate(days):
        lines = []
        for i in range(per_day):
            visitor = f"anon-{(d_index * per_day + i) % 40}"
            stamp = f"{day}T{9 + i // 12:02d}:{(i % 12) * 5:02d}:00Z"
            lines.append(
                json.dumps(
                    {
                        "messageId": f"sparse-{d_index}-{i}",
                        "type": "page",
                        "anonymousId": visitor,
                        "timestamp": stamp,
                        "context": {
                            "page": {"url": f"https://example.com/p{i % 7}", "path": f"/p{i % 7}"}
                        },
                    }
                )
            )
        (landing / "web_events" / f"{day}.jsonl").write_text("\n".join(lines) + "\n")
    (landing / "orders").mkdir(parents=True)
    (landing / "orders" / f"{days[-1]}.csv").write_text(
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type\n"
        f"o1,,a@example.com,{days[-1]}T12:00:00Z,paid,10.00,USD,basic,new\n"
        f"o2,,b@example.com,{days[-1]}T13:00:00Z,paid,20.00,USD,basic,new\n"
    )


def sparse_benchmark(work: Path) -> dict[str, float]:
    env = environment(work)
    write_sparse_landing(Path(env["JOURNEY_LANDING_DIR"]))
    ingest = measure(journey("ingest"), env)
    report("sparse: journey ingest (~200 events / 255 days)", ingest)
    transform = measure(journey("transform"), env)
    report("sparse: journey transform", transform)
    total = ingest.seconds + transform.seconds
    print(f"sparse ingest + transform: {total:.1f} s (target <= 60 s)")
    return {"sparse_ingest_transform_seconds": total}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--sparse", action="store_true", help="only the sparse case")
    parser.add_argument(
        "--each-stage", action="store_true", help="then time each stage alone on the same data"
    )
    parser.add_argument("--workdir", type=Path, help="keep the data here (default: a temp dir)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"workdir {work} · {os.cpu_count()} cores")
    figures = sparse_benchmark(work / "sparse")
    if not args.sparse:
        figures |= demo_benchmark(
            args.people, args.days, work / f"demo_{args.people}", args.each_stage
        )
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}, indent=2))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`journey-demo generate ...`: write the deterministic demo exports."""

from __future__ import annotations

import argparse
import sys

from orchestration.demo.generator import generate


def _parser() -> argparse.ArgumentParser:
    from orchestration.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(prog="journey-demo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="simulate Acme Analytics and write daily exports")
    gen.add_argument("--people", type=int, default=5000, help="known people (default 5000)")
    gen.add_argument("--days", type=int, default=180, help="days to simulate (default 180)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument(
        "--start",
        default=settings.demo_start_date,
        help="first day, YYYY-MM-DD (default $JOURNEY_START_DATE or 2026-01-01)",
    )
    gen.add_argument("--out", default=str(settings.landing_dir), help="landing dir")
    gen.add_argument(
        "--ground-truth", default=str(settings.ground_truth_dir), help="ground-truth dir"
    )
    gen.add_argument("--dirty-rate", type=float, default=0.01, help="dirty-data rate (0.01)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    print(
        f"generating {args.people:,} people x {args.days} days (seed {args.seed}, "
        f"start {args.start}, dirty rate {args.dirty_rate}) into {args.out}",
        flush=True,
    )
    try:
        summary = generate(
            args.out,
            args.ground_truth,
            people=args.people,
            days=args.days,
            seed=args.seed,
            start=args.start,
            dirty_rate=args.dirty_rate,
            progress=lambda line: print(line, flush=True),
        )
    except ValueError as exc:
        print(f"journey-demo: {exc}", file=sys.stderr)
        return 2
    print(summary.table())
    print(
        f"ground truth in {args.ground_truth}: "
        + ", ".join(f"{name} {n:,}" for name, n in summary.ground_truth_rows.items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m benchmarks ingest|national|airflow`` from a checkout: the benchmarks whose
results docs/BENCHMARKS.md records. They sit beside the runtime packages, not in them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "which",
        choices=["ingest", "national", "airflow"],
        help="ingest: a national month of files; national: build, gate, floor and a monthly "
        "run at scale; airflow: the model-by-model DAG under a real scheduler",
    )
    parser.add_argument("--files", type=int, default=5000, help="ingest: how many files")
    parser.add_argument(
        "--scale",
        default="1",
        help="national: 0.1, 1, 4 (multiples of the 1x country) or national (60,000 units); "
        "several, comma-separated (1,4,national), run one after another with their growth",
    )
    parser.add_argument(
        "--plot", type=Path, help="national, several scales: draw the costs log-log as SVG here"
    )
    parser.add_argument("--months", type=int, default=60, help="national: months of figures")
    parser.add_argument(
        "--dir",
        type=Path,
        help="national: the folder everything is written to (default: a new temporary one); "
        "data generated there before by the same generator is reused",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="national: leave the generated data and the last run's in --dir (for a later "
        "run to reuse, or to profile)",
    )
    parser.add_argument(
        "--mode",
        choices=["runner", "subprocess", "watcher"],
        default="runner",
        help="airflow: how cosmos runs dbt (CHISO_COSMOS_MODE)",
    )
    args = parser.parse_args(argv)
    if args.which == "national":
        from benchmarks.national import bench_national, parse_scale
        from benchmarks.scaling import growth, loglog_svg

        try:
            scales = [parse_scale(text) for text in args.scale.split(",")]
        except ValueError as exc:
            parser.error(str(exc))
        if args.keep and not args.dir:
            parser.error("--keep needs --dir: where the data stays")
        runs = []
        for scale in scales:
            runs.append(bench_national(scale, args.months, folder=args.dir, keep=args.keep))
            print(json.dumps(runs[-1], indent=2), flush=True)  # each as soon as it is done
        if len(runs) == 1:
            return 0
        result = {"scales": [run["scale"] for run in runs], "growth": growth(runs)}
        if args.plot:
            args.plot.write_text(loglog_svg(runs), encoding="utf-8")
            result["plot"] = str(args.plot)
    elif args.which == "airflow":
        from benchmarks.airflow import bench_airflow

        result = bench_airflow(args.mode)
    else:
        from benchmarks.ingest import bench_ingest

        result = bench_ingest(args.files)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

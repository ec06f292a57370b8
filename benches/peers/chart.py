"""How cost grows with the catalog: lines/s of the batch and the p50 of one quote, for Tarif and
its peers, at every size whose comparison (`compare.py --json bench-data/<size>/compare.json`)
exists. Draws docs/scaling.svg; `make bench` runs it after the comparison.

    python benches/peers/chart.py --data bench-data --out docs/scaling.svg
"""

import argparse
import json
import os

SIZES = ("small", "medium", "reference")


def load(data):
    runs = {}
    for size in SIZES:
        path = os.path.join(data, size, "compare.json")
        if os.path.exists(path):
            with open(path) as f:
                runs[size] = json.load(f)["reports"]
    return runs


def series(runs, field, scale):
    """engine → [(size index, value)] for every size where the engine has `field`."""
    out = {}
    for i, size in enumerate(SIZES):
        for report in runs.get(size, []):
            value = report.get(field)
            if value:
                out.setdefault(report["engine"], []).append((i, scale(report, value)))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="bench-data")
    parser.add_argument("--out", default="docs/scaling.svg")
    args = parser.parse_args()
    runs = load(args.data)
    if not runs:
        raise SystemExit(f"no compare.json under {args.data}/<size>/: run compare.py --json first")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (batch, point) = plt.subplots(1, 2, figsize=(12, 4.8))
    throughput = series(runs, "batch_median_s", lambda r, s: r["lines"] / s / 1e6)
    latency = series(runs, "point_p50_ns", lambda r, ns: ns / 1000)
    for axis, data, title, unit in (
        (batch, throughput, "batch reprice (higher is better)", "M lines/s"),
        (point, latency, "one quote, p50 (lower is better)", "µs"),
    ):
        for engine, points in sorted(data.items()):
            xs, ys = zip(*points, strict=True)
            style = "-o" if engine.startswith("Tarif") else "--s"
            axis.plot(xs, ys, style, label=engine)
        axis.set_xticks(range(len(SIZES)), [f"{s}" for s in SIZES])
        axis.set_title(title)
        axis.set_ylabel(unit)
        axis.grid(alpha=0.3)
    point.set_yscale("log")
    batch.legend(fontsize=7)
    point.legend(fontsize=7)
    figure.suptitle("Tarif and its peers as the catalog grows (small 10k, medium 200k, reference 1M SKUs)")
    figure.tight_layout()
    figure.savefig(args.out)
    print(f"wrote {args.out} from {', '.join(runs)}")


if __name__ == "__main__":
    main()

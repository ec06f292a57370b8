"""Where the time of `tarif.simulate(per_line=False)` goes, from its `progress` timestamps.

The same base, scenarios and lines as benches/peers/simulate.py. Progress counts the lines of
every run in turn (the base's, then each scenario's), so its timestamps split a call into:
resolution (until the base's first step is added up: the columns read, each distinct account
and reference resolved, the first step priced), the base's steps, each scenario (the lines it
reaches priced under the base and under it), and the roll-up into groups with the Arrow table
(until the call returns). With `--interrupt`, then: `_thread.interrupt_main()` that many seconds
into a call, and the milliseconds until `KeyboardInterrupt` surfaces.

Timings are printed, never asserted.

Run: python benches/python/simulate_phases.py --data bench-data/reference --repeat 3 [--by segment]
     python benches/python/simulate_phases.py --data bench-data/reference --repeat 0 --interrupt 0.8,1.6,6
"""

import _thread
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "peers"))

from simulate import AT, lines_and_scenarios  # noqa: E402

import tarif  # noqa: E402


def phases(base, engines, orders, by):
    rows = orders.num_rows
    marks = []
    start = time.perf_counter()

    def progress(done, _total):
        marks.append((time.perf_counter() - start, done))

    tarif.simulate(base, engines, orders, at=AT, per_line=False, progress=progress, by=by)
    end = time.perf_counter() - start
    ends = [next((t for t, done in marks if done > 0), end)]
    ends += [next((t for t, done in marks if done >= run * rows), end) for run in range(1, 2 + len(engines))]
    ends.append(end)
    names = ["resolution", "base", *engines, "roll-up"]
    spans = [ends[0]] + [b - a for a, b in zip(ends, ends[1:])]
    return end, list(zip(names, spans))


def interrupted(base, engines, orders, delay):
    sent = []

    def signal():
        sent.append(time.perf_counter())
        _thread.interrupt_main()

    timer = threading.Timer(delay, signal)
    timer.start()
    try:
        tarif.simulate(base, engines, orders, at=AT, per_line=False)
    except KeyboardInterrupt:
        return (time.perf_counter() - sent[0]) * 1000
    timer.cancel()
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--interrupt", default="", help="seconds into a call to press Ctrl-C, comma-separated")
    parser.add_argument("--by", default="", help="the groupings computed, comma-separated (default: every one)")
    args = parser.parse_args()
    orders, scenarios = lines_and_scenarios(args.data)
    base = tarif.Engine.from_path(os.path.join(args.data, "rules-subset.json"))
    engines = {name: base.apply(s["changes"]) for name, s in scenarios.items()}
    print(f"{orders.num_rows} lines, scenarios {', '.join(engines)}")
    by = args.by.split(",") if args.by else None
    for _ in range(args.repeat):
        total, spans = phases(base, engines, orders, by)
        print(f"{total:6.2f} s: " + ", ".join(f"{name} {span:.2f}" for name, span in spans), flush=True)
    for delay in [float(d) for d in args.interrupt.split(",") if d]:
        waited = interrupted(base, engines, orders, delay)
        outcome = "finished first" if waited is None else f"KeyboardInterrupt after {waited:.0f} ms"
        print(f"Ctrl-C at {delay} s: {outcome}", flush=True)


if __name__ == "__main__":
    main()

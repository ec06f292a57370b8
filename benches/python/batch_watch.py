"""How a long `quote_many` behaves under its caller's eye: where its time goes, and how soon
Ctrl-C stops it.

* phases: `progress` timestamps split a batch into reading the columns (until the first look),
  resolution (until the first rows are priced), pricing (until every row is), and building the
  Arrow table (until the call returns);
* Ctrl-C: `_thread.interrupt_main()` at 20, 35, 50, 65 and 80 % of the batch's run, and the
  milliseconds until `KeyboardInterrupt` surfaces.

Timings are printed, never asserted.

Run: python benches/python/batch_watch.py                       (2M lines on the sample)
     python benches/python/batch_watch.py --data bench-data/reference --no-interrupt
"""

import _thread
import argparse
import json
import os
import threading
import time

import pyarrow as pa
import pyarrow.csv as pacsv

import tarif

AT = "2026-06-01T10:00:00Z"


def sample_batch(rows):
    doc = json.loads(tarif.sample_document())
    engine = tarif.Engine.from_json(tarif.sample_document())
    accounts = [a["id"] for a in doc["accounts"]]
    skus = list(engine.skus())
    columns = (
        pa.array([accounts[i % len(accounts)] for i in range(rows)]),
        pa.array([skus[(i * 7) % len(skus)] for i in range(rows)]),
        pa.array([1 + i % 40 for i in range(rows)], pa.int64()),
    )
    return engine, columns


def data_batch(data):
    engine = tarif.Engine.from_path(os.path.join(data, "rules-subset.json"))
    orders = pacsv.read_csv(os.path.join(data, "orders.csv"))
    return engine, tuple(orders.column(c) for c in ("account", "sku", "qty"))


def phases(engine, columns, repeat):
    for _ in range(repeat):
        marks = []
        start = time.perf_counter()
        engine.quote_many(*columns, at=AT, progress=lambda done, total: marks.append((time.perf_counter() - start, done)))
        end = time.perf_counter() - start
        first_look = marks[0][0]
        first_priced = next((t for t, done in marks if done > 0), first_look)
        all_priced = marks[-1][0]
        print(
            f"batch {end:.3f} s: columns read {first_look:.3f}, resolution {first_priced - first_look:.3f}, "
            f"pricing {all_priced - first_priced:.3f}, Arrow table {end - all_priced:.3f}",
            flush=True,
        )
    return end


def interrupts(engine, columns, whole):
    for fraction in (0.2, 0.35, 0.5, 0.65, 0.8):
        fired = []

        def ctrl_c():
            fired.append(time.perf_counter())
            _thread.interrupt_main()

        timer = threading.Timer(whole * fraction, ctrl_c)
        timer.start()
        try:
            engine.quote_many(*columns, at=AT)
            print(f"Ctrl-C at {fraction:.0%}: the batch ended first")
        except KeyboardInterrupt:
            print(f"Ctrl-C at {fraction:.0%}: stopped {1000 * (time.perf_counter() - fired[0]):.1f} ms later", flush=True)
        timer.join()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a tarif-gen directory (rules-subset.json, orders.csv); default: the sample")
    parser.add_argument("--rows", type=int, default=2_000_000, help="lines on the sample")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-interrupt", action="store_true")
    args = parser.parse_args()
    engine, columns = data_batch(args.data) if args.data else sample_batch(args.rows)
    whole = phases(engine, columns, args.repeat)
    if not args.no_interrupt:
        interrupts(engine, columns, whole)


if __name__ == "__main__":
    main()

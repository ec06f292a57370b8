"""Python-side timings of the tarif binding, with the peers a shop would otherwise use.

* single `Engine.quote` latency, against a Python dict lookup and an SQLite in-memory
  prepared lookup of the same (account, sku) pairs;
* `Engine.quote_many` throughput on 1M lines given as a pyarrow Table (and as Python lists),
  against the same 1M lookups through a dict and through an SQLite join.

The dict and SQLite hold precomputed prices (a lookup, not pricing): they are the floor a
Python service pays just to fetch a number. Medians, never assertions.

Run: python benches/python/bench_quote.py [--lines N]
"""

import argparse
import os
import random
import sqlite3
import statistics
import time

import numpy as np
import pyarrow as pa

import tarif

AT = "2027-03-18T10:00:00+01:00"


def per_call_ns(call, requests, rounds=30):
    """Median over rounds of the mean time of one call in that round."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        for request in requests:
            call(request)
        times.append((time.perf_counter_ns() - start) / len(requests))
    return statistics.median(times)


def median_seconds(run, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()

    engine = tarif.Engine.from_json(tarif.sample_document())
    rng = random.Random(42)
    accounts, skus = engine.accounts(), engine.skus()

    # Lines that price (status OK), so every contender does the same successful lookups.
    candidates = [(rng.choice(accounts), rng.choice(skus), rng.choice([1, 2, 5, 10, 20])) for _ in range(20_000)]
    status = engine.quote_many(*[list(c) for c in zip(*candidates)], at=AT).column("status").to_pylist()
    # One quantity per (account, sku) pair, so that a stored price is that line's price.
    valid = list({c[:2]: c for c, s in zip(candidates, status) if s == "OK"}.values())
    requests = valid[:1000]

    prices = {}
    for account, sku, qty in valid:
        prices[(account, sku)] = engine.quote(account, sku, qty, at=AT).unit_price
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE prices (account TEXT, sku TEXT, price TEXT, PRIMARY KEY (account, sku))")
    db.executemany("INSERT INTO prices VALUES (?, ?, ?)", [(a, s, str(p)) for (a, s), p in prices.items()])
    query = "SELECT price FROM prices WHERE account = ? AND sku = ?"

    warm = engine.quote(*requests[0], at=AT)
    assert warm.unit_price == prices[requests[0][:2]]
    single = {
        "tarif quote (full pricing, steps, Decimals)": per_call_ns(
            lambda r: engine.quote(r[0], r[1], r[2], at=AT).line_total, requests
        ),
        "python dict lookup": per_call_ns(lambda r: prices[(r[0], r[1])], requests),
        "sqlite in-memory prepared lookup": per_call_ns(
            lambda r: db.execute(query, (r[0], r[1])).fetchone(), requests
        ),
    }

    # 1M lines, built by sampling the valid lines (numpy, deterministic).
    n = args.lines
    pick = np.random.default_rng(7).integers(0, len(valid), n)
    columns = [list(c) for c in zip(*valid)]
    acc = np.array(columns[0], dtype=object)[pick]
    sku = np.array(columns[1], dtype=object)[pick]
    qty = np.array(columns[2], dtype=np.int64)[pick]
    table = pa.table({"account": pa.array(acc, pa.string()), "sku": pa.array(sku, pa.string()), "qty": qty})
    acc_list, sku_list, qty_list = acc.tolist(), sku.tolist(), qty.tolist()

    result = engine.quote_many(table, at=AT)
    assert result.column("status").to_pylist().count("OK") == n

    db.execute("CREATE TABLE lines (account TEXT, sku TEXT, qty INTEGER)")
    db.executemany("INSERT INTO lines VALUES (?, ?, ?)", zip(acc_list, sku_list, qty_list))
    batch = {
        "tarif quote_many (pyarrow Table in, Table out)": median_seconds(lambda: engine.quote_many(table, at=AT)),
        "tarif quote_many (Python lists in)": median_seconds(
            lambda: engine.quote_many(acc_list, sku_list, qty_list, at=AT)
        ),
        "python dict lookups (list comprehension)": median_seconds(
            lambda: [prices[k] for k in zip(acc_list, sku_list)]
        ),
        "sqlite in-memory join": median_seconds(
            lambda: db.execute(
                "SELECT p.price * l.qty FROM lines l JOIN prices p USING (account, sku)"
            ).fetchall()
        ),
    }

    print(f"tarif {tarif.__version__}, engine {engine.engine_version}, {len(skus)} products, "
          f"{len(accounts)} accounts, {os.cpu_count()} cores\n")
    print(f"{'single line':<52} {'median per call':>16}")
    for name, ns in single.items():
        print(f"{name:<52} {ns / 1000:>13.2f} µs")
    print(f"\n{f'{n:,} lines':<52} {'median time':>12} {'lines/s':>14}")
    for name, seconds in batch.items():
        print(f"{name:<52} {seconds:>10.3f} s {n / seconds:>14,.0f}")


if __name__ == "__main__":
    main()

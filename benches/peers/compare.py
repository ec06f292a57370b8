"""Tarif next to what users would pick instead, on the same data in the same run.

Every engine reprices the order lines of a data set written by `tarif-gen` under the subset of
the semantics SQL can express (an account's net price with tiers, else its segment's discount for
the product's root category on the list price with tiers) and quotes the first `--points` lines
one by one. Amounts are integer cents, so every peer computes exactly what Tarif's decimals do:
a discounted unit price is `(list * (10000 + hundredths) + 5000) // 10000`, half up.

Each engine runs in its own process so that its peak resident set is its own. The checksums (sum
of line totals in cents) of every engine must equal Tarif's before any timing is printed.

Tarif via Node (`benches/node/points.mjs`, when the release addon is built) quotes the same
first lines one by one from Node; it has no batch row.

The same run then compares the catalog queries (visibility, lookup, search, facets) of
`catalog.py`, whose answers must equal Tarif's too, when the `tarif` Python package is installed.

    python benches/peers/compare.py --data bench-data/small --reprice target/release/tarif-reprice
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

AT = "2026-06-01T10:00:00Z"
# DuckDB answers a point query in a fraction of a millisecond at best: it quotes only the first
# HEAD lines, and its checksum is compared with Tarif's over the same lines.
HEAD = 100
DISCOUNTED = "(lp.price_cents * (10000 + coalesce(d.percent_hundredths, 0)) + 5000) // 10000"


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(runs: int, work):
    """Median and all wall times of `runs` calls of `work`, and its last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def point_latencies(rows, quote):
    """Per-call nanoseconds and the sum of line totals of `quote` over `rows`."""
    latencies, total = [], 0
    for account, sku, qty in rows:
        start = time.perf_counter_ns()
        cents = quote(account, sku, qty)
        latencies.append(time.perf_counter_ns() - start)
        total += cents
    latencies.sort()
    return latencies, total


def percentile(sorted_values, p):
    return sorted_values[min(int(len(sorted_values) * p), len(sorted_values) - 1)]


def read_orders(data):
    import pyarrow.csv as pacsv

    return pacsv.read_csv(os.path.join(data, "orders.csv"))


def first_rows(orders, n):
    head = orders.slice(0, n).to_pydict()
    return list(zip(head["account"], head["sku"], head["qty"], strict=True))


def load_duckdb(con, data):
    for table in (
        "orders",
        "products",
        "list_prices",
        "account_prices",
        "accounts",
        "segment_discounts",
    ):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv_auto(?, header = true)",
            [os.path.join(data, f"{table}.csv")],
        )
    # The ART indexes a platform would declare for its point lookups.
    con.execute("CREATE INDEX account_prices_key ON account_prices (owner, sku)")
    con.execute("CREATE INDEX list_prices_key ON list_prices (sku)")
    con.execute("CREATE UNIQUE INDEX accounts_key ON accounts (account)")
    con.execute("CREATE UNIQUE INDEX products_key ON products (sku)")


def tier_case(alias, tiers):
    """The price of the tier `qty` reaches in a pivoted row: `q1, p1, …` by ascending quantity."""
    arms = " ".join(
        f"WHEN o.qty >= {alias}.q{i} THEN {alias}.p{i}" for i in range(tiers, 0, -1)
    )
    return f"CASE {arms} END"


def pivot_duckdb(con, table, key, tiers):
    """`table` with one row per key and its tiers as columns (q1, p1, q2, p2, …)."""
    columns = ", ".join(
        f"max(min_qty) FILTER (WHERE n = {i}) AS q{i}, max(price_cents) FILTER (WHERE n = {i}) AS p{i}"
        for i in range(1, tiers + 1)
    )
    con.execute(
        f"""CREATE TABLE {table}_wide AS
        SELECT {key}, {columns}
        FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY min_qty) AS n FROM {table})
        GROUP BY {key}"""
    )


def duckdb_batches(con):
    """The two formulations a competent analyst writes, by name: tiers found with an ASOF join,
    and tiers pivoted into columns once (like the indexes, before the clock starts) so that the
    batch is plain hash joins and a CASE."""
    tiers = con.execute(
        """SELECT max(n) FROM (
             SELECT count(*) AS n FROM list_prices GROUP BY sku
             UNION ALL SELECT count(*) FROM account_prices GROUP BY owner, sku)"""
    ).fetchone()[0]
    pivot_duckdb(con, "list_prices", "sku", tiers)
    pivot_duckdb(con, "account_prices", "owner, sku", tiers)
    asof = f"""
        CREATE OR REPLACE TEMP TABLE repriced AS
        SELECT o.account, o.sku, o.qty,
               o.qty * coalesce(ap.price_cents, {DISCOUNTED}) AS line_cents
        FROM orders o
        JOIN accounts acc ON acc.account = o.account
        JOIN products p ON p.sku = o.sku
        LEFT JOIN segment_discounts d ON d.segment = acc.segment AND d.root = p.root
        ASOF LEFT JOIN account_prices ap
            ON ap.owner = acc.owner AND ap.sku = o.sku AND o.qty >= ap.min_qty
        ASOF JOIN list_prices lp ON lp.sku = o.sku AND o.qty >= lp.min_qty"""
    discounted = DISCOUNTED.replace("lp.price_cents", f"({tier_case('lp', tiers)})")
    pivoted = f"""
        CREATE OR REPLACE TEMP TABLE repriced AS
        SELECT o.account, o.sku, o.qty,
               o.qty * coalesce({tier_case('ap', tiers)}, {discounted}) AS line_cents
        FROM orders o
        JOIN accounts acc ON acc.account = o.account
        JOIN products p ON p.sku = o.sku
        LEFT JOIN segment_discounts d ON d.segment = acc.segment AND d.root = p.root
        LEFT JOIN account_prices_wide ap ON ap.owner = acc.owner AND ap.sku = o.sku
        JOIN list_prices_wide lp ON lp.sku = o.sku"""
    return {"ASOF joins": asof, "tiers pivoted, hash joins": pivoted}


def peer_duckdb(args, formulation):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    load_duckdb(con, args.data)
    batch = duckdb_batches(con)[formulation]
    median, runs, _ = timed(args.repeat, lambda: con.execute(batch))
    (checksum, lines) = con.execute("SELECT sum(line_cents), count(*) FROM repriced").fetchone()
    if formulation != "ASOF joins":
        # The point query is the same for both: measured once, with the first formulation.
        return report(f"DuckDB ({formulation})", lines, checksum, median, runs)
    point = """
        SELECT $qty * coalesce(
            (SELECT price_cents FROM account_prices
             WHERE owner = acc.owner AND sku = $sku AND min_qty <= $qty
             ORDER BY min_qty DESC LIMIT 1),
            ((SELECT price_cents FROM list_prices WHERE sku = $sku AND min_qty <= $qty
              ORDER BY min_qty DESC LIMIT 1)
             * (10000 + coalesce((SELECT percent_hundredths FROM segment_discounts
                                  WHERE segment = acc.segment AND root = p.root), 0))
             + 5000) // 10000)
        FROM accounts acc, products p WHERE acc.account = $account AND p.sku = $sku"""
    rows = first_rows(read_orders(args.data), HEAD)
    latencies, point_sum = point_latencies(
        rows,
        lambda a, s, q: con.execute(point, {"account": a, "sku": s, "qty": q}).fetchone()[0],
    )
    return report(
        f"DuckDB ({formulation})", lines, checksum, median, runs, latencies, point_sum, HEAD
    )


def peer_polars(args):
    import polars as pl

    def read(name):
        return pl.read_csv(os.path.join(args.data, f"{name}.csv"))

    orders, products, accounts = read("orders"), read("products"), read("accounts")
    discounts = read("segment_discounts")
    list_prices = read("list_prices").sort("min_qty")
    account_prices = read("account_prices").sort("min_qty")

    def reprice():
        lines = (
            orders.lazy()
            .join(accounts.lazy(), on="account")
            .join(products.lazy(), on="sku")
            .join(discounts.lazy(), on=["segment", "root"], how="left")
            .sort("qty")
            .join_asof(
                account_prices.lazy(), left_on="qty", right_on="min_qty", by=["owner", "sku"]
            )
            .join_asof(
                list_prices.lazy().rename({"price_cents": "list_cents", "min_qty": "list_min"}),
                left_on="qty",
                right_on="list_min",
                by="sku",
            )
            .with_columns(
                discounted=(
                    pl.col("list_cents") * (10000 + pl.col("percent_hundredths").fill_null(0))
                    + 5000
                )
                // 10000
            )
            .select(
                "account",
                "sku",
                "qty",
                line_cents=pl.col("qty") * pl.coalesce("price_cents", "discounted"),
            )
        )
        return lines.collect()

    median, runs, out = timed(args.repeat, reprice)
    return report("Polars", out.height, int(out["line_cents"].sum()), median, runs)


def peer_pandas(args):
    import pandas as pd

    def read(name):
        return pd.read_csv(os.path.join(args.data, f"{name}.csv"))

    orders, products, accounts = read("orders"), read("products"), read("accounts")
    discounts = read("segment_discounts")
    list_prices = read("list_prices").rename(
        columns={"price_cents": "list_cents", "min_qty": "list_min"}
    )
    list_prices = list_prices.sort_values("list_min")
    account_prices = read("account_prices").sort_values("min_qty")

    def reprice():
        lines = orders.merge(accounts, on="account").merge(products, on="sku")
        lines = lines.merge(discounts, on=["segment", "root"], how="left").sort_values("qty")
        lines = pd.merge_asof(
            lines, account_prices, left_on="qty", right_on="min_qty", by=["owner", "sku"]
        )
        lines = pd.merge_asof(lines, list_prices, left_on="qty", right_on="list_min", by="sku")
        hundredths = lines["percent_hundredths"].fillna(0).astype("int64")
        discounted = (lines["list_cents"] * (10000 + hundredths) + 5000) // 10000
        unit = lines["price_cents"].fillna(discounted).astype("int64")
        return lines.assign(line_cents=lines["qty"] * unit)[["account", "sku", "qty", "line_cents"]]

    median, runs, out = timed(args.repeat, reprice)
    return report("pandas", len(out), int(out["line_cents"].sum()), median, runs)


def dict_tables(data):
    import pyarrow.csv as pacsv

    def rows(name):
        table = pacsv.read_csv(os.path.join(data, f"{name}.csv")).to_pydict()
        return zip(*table.values(), strict=True)

    accounts = {account: (owner, segment) for account, owner, segment in rows("accounts")}
    roots = dict(rows("products"))
    discounts = {(segment, root): pct for segment, root, pct in rows("segment_discounts")}
    list_prices, account_prices = {}, {}
    for sku, min_qty, cents in rows("list_prices"):
        list_prices.setdefault(sku, []).append((min_qty, cents))
    for owner, sku, min_qty, cents in rows("account_prices"):
        account_prices.setdefault((owner, sku), []).append((min_qty, cents))
    return accounts, roots, discounts, list_prices, account_prices


def peer_dict(args):
    accounts, roots, discounts, list_prices, account_prices = dict_tables(args.data)

    def tier(prices, qty):
        # Tiers are few and written in increasing order: the last one reached applies.
        cents = prices[0][1]
        for min_qty, price in prices:
            if min_qty <= qty:
                cents = price
        return cents

    def quote(account, sku, qty):
        owner, segment = accounts[account]
        net = account_prices.get((owner, sku))
        if net is not None:
            return qty * tier(net, qty)
        hundredths = discounts.get((segment, roots[sku]), 0)
        return qty * ((tier(list_prices[sku], qty) * (10000 + hundredths) + 5000) // 10000)

    orders = read_orders(args.data).to_pydict()
    columns = list(zip(orders["account"], orders["sku"], orders["qty"], strict=True))
    median, runs, checksum = timed(1, lambda: sum(quote(a, s, q) for a, s, q in columns))
    latencies, point_sum = point_latencies(columns[: args.points], quote)
    return report(
        "Python dict", len(columns), checksum, median, runs, latencies, point_sum, args.points
    )


def peer_sqlite(args):
    import sqlite3

    import pyarrow.csv as pacsv

    con = sqlite3.connect(":memory:")
    schema = {
        "accounts": "account TEXT PRIMARY KEY, owner TEXT, segment TEXT",
        "products": "sku TEXT PRIMARY KEY, root INTEGER",
        "segment_discounts": "segment TEXT, root INTEGER, percent_hundredths INTEGER, "
        "PRIMARY KEY (segment, root)",
        "list_prices": "sku TEXT, min_qty INTEGER, price_cents INTEGER, PRIMARY KEY (sku, min_qty)",
        "account_prices": "owner TEXT, sku TEXT, min_qty INTEGER, price_cents INTEGER, "
        "PRIMARY KEY (owner, sku, min_qty)",
    }
    for table, columns in schema.items():
        con.execute(f"CREATE TABLE {table} ({columns}) WITHOUT ROWID")
        data = pacsv.read_csv(os.path.join(args.data, f"{table}.csv")).to_pydict()
        marks = ",".join("?" * len(data))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", zip(*data.values(), strict=True))
    point = """
        SELECT ?3 * coalesce(
            (SELECT price_cents FROM account_prices
             WHERE owner = acc.owner AND sku = ?2 AND min_qty <= ?3 ORDER BY min_qty DESC LIMIT 1),
            ((SELECT price_cents FROM list_prices WHERE sku = ?2 AND min_qty <= ?3
              ORDER BY min_qty DESC LIMIT 1)
             * (10000 + coalesce((SELECT percent_hundredths FROM segment_discounts
                                  WHERE segment = acc.segment AND root = p.root), 0))
             + 5000) / 10000)
        FROM accounts acc, products p WHERE acc.account = ?1 AND p.sku = ?2"""
    rows = first_rows(read_orders(args.data), args.points)
    # sqlite3 keeps the compiled statement in its cache: every call after the first is prepared.
    latencies, point_sum = point_latencies(
        rows, lambda a, s, q: con.execute(point, (a, s, q)).fetchone()[0]
    )
    return report("SQLite (in-memory)", None, None, None, None, latencies, point_sum, args.points)


def peer_tarif_python(args):
    import tarif

    engine = tarif.Engine.from_path(os.path.join(args.data, "rules-subset.json"))
    orders = read_orders(args.data).select(["account", "sku", "qty"])
    accounts, skus, qtys = (orders.column(c) for c in ("account", "sku", "qty"))
    median, runs, out = timed(args.repeat, lambda: engine.quote_many(accounts, skus, qtys, at=AT))
    totals = out.column("line_total").to_pylist()
    checksum = int(sum(t for t in totals if t is not None) * 100)
    rows = first_rows(orders, args.points)
    latencies, point_sum = point_latencies(
        rows, lambda a, s, q: int(engine.quote(a, s, q, at=AT).line_total * 100)
    )
    return report(
        "Tarif via Python", len(totals), checksum, median, runs, latencies, point_sum, args.points
    )


PEERS = {
    "duckdb": lambda args: peer_duckdb(args, "ASOF joins"),
    "duckdb-pivoted": lambda args: peer_duckdb(args, "tiers pivoted, hash joins"),
    "polars": peer_polars,
    "pandas": peer_pandas,
    "dict": peer_dict,
    "sqlite": peer_sqlite,
    "tarif-python": peer_tarif_python,
}


def report(engine, lines, checksum, median, runs, latencies=None, point_sum=None, point_rows=None):
    return {
        "point_rows": point_rows,
        "engine": engine,
        "lines": lines,
        "checksum_cents": None if checksum is None else str(checksum),
        "batch_median_s": median,
        "batch_runs_s": runs,
        "point_p50_ns": latencies and percentile(latencies, 0.5),
        "point_p99_ns": latencies and percentile(latencies, 0.99),
        "point_checksum_cents": None if point_sum is None else str(point_sum),
        "peak_rss_bytes": peak_rss(),
    }


def run_child(command, env=None):
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tarif_rust(args):
    reports = []
    for threads in (1, 2):
        out = run_child(
            [
                args.reprice,
                "--rules",
                os.path.join(args.data, "rules-subset.json"),
                "--orders",
                os.path.join(args.data, "orders.csv"),
                "--threads",
                str(threads),
                "--repeat",
                str(args.repeat),
                "--points",
                str(args.points),
                "--head",
                str(HEAD),
            ]
        )
        out["engine"] = f"Tarif (Rust, {threads} thread{'s' if threads > 1 else ''})"
        out["point_rows"] = args.points
        reports.append(out)
    return reports


def tarif_node(args):
    """The Node peer's report, or none when node or the release addon is missing."""
    here = os.path.dirname(os.path.abspath(__file__))
    addon = os.path.join(here, "..", "..", "bindings-node", "tarif.linux-x64-gnu.node")
    if shutil.which("node") is None or not os.path.exists(addon):
        print("node or the Node addon (bindings-node: npm run build) missing: skipped", file=sys.stderr)
        return []
    script = os.path.join(here, "..", "node", "points.mjs")
    command = ["node", script, "--data", args.data, "--points", str(args.points), "--at", AT]
    return [run_child(command)]


def fmt_ns(ns):
    if ns is None:
        return ""
    return f"{ns / 1000:.2f} µs" if ns < 1_000_000 else f"{ns / 1e6:.2f} ms"


def table(reports, tarif_batch, tarif_point):
    columns = ["engine", "batch median", "lines/s", "vs Tarif", "point p50", "point p99"]
    columns += ["vs Tarif", "peak RSS"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in reports:
        batch = r["batch_median_s"]
        rate = f"{r['lines'] / batch / 1e6:.2f} M" if batch else ""
        ratio = f"{batch / tarif_batch:.1f}×" if batch else ""
        p50 = r["point_p50_ns"]
        point_ratio = f"{p50 / tarif_point:.1f}×" if p50 else ""
        cells = [
            r["engine"],
            f"{batch:.3f} s" if batch else "",
            rate,
            ratio,
            fmt_ns(p50),
            fmt_ns(r["point_p99_ns"]),
            point_ratio,
            f"{r['peak_rss_bytes'] / 2**20:.0f} MiB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="directory written by tarif-gen")
    parser.add_argument("--reprice", help="the tarif-reprice binary")
    parser.add_argument("--threads", type=int, default=2, help="threads of DuckDB and Polars")
    parser.add_argument("--repeat", type=int, default=3, help="batch runs per engine (median)")
    parser.add_argument("--points", type=int, default=10_000, help="lines quoted one by one")
    parser.add_argument("--peers", help="comma-separated peers to run (default: all)")
    parser.add_argument("--json", help="also write every report to this file (for chart.py)")
    parser.add_argument("--peer", choices=sorted(PEERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(PEERS[args.peer](args)))
        return
    if not args.reprice:
        parser.error("--reprice is required")

    reports = tarif_rust(args)
    env = dict(os.environ, POLARS_MAX_THREADS=str(args.threads))
    child = [sys.executable, __file__, "--data", args.data, "--threads", str(args.threads)]
    child += ["--repeat", str(args.repeat), "--points", str(args.points)]
    try:
        import tarif  # noqa: F401

        with_binding = True
    except ImportError:
        print("tarif (Python) is not installed in this environment: skipped", file=sys.stderr)
        with_binding = False
    chosen = args.peers.split(",") if args.peers else list(PEERS)
    chosen = [p for p in chosen if p != "tarif-node"]
    unknown = [p for p in chosen if p not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; known: {', '.join(PEERS)}, tarif-node")
    for peer in chosen:
        if peer == "tarif-python" and not with_binding:
            continue
        reports.append(run_child(child + ["--peer", peer], env))
    if not args.peers or "tarif-node" in args.peers.split(","):
        reports.extend(tarif_node(args))

    tarif = reports[0]
    expected = tarif["checksum_cents"]
    expected_points = {
        args.points: tarif["point_checksum_cents"],
        HEAD: tarif["point_head_checksum_cents"],
    }
    wrong = [
        f"{r['engine']}: batch {r['checksum_cents']}, "
        f"{r['point_rows']} points {r['point_checksum_cents']}"
        for r in reports
        if r["checksum_cents"] not in (None, expected)
        or (r["point_rows"] and r["point_checksum_cents"] != expected_points[r["point_rows"]])
    ]
    if wrong:
        raise SystemExit(
            f"checksums differ from Tarif's (batch {expected}, points {expected_points}):\n"
            + "\n".join(wrong)
        )
    lines = reports[0]["lines"]
    print(
        f"{lines} order lines, checksum {int(expected) / 100:.2f} EUR, equal in every engine; "
        f"first {args.points} lines (DuckDB: {HEAD}) quoted one by one, checksums equal too"
    )
    tarif_batch = next(r["batch_median_s"] for r in reports if "2 threads" in r["engine"])
    print(table(reports, tarif_batch, reports[0]["point_p50_ns"]))
    duckdb = [r for r in reports if r["engine"].startswith("DuckDB") and r["batch_median_s"]]
    if duckdb:
        fastest = min(duckdb, key=lambda r: r["batch_median_s"])
        ratio = fastest["batch_median_s"] / tarif_batch
        print(
            f"\nFastest DuckDB formulation: {fastest['engine']}, "
            f"{fastest['batch_median_s']:.3f} s; Tarif (Rust, 2 threads) is "
            + (f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower")
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"data": args.data, "reports": reports}, out, indent=1)
    if with_binding:
        import catalog

        print("\nCatalog queries (Tarif via Python on the full rules.json):")
        print(catalog.run(args.data, args.threads, args.points))


if __name__ == "__main__":
    main()

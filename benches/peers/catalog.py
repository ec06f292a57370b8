"""Tarif's catalog queries next to DuckDB and SQLite, on the same `tarif-gen` data in the same run.

The peers get exactly the `see` semantics of the full `rules.json`: a closed catalog, each segment
allowed its visible root categories, and per-account exceptions allowing or denying one SKU, which
an account's subsidiaries inherit. For one (account, product) the nearest level of the account's
chain (itself, then parent, grandparent…) holding an exception for the product decides, deny
winning over allow at that level; without one, the segment's assortment decides. The `buy` denials
on brands do not concern `see` and are left out.

The CSVs of `tarif-gen` do not carry attributes, EANs, hierarchies or visibility rules, so the
peers' tables are derived once from `rules.json` into a temporary directory that every engine's
process reads. Each engine runs in its own process; its answers (visible count over the sampled
pairs, SKUs answered by lookup, first-page SKUs and totals, facet counts) must equal Tarif's
before any time is printed.

    python benches/peers/catalog.py --data bench-data/small
"""

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

COLORS = ["black", "blue", "green", "grey", "orange", "red", "white", "yellow"]
ROOTS = 20
# DuckDB answers a point query in a fraction of a millisecond at best: it answers only the first
# HEAD sampled pairs, compared with Tarif's answers on the same pairs.
HEAD = 100
PAGE = 20
TABLES = {
    "products": "sku,ean,brand,root,color,voltage,material",
    "chain": "account,ancestor,depth",
    "exceptions": "account,sku,allowed",
    "segment_roots": "segment,root",
    "accounts": "account,segment",
}


def derive(data, out):
    """Writes the peers' tables of `rules.json` into `out`; returns what the samples draw from:
    SKUs, EANs, account ids, exceptions and each account's subsidiaries."""
    with open(os.path.join(data, "rules.json"), "rb") as f:
        doc = json.load(f)
    with open(os.path.join(out, "products.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TABLES["products"].split(","))
        for p in doc["products"]:
            a = p["attrs"]
            root = int(p["categories"][0][4:6])
            w.writerow(
                [p["sku"], p["ean"], p["brand"], root, a["color"], a["voltage"], a["material"]]
            )
    parents, segment_of = {}, {}
    for a in doc["accounts"]:
        parents[a["id"]] = a.get("parent")
        if "segments" in a:
            (segment_of[a["id"]],) = a["segments"]
    chains = {}
    for account in parents:
        chain, at = [], account
        while at is not None:
            chain.append(at)
            at = parents[at]
        chains[account] = chain
    exceptions, segment_roots = [], []
    for c in doc["contracts"]:
        if c["id"].startswith("seg-"):
            (segment,) = c["audience"]["segments"]
            for rule in c.get("visibility", []):
                if rule["effect"] == "allow" and "category" in rule["products"]:
                    segment_roots.append((segment, int(rule["products"]["category"][4:6])))
        elif c["id"].startswith("exc-"):
            (account,) = c["audience"]["accounts"]
            for rule in c["visibility"]:
                exceptions.append((account, rule["products"]["sku"], rule["effect"] == "allow"))
    skus = [p["sku"] for p in doc["products"]]
    eans = [p["ean"] for p in doc["products"]]
    del doc
    rows = {
        "chain": [(a, anc, d) for a, chain in chains.items() for d, anc in enumerate(chain)],
        "exceptions": exceptions,
        "segment_roots": segment_roots,
        "accounts": [(a, segment_of[chain[-1]]) for a, chain in chains.items()],
    }
    for table, values in rows.items():
        with open(os.path.join(out, f"{table}.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(TABLES[table].split(","))
            w.writerows(values)
    children = {}
    for account, parent in parents.items():
        if parent is not None:
            children.setdefault(parent, []).append(account)
    return skus, eans, list(parents), exceptions, children


def samples(data, derived, points, searches):
    """The queries every engine answers, drawn from a fixed seed and written to `derived`."""
    skus, eans, accounts, exceptions, children = derive(data, derived)
    rng = random.Random(6)
    # Half the pairs hit an exception (at the account or at a subsidiary that inherits it): random
    # pairs alone would almost never exercise them.
    visibility = []
    for i in range(points):
        if i % 2:
            account, sku, _ = rng.choice(exceptions)
            while children.get(account) and rng.random() < 0.5:
                account = rng.choice(children[account])
            visibility.append((account, sku))
        else:
            visibility.append((rng.choice(accounts), rng.choice(skus)))
    # Lookups by the EAN of a product the account ordered: mostly visible, some hidden.
    ean_of = dict(zip(skus, eans, strict=True))
    with open(os.path.join(data, "orders.csv")) as f:
        reader = csv.reader(f)
        next(reader)
        lookup = [(row[0], ean_of[row[1]]) for _, row in zip(range(points), reader)]
    queries = [
        (rng.choice(accounts), sorted(rng.sample(COLORS, 2)), rng.randrange(ROOTS))
        for _ in range(searches)
    ]
    with open(os.path.join(derived, "samples.json"), "w") as f:
        json.dump({"visibility": visibility, "lookup": lookup, "search": queries}, f)


def load_samples(args):
    with open(os.path.join(args.derived, "samples.json")) as f:
        return json.load(f)


def point_latencies(pairs, answer):
    latencies, answers = [], []
    for a, b in pairs:
        start = time.perf_counter_ns()
        result = answer(a, b)
        latencies.append(time.perf_counter_ns() - start)
        answers.append(result)
    latencies.sort()
    return latencies, answers


def query_times(queries, run):
    times, answers = [], []
    for query in queries:
        start = time.perf_counter_ns()
        result = run(*query)
        times.append(time.perf_counter_ns() - start)
        answers.append(result)
    times.sort()
    return times, answers


def digest(answers):
    return hashlib.sha256(json.dumps(answers).encode()).hexdigest()[:16]


def result(engine, query, latencies, answers, rows):
    return {
        "engine": engine,
        "query": query,
        "rows": rows,
        "median_ns": statistics.median(latencies),
        "p99_ns": latencies[min(int(len(latencies) * 0.99), len(latencies) - 1)],
        "answers": answers,
    }


def peer_tarif(args):
    import tarif

    s = load_samples(args)
    engine = tarif.Engine.from_path(os.path.join(args.data, "rules.json"))
    out = []
    lat, ans = point_latencies(s["visibility"], lambda a, k: engine.visibility(a, k).see)
    out.append(result("Tarif via Python", "visibility", lat, ans, len(ans)))

    def lookup(account, ean):
        try:
            return engine.lookup(account, ean)
        except tarif.QuoteError as error:
            if error.code != "UNKNOWN_PRODUCT":
                raise
            return None

    lat, ans = point_latencies(s["lookup"], lookup)
    out.append(result("Tarif via Python", "lookup (EAN)", lat, ans, len(ans)))

    def page(account, colors, root):
        filters = [{"attr": "color", "any_of": colors}, {"category": f"cat-{root:02}"}]
        p = engine.search(account, filters=filters, limit=PAGE)
        return [p.total, p.skus()]

    lat, ans = query_times(s["search"], page)
    out.append(result("Tarif via Python", "search first page", lat, ans, len(ans)))

    def facet(account, colors, root):
        filters = [{"attr": "color", "any_of": colors}, {"category": f"cat-{root:02}"}]
        p = engine.search(account, filters=filters, facets=[{"attr": "material"}], limit=0)
        return sorted(p.facet("material").items())

    lat, ans = query_times(s["search"], facet)
    out.append(result("Tarif via Python", "facet counts (material)", lat, ans, len(ans)))
    return out


# The exceptions of the nearest level of the chain holding one for the SKU decide, deny winning.
EXCEPTION = """
    (SELECT bool_and(e.allowed) FROM exceptions e JOIN chain c ON e.account = c.ancestor
     WHERE c.account = {account} AND e.sku = {sku} GROUP BY c.depth ORDER BY c.depth LIMIT 1)"""
ASSORTMENT = """
    EXISTS (SELECT 1 FROM products {p} JOIN accounts a ON a.account = {account}
            JOIN segment_roots r ON r.segment = a.segment AND r.root = {p}.root
            WHERE {p}.sku = {sku})"""

VISIBLE_SET = """
    WITH decided AS (
        SELECT e.sku, c.depth, bool_and(e.allowed) AS allowed
        FROM exceptions e JOIN chain c ON e.account = c.ancestor
        WHERE c.account = $account GROUP BY ALL),
    exception AS (SELECT sku, arg_min(allowed, depth) AS allowed FROM decided GROUP BY sku),
    visible AS (
        SELECT p.* FROM products p LEFT JOIN exception x USING (sku)
        WHERE coalesce(x.allowed, p.root IN (
            SELECT r.root FROM segment_roots r JOIN accounts a USING (segment)
            WHERE a.account = $account)))"""


def peer_duckdb(args):
    import duckdb

    s = load_samples(args)
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    for table in TABLES:
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true)",
            [os.path.join(args.derived, f"{table}.csv")],
        )
    # The ART indexes a platform would declare for its point queries.
    con.execute("CREATE UNIQUE INDEX products_key ON products (sku)")
    con.execute("CREATE UNIQUE INDEX accounts_key ON accounts (account)")
    con.execute("CREATE INDEX chain_key ON chain (account)")
    con.execute("CREATE INDEX exceptions_key ON exceptions (account, sku)")
    # A PREPARE'd statement run with EXECUTE measured no faster than a parameterised execute.
    point = con.cursor()
    point_sql = "SELECT coalesce({}, {})".format(
        EXCEPTION.format(account="$account", sku="$sku"),
        ASSORTMENT.format(account="$account", sku="$sku", p="p"),
    )
    out = []
    lat, ans = point_latencies(
        s["visibility"][:HEAD],
        lambda a, k: point.execute(point_sql, {"account": a, "sku": k}).fetchone()[0],
    )
    out.append(result("DuckDB", "visibility", lat, ans, len(ans)))
    page_sql = f"""{VISIBLE_SET}
        SELECT sku, count(*) OVER () FROM visible
        WHERE color IN (SELECT unnest($colors)) AND root = $root ORDER BY sku LIMIT {PAGE}"""

    def page(account, colors, root):
        rows = con.execute(page_sql, {"account": account, "colors": colors, "root": root})
        rows = rows.fetchall()
        return [rows[0][1] if rows else 0, [r[0] for r in rows]]

    lat, ans = query_times(s["search"], page)
    out.append(result("DuckDB", "search first page", lat, ans, len(ans)))
    facet_sql = f"""{VISIBLE_SET}
        SELECT material, count(*) FROM visible
        WHERE color IN (SELECT unnest($colors)) AND root = $root
        GROUP BY material ORDER BY material"""

    def facet(account, colors, root):
        rows = con.execute(facet_sql, {"account": account, "colors": colors, "root": root})
        return [list(r) for r in rows.fetchall()]

    lat, ans = query_times(s["search"], facet)
    out.append(result("DuckDB", "facet counts (material)", lat, ans, len(ans)))
    return out


def peer_sqlite(args):
    import sqlite3

    s = load_samples(args)
    con = sqlite3.connect(":memory:")
    schema = {
        "products": "sku TEXT PRIMARY KEY, ean TEXT, brand TEXT, root INTEGER, color TEXT, "
        "voltage INTEGER, material TEXT",
        "chain": "account TEXT, ancestor TEXT, depth INTEGER, PRIMARY KEY (account, depth)",
        "exceptions": "account TEXT, sku TEXT, allowed INTEGER",
        "segment_roots": "segment TEXT, root INTEGER, PRIMARY KEY (segment, root)",
        "accounts": "account TEXT PRIMARY KEY, segment TEXT",
    }
    for table, columns in schema.items():
        rowid = "" if table == "exceptions" else " WITHOUT ROWID"
        con.execute(f"CREATE TABLE {table} ({columns}){rowid}")
        with open(os.path.join(args.derived, f"{table}.csv")) as f:
            reader = csv.reader(f)
            marks = ",".join("?" * len(next(reader)))
            rows = reader
            # Stored as 0/1: SQLite has no bool_and, and min() over a level is "deny wins".
            if table == "exceptions":
                rows = ((a, k, allowed == "True") for a, k, allowed in reader)
            con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    con.execute("CREATE INDEX products_ean ON products (ean)")
    con.execute("CREATE INDEX exceptions_key ON exceptions (account, sku)")
    plain = "SELECT sku FROM products WHERE ean = ?"
    visible = "SELECT p.sku, coalesce({}, {}) FROM products p WHERE p.ean = ?2".format(
        EXCEPTION.format(account="?1", sku="p.sku").replace("bool_and", "min"),
        ASSORTMENT.format(account="?1", sku="p.sku", p="q"),
    )

    def lookup(account, ean):
        row = con.execute(visible, (account, ean)).fetchone()
        return row[0] if row and row[1] else None

    point = "SELECT coalesce({}, {})".format(
        EXCEPTION.format(account="?1", sku="?2").replace("bool_and", "min"),
        ASSORTMENT.format(account="?1", sku="?2", p="p"),
    )
    # sqlite3 keeps the compiled statements in its cache: every call after the first is prepared.
    out = []
    lat, ans = point_latencies(
        s["visibility"], lambda a, k: bool(con.execute(point, (a, k)).fetchone()[0])
    )
    out.append(result("SQLite (in-memory)", "visibility", lat, ans, len(ans)))
    lat, ans = point_latencies(s["lookup"], lookup)
    out.append(result("SQLite (in-memory)", "lookup (EAN)", lat, ans, len(ans)))
    lat, ans = point_latencies(
        s["lookup"], lambda _, ean: con.execute(plain, (ean,)).fetchone()[0]
    )
    out.append(result("SQLite, EAN index only", "lookup (EAN)", lat, ans, len(ans)))
    return out


PEERS = {"tarif": peer_tarif, "duckdb": peer_duckdb, "sqlite": peer_sqlite}


def fmt_ns(ns):
    return f"{ns / 1000:.2f} µs" if ns < 1_000_000 else f"{ns / 1e6:.2f} ms"


def check(results):
    """Every engine's answers equal Tarif's on the queries it ran; a message per difference."""
    tarif = {r["query"]: r["answers"] for r in results if r["engine"].startswith("Tarif")}
    wrong = []
    for r in results:
        expected = tarif[r["query"]][: r["rows"]]
        if r["engine"] == "SQLite, EAN index only":
            # It does not check visibility: it must agree wherever Tarif finds the product.
            got = [a if e is not None else None for a, e in zip(r["answers"], expected)]
        else:
            got = r["answers"]
        if got != expected:
            wrong.append(f"{r['engine']} {r['query']}: {digest(got)} != Tarif's {digest(expected)}")
    return wrong


def summary(results):
    tarif = {r["query"]: r["answers"] for r in results if r["engine"].startswith("Tarif")}
    visible = sum(tarif["visibility"])
    found = sum(a is not None for a in tarif["lookup (EAN)"])
    pages = tarif["search first page"]
    return (
        f"answers equal in every engine: visibility {visible} visible of {len(tarif['visibility'])}"
        f" pairs (DuckDB: first {HEAD}, {sum(tarif['visibility'][:HEAD])} visible); lookup "
        f"{found} found of {len(tarif['lookup (EAN)'])}; {len(pages)} searches, totals "
        f"{sum(p[0] for p in pages)}, first pages digest {digest(pages)}; facet counts digest "
        f"{digest(tarif['facet counts (material)'])}"
    )


def table(results):
    tarif = {r["query"]: r["median_ns"] for r in results if r["engine"].startswith("Tarif")}
    columns = ["query", "engine", "queries", "median", "p99", "vs Tarif"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    order = list(tarif)
    for r in sorted(results, key=lambda r: order.index(r["query"])):
        point = r["query"] in ("visibility", "lookup (EAN)")
        cells = [
            r["query"],
            r["engine"],
            str(r["rows"]),
            fmt_ns(r["median_ns"]),
            fmt_ns(r["p99_ns"]) if point else "",
            f"{r['median_ns'] / tarif[r['query']]:.1f}×",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(data, threads=2, points=10_000, searches=100):
    """Derives the tables, runs every engine in its own process, checks, returns the report."""
    derived = tempfile.mkdtemp(prefix="tarif-catalog-")
    try:
        samples(data, derived, points, searches)
        results = []
        for peer in PEERS:
            command = [sys.executable, __file__, "--data", data, "--derived", derived]
            command += ["--threads", str(threads), "--peer", peer]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
            results += json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(derived)
    wrong = check(results)
    if wrong:
        raise SystemExit("catalog answers differ from Tarif's:\n" + "\n".join(wrong))
    return summary(results) + "\n" + table(results)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="directory written by tarif-gen")
    parser.add_argument("--threads", type=int, default=2, help="threads of DuckDB")
    parser.add_argument("--points", type=int, default=10_000, help="point queries per kind")
    parser.add_argument("--searches", type=int, default=100, help="search and facet queries")
    parser.add_argument("--derived", help=argparse.SUPPRESS)
    parser.add_argument("--peer", choices=sorted(PEERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        print(json.dumps(PEERS[args.peer](args)))
        return
    print(run(args.data, args.threads, args.points, args.searches))


if __name__ == "__main__":
    main()

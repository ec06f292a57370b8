"""Three scenarios over the order history: `tarif.simulate` next to DuckDB SQL, same data, same run.

The data is `tarif-gen`'s, under the subset of the semantics SQL expresses (compare.py). The base
and two scenarios — one segment's discount on one root category five points deeper, another
segment's on another root — reprice every order line and total the revenue per scenario and
segment. DuckDB gets its fastest formulation: tiers pivoted into columns before the clock, the
scenarios as a table crossed with the orders, hash joins and one GROUP BY. Tarif prices the lines
under each engine (the scenarios applied before the clock, as DuckDB's tables are loaded) and
aggregates them three ways: by segment alone (`by=["segment"]`, what the SQL computes), by
account, root, segment, category, brand and rule (every grouping), and every grouping with the
per-line table. Revenue per scenario and segment must be equal to the cent in every engine
before any timing is printed. Then `tarif.dask.simulate` on a LocalCluster of
1 and 2 worker processes.

    python benches/peers/simulate.py --data bench-data/medium
    python benches/peers/simulate.py --data bench-data/medium --write-scenarios scenarios.json
"""

import argparse
import json
import os
import statistics
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
from compare import AT, DISCOUNTED, load_duckdb, pivot_duckdb, read_orders, tier_case  # noqa: E402


def timed(runs, work):
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def ordered_roots(data, orders):
    """The (segment, root category) pairs some order line falls in: a scenario on a pair no line
    falls in reprices nothing (on `medium`, resellers order nothing from cat-00)."""
    import pyarrow.csv as pacsv

    accounts = pacsv.read_csv(os.path.join(data, "accounts.csv")).select(["account", "segment"])
    products = pacsv.read_csv(os.path.join(data, "products.csv")).select(["sku", "root"])
    lines = orders.select(["account", "sku"]).join(accounts, "account").join(products, "sku")
    pairs = lines.group_by(["segment", "root"]).aggregate([]).to_pylist()
    return {(p["segment"], p["root"]) for p in pairs}


def scenarios_of(document, ordered):
    """Two segment discounts (segment, root category, hundredths) on root categories the
    segment's accounts order from, and the changes that deepen each by five points."""
    picked = []
    for contract in document["contracts"]:
        if not contract["id"].startswith("seg-"):
            continue
        for rule in contract.get("rules", []):
            category = rule.get("products", {}).get("category", "")
            # Root categories are `cat-NN`, the `root` column of the tables NN.
            root = int(category.removeprefix("cat-")) if category.startswith("cat-") else None
            if "percent" in rule and (contract["id"][4:], root) in ordered:
                picked.append((contract, rule))
                break
        if len(picked) == 2:
            break
    out = {}
    for contract, rule in picked:
        percent = Decimal(rule["percent"]) - 5
        deeper = dict(rule, percent=str(percent), contract=contract["id"])
        name = f"{contract['id'][4:]}-{rule['products']['category']}-5"
        out[name] = {
            "segment": contract["id"][4:],
            # Root categories are `cat-NN`, the `root` column of the tables NN.
            "root": int(rule["products"]["category"].removeprefix("cat-")),
            "hundredths": int(percent * 100),
            "changes": {"format": "tarif/1-changes", "upsert": {"rules": [deeper]}},
        }
    return out


def run_tarif(args, scenarios, orders):
    """By segment alone (what the SQL computes), every grouping, then every grouping with the
    per-line table: each one's median and revenue in cents per (scenario, segment)."""
    import tarif

    base = tarif.Engine.from_path(os.path.join(args.data, "rules-subset.json"))
    engines = {name: base.apply(s["changes"]) for name, s in scenarios.items()}
    out = []
    for by, per_line in ((["segment"], False), (None, False), (None, True)):
        median, sim = timed(args.repeat, lambda: tarif.simulate(base, engines, orders, at=AT, per_line=per_line, by=by))
        revenue = {(g["scenario"], g["key"]): int(g["revenue"] * 100) for g in sim.groups.to_pylist() if g["by"] == "segment"}
        out.append((median, revenue))
        del sim
    return out, len(orders)


def run_duckdb(args, scenarios):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    load_duckdb(con, args.data)
    tiers = con.execute(
        """SELECT max(n) FROM (
             SELECT count(*) AS n FROM list_prices GROUP BY sku
             UNION ALL SELECT count(*) FROM account_prices GROUP BY owner, sku)"""
    ).fetchone()[0]
    pivot_duckdb(con, "list_prices", "sku", tiers)
    pivot_duckdb(con, "account_prices", "owner, sku", tiers)
    # Every scenario's discount table, the base's rows changed where the scenario says.
    con.execute("CREATE TABLE scenario_discounts AS SELECT 'base' AS scenario, * FROM segment_discounts")
    for name, s in scenarios.items():
        con.execute(
            """INSERT INTO scenario_discounts
               SELECT ?, segment, root,
                      CASE WHEN segment = ? AND root = ? THEN ? ELSE percent_hundredths END
               FROM segment_discounts""",
            [name, s["segment"], s["root"], s["hundredths"]],
        )
    discounted = DISCOUNTED.replace("lp.price_cents", f"({tier_case('lp', tiers)})")
    query = f"""
        SELECT d_s.scenario, acc.segment,
               sum(o.qty * coalesce({tier_case('ap', tiers)}, {discounted})) AS cents
        FROM orders o
        CROSS JOIN (SELECT DISTINCT scenario FROM scenario_discounts) d_s
        JOIN accounts acc ON acc.account = o.account
        JOIN products p ON p.sku = o.sku
        LEFT JOIN scenario_discounts d
            ON d.scenario = d_s.scenario AND d.segment = acc.segment AND d.root = p.root
        LEFT JOIN account_prices_wide ap ON ap.owner = acc.owner AND ap.sku = o.sku
        JOIN list_prices_wide lp ON lp.sku = o.sku
        GROUP BY ALL"""
    median, rows = timed(args.repeat, lambda: con.execute(query).fetchall())
    return median, {(scenario, segment): int(cents) for scenario, segment, cents in rows}


def run_dask(args, scenarios, orders, workers):
    import dask.dataframe as dd
    import distributed

    import tarif.dask as tdask

    frame = orders.to_pandas()
    changes = {name: s["changes"] for name, s in scenarios.items()}
    rules = os.path.join(args.data, "rules-subset.json")
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=2 // workers or 1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster):
            lines = dd.from_pandas(frame, npartitions=8 * workers)
            # The first run compiles the rules in each worker; the median is over warm runs.
            tdask.simulate(lines, rules, changes, at=AT)
            median, sim = timed(args.repeat, lambda: tdask.simulate(lines, rules, changes, at=AT))
    segments = sim.groups[sim.groups["by"] == "segment"]
    return median, {(g["scenario"], g["key"]): int(g["revenue"] * 100) for _, g in segments.iterrows()}


def lines_and_scenarios(data):
    """The order lines (account, sku, qty) of `data` and the scenarios picked for them."""
    with open(os.path.join(data, "rules-subset.json")) as f:
        document = json.load(f)
    orders = read_orders(data).select(["account", "sku", "qty"])
    return orders, scenarios_of(document, ordered_roots(data, orders))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dask", default="1,2", help="worker counts for tarif.dask ('' to skip)")
    parser.add_argument("--write-scenarios", metavar="FILE", help="only write the scenarios' changes (name → document) for tarif-simulate")
    args = parser.parse_args()
    orders, scenarios = lines_and_scenarios(args.data)
    if args.write_scenarios:
        with open(args.write_scenarios, "w") as f:
            json.dump({name: s["changes"] for name, s in scenarios.items()}, f, indent=1)
        return
    ((tarif_s, tarif_revenue), (every_s, every_revenue), (lines_s, lines_revenue)), lines = run_tarif(args, scenarios, orders)
    duck_s, duck_revenue = run_duckdb(args, scenarios)
    if not duck_revenue == tarif_revenue == every_revenue == lines_revenue:
        raise SystemExit(f"revenue per scenario and segment differs: tarif {tarif_revenue} / {every_revenue} / {lines_revenue}, duckdb {duck_revenue}")
    work = lines * (1 + len(scenarios))
    per_scenario = {}
    for (scenario, _segment), cents in tarif_revenue.items():
        per_scenario[scenario] = per_scenario.get(scenario, 0) + cents
    print(f"{lines} order lines × {1 + len(scenarios)} scenarios ({', '.join(scenarios)}); revenue per scenario and segment equal to the cent, per scenario:")
    for name, cents in per_scenario.items():
        print(f"  {name:<28} {cents / 100:>18,.2f} EUR")
    print(f"\n| engine | median | lines × scenarios / s | vs Tarif |\n|---|---|---|---|")
    print(f"| tarif.simulate, by segment, groups alone (`by=[\"segment\"]`, `per_line=False`, Python, {args.threads} threads) | {tarif_s:.2f} s | {work / tarif_s / 1e6:.2f}M | 1.00 |")
    print(f"| tarif.simulate, every grouping, groups alone (`per_line=False`) | {every_s:.2f} s | {work / every_s / 1e6:.2f}M | {every_s / tarif_s:.2f}× by segment |")
    print(f"| tarif.simulate, every grouping and the per-line table | {lines_s:.2f} s | {work / lines_s / 1e6:.2f}M | {lines_s / tarif_s:.2f}× by segment |")
    print(f"| DuckDB, pivoted tiers, scenarios crossed, by segment ({args.threads} threads) | {duck_s:.2f} s | {work / duck_s / 1e6:.2f}M | {tarif_s / duck_s:.2f}× {'faster' if duck_s < tarif_s else 'slower'} |")
    for workers in [int(w) for w in args.dask.split(",") if w]:
        dask_s, dask_revenue = run_dask(args, scenarios, orders, workers)
        if dask_revenue != tarif_revenue:
            raise SystemExit(f"dask revenue differs: {dask_revenue}")
        print(f"| tarif.dask.simulate, LocalCluster of {workers} | {dask_s:.2f} s | {work / dask_s / 1e6:.2f}M | overhead {dask_s / tarif_s:.2f}× |")


if __name__ == "__main__":
    main()

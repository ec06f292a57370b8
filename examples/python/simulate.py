"""What if we gave installers or resellers two more points on tools, or raised the list 3 %? A
data team's notebook.

1. The sample distributor's rules, and a year of its order history (generated, deterministic).
2. Three scenarios: two `tarif/1-changes` deltas of one rule each (its volume tiers too), and a
   `tarif.Scenario` edit addressed by id (the EUR list scaled by 1.03, each price rounded as the
   list rounds): the base rules are never edited.
3. One `tarif.simulate` call prices every line under the base and every scenario, each line
   at its own order date, and aggregates by account, segment, category, brand and rule.
4. The accounts whose margin moves most, and a chart of the margin change per segment.

Run: python examples/python/simulate.py [--chart margin-by-segment.png]
"""

import argparse
import json
import random
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa

import tarif

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--chart", default="margin-by-segment.png", help="where to save the PNG chart")
parser.add_argument("--lines", type=int, default=50_000, help="order lines of history")
args = parser.parse_args()

document = tarif.sample_document()
base = tarif.Engine.from_json(document)
rules = json.loads(document)


def two_more_points(contract_id: str, rule_id: str) -> dict:
    """The delta that lowers one discount rule (and its volume tiers) by two points."""
    contract = next(c for c in rules["contracts"] if c["id"] == contract_id)
    rule = dict(next(r for r in contract["rules"] if r["id"] == rule_id), contract=contract_id)
    rule["percent"] = str(Decimal(rule["percent"]) - 2)
    rule["tiers"] = [dict(t, percent=str(Decimal(t["percent"]) - 2)) for t in rule.get("tiers", [])]
    return {"format": "tarif/1-changes", "upsert": {"rules": [rule]}}


scenarios = {
    "installers+2": two_more_points("CTR-INSTALLERS-2027", "tools"),
    "resellers+2": two_more_points("CTR-RESELLERS-2027", "tools-volume"),
    "list+3%": tarif.Scenario(base).scale_list("list-eur", "1.03"),
}

# A year of order lines: valid quantities for each product's order rules, dated through 2027.
rng = random.Random(2027)
accounts = base.accounts()
products = rules["products"]
rows = {"account": [], "sku": [], "qty": [], "at": []}
for _ in range(args.lines):
    product = rng.choice(products)
    order = product.get("order", {})
    multiple = Decimal(str(order.get("multiple", 1)))
    minimum = Decimal(str(order.get("min", multiple)))
    steps = max(1, -(-minimum // multiple)) + rng.choice([0, 0, 0, 1, 2, 4, 9, 19, 49])
    rows["account"].append(rng.choice(accounts))
    rows["sku"].append(product["sku"])
    rows["qty"].append(str(multiple * steps))
    rows["at"].append(date(2027, 1, 1) + timedelta(days=rng.randrange(365)))
history = pa.table(rows)

sim = tarif.simulate(base, scenarios, history)
statuses = sim.lines.filter(pa.compute.equal(sim.lines["scenario"].cast(pa.string()), "base"))["status"]
priced = sum(1 for s in statuses.to_pylist() if s == "OK")
print(f"{history.num_rows} lines of 2027 history, {priced} priced (the rest: products the account may not see)")
print(f"base rules {base.engine_version}; scenarios: {', '.join(scenarios)}\n")

by_segment = sim.by("segment").to_pylist()
print("margin per segment, EUR (exact):")
print(f"{'segment':<14} {'base':>14} " + " ".join(f"{'Δ ' + name:>16}" for name in scenarios))
for row in by_segment:
    changes = " ".join(f"{row[f'margin_change_{name}']:>16}" for name in scenarios)
    print(f"{row['segment']:<14} {row['margin_base']:>14} {changes}")

print("\naccounts whose margin drops most under installers+2:")
by_account = sorted(sim.by("account").to_pylist(), key=lambda r: r["margin_change_installers+2"])
for row in by_account[:5]:
    print(f"  {row['account']:<18} {row['margin_change_installers+2']:>12} EUR over {row['lines_base']} lines")

import matplotlib  # noqa: E402 - only the chart needs it

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

segments = [row["segment"] for row in by_segment]
figure, axes = plt.subplots(figsize=(8, 4))
width = 0.8 / len(scenarios)
for i, name in enumerate(scenarios):
    # Floats for the picture only; every figure printed above is exact.
    values = [float(row[f"margin_change_{name}"]) for row in by_segment]
    offset = (i - (len(scenarios) - 1) / 2) * width
    axes.bar([x + offset for x in range(len(segments))], values, width, label=name)
axes.set_xticks(range(len(segments)), segments)
axes.axhline(0, color="black", linewidth=0.8)
axes.set_ylabel("margin change, EUR")
axes.set_title("Two more points on tools, or the list +3 %: margin change per segment, 2027")
axes.legend()
figure.tight_layout()
figure.savefig(args.chart, dpi=100)
print(f"\nchart: {args.chart}")

"""Repricing simulation, the way a data team runs it in a notebook.

Question: what would raising the installers' tools discount by 2 points cost, per segment?

1. Load the sample distributor's rules (a plain JSON document) and compile them.
2. Build a set of historical order lines (deterministic, so every run prints the same numbers).
3. Reprice every line under today's rules and under a modified copy of the rules, in one
   Arrow batch each (`Engine.quote_many`), and compare revenue per segment with pandas.

Run: python examples/python/reprice.py
"""

import copy
import json
import random
from decimal import Decimal

import pandas as pd
import pyarrow as pa

import tarif

# "Today" for the simulation: fixed, so that the output does not depend on the clock.
AT = "2027-03-18T10:00:00+01:00"
LINES = 50_000

rules = json.loads(tarif.sample_document())
current = tarif.Engine.from_dict(rules)

# The change under study, made on a copy of the document: installers get 2 more points on
# tools, on the base rate and on every volume tier.
modified_rules = copy.deepcopy(rules)
contract = next(c for c in modified_rules["contracts"] if c["id"] == "CTR-INSTALLERS-2027")
tools = next(r for r in contract["rules"] if r["id"] == "tools")
for rate in [tools, *tools.get("tiers", [])]:
    rate["percent"] = str(Decimal(rate["percent"]) - 2)
modified = tarif.Engine.from_dict(modified_rules)
print(f"rules: {current.engine_version} (current) vs {modified.engine_version} (modified)")
print(f"installers' tools discount: {tools['percent']} % (was -12 %)\n")

# Each account's segment; branches inherit their parent's.
accounts = {a["id"]: a for a in rules["accounts"]}


def segment(account_id: str) -> str:
    account = accounts[account_id]
    if account.get("segments"):
        return "+".join(account["segments"])
    return segment(account["parent"]) if "parent" in account else "(none)"


# Historical order lines: valid quantities for each product's order rules (minimum, multiple).
rng = random.Random(2027)
products = rules["products"]
rows = []
for _ in range(LINES):
    product = rng.choice(products)
    order = product.get("order", {})
    multiple = Decimal(str(order.get("multiple", 1)))
    minimum = Decimal(str(order.get("min", multiple)))
    steps = max(1, -(-minimum // multiple)) + rng.choice([0, 0, 0, 1, 2, 4, 9, 19, 49])
    account = rng.choice(list(accounts))
    rows.append((account, product["sku"], str(multiple * steps), segment(account)))
lines = pd.DataFrame(rows, columns=["account", "sku", "qty", "segment"])

# One Arrow table in, one Arrow table out, per rule set. Lines for products an account may not
# see (reserved ranges, brands a segment is not sold) come back as UNKNOWN_PRODUCT rows.
batch = pa.Table.from_pandas(lines[["account", "sku", "qty"]], preserve_index=False)
before = current.quote_many(batch, at=AT).to_pandas()
after = modified.quote_many(batch, at=AT).to_pandas()

print("line status (current rules):")
print(before["status"].value_counts().to_string(), "\n")

priced = lines.assign(
    status=before["status"].astype(str),
    current=before["line_total"],
    modified=after["line_total"],
)
priced = priced[priced["status"] == "OK"]
summary = priced.groupby("segment").agg(
    lines=("sku", "size"),
    current=("current", "sum"),
    modified=("modified", "sum"),
)
summary["difference"] = summary["modified"] - summary["current"]
summary["change %"] = [
    (d / c * 100).quantize(Decimal("0.01")) if c else Decimal(0)
    for d, c in zip(summary["difference"], summary["current"])
]
summary.loc["total"] = [
    summary["lines"].sum(),
    summary["current"].sum(),
    summary["modified"].sum(),
    summary["difference"].sum(),
    (summary["difference"].sum() / summary["current"].sum() * 100).quantize(Decimal("0.01")),
]
print("revenue per segment, EUR (exact decimals):")
print(summary.to_string())

# The back-office question for one line that changed: why this price?
changed = priced[priced["modified"] != priced["current"]]
if not changed.empty:
    line = changed.iloc[0]
    print(f"\nwhy {line['account']} pays what it pays for {line['qty']} × {line['sku']} (modified rules):")
    print(modified.explain(line["account"], line["sku"], line["qty"], at=AT))

"""Threads quoting, searching and batching while the engine they read is swapped again and
again: no crash, every answer entirely from one engine, memory that settles."""

import copy
import gc
import os
import threading
import time
from decimal import Decimal

import pyarrow as pa

import tarif
from conftest import AT, SMALL


def scaled(factor):
    """The small document with every price scaled: each answer tells which engine gave it."""
    doc = copy.deepcopy(SMALL)
    for price_list in doc["price_lists"]:
        for entry in price_list["prices"]:
            entry["price"] = str(Decimal(entry["price"]) * factor)
            for tier in entry.get("tiers", []):
                tier["price"] = str(Decimal(tier["price"]) * factor)
    return tarif.Engine.from_dict(doc)


ENGINES = [scaled(1), scaled(3)]
ROWS = 40_000
BATCH = (
    pa.array(["ACME", "ACME-LYON"] * (ROWS // 2)),
    pa.array(["DR-1", "CAB-1", "MY-DRILL", "3401234567890"] * (ROWS // 4)),
    pa.array([1, 2, 3, 10] * (ROWS // 4), pa.int64()),
)


def answers(engine):
    return {
        "quote": engine.quote("ACME", "DR-1", 3, at=AT).line_total,
        "search": [
            (row.sku, row.price.unit_price if row.price else None)
            for row in engine.search("ACME", price_qty=2, at=AT).rows
        ],
        "batch": engine.quote_many(*BATCH, at=AT).column("line_total").to_pylist(),
    }


EXPECTED = [answers(engine) for engine in ENGINES]


def resident():
    gc.collect()
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(seconds):
    current = [ENGINES[0]]
    seen, failures = set(), []
    stop = time.monotonic() + seconds

    def swapper():
        swaps = 0
        while time.monotonic() < stop:
            current[0] = ENGINES[swaps % 2]
            swaps += 1
            time.sleep(0.001)

    def worker():
        try:
            while time.monotonic() < stop:
                got = answers(current[0])
                for kind, value in got.items():
                    matches = [i for i, e in enumerate(EXPECTED) if e[kind] == value]
                    assert matches, f"a {kind} answer matches neither engine"
                    seen.add((kind, matches[0]))
        except Exception as err:  # noqa: BLE001 - reported by the test below
            failures.append(err)

    threads = [threading.Thread(target=swapper)] + [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return seen


def test_threads_on_swapped_engines_each_answer_from_one_engine_and_memory_settles():
    run(1.5)
    before = resident()
    seen = run(2.5)
    after = resident()
    assert {kind for kind, _ in seen} == {"quote", "search", "batch"}
    assert {engine for _, engine in seen} == {0, 1}, seen
    assert after - before < 64 * 2**20, f"RSS grew by {(after - before) / 2**20:.0f} MiB over a round"

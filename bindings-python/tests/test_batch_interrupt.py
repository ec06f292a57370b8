"""A long batch stays under the caller's control: progress between steps, Ctrl-C honoured."""

import _thread
import math
import threading
import time

import pyarrow as pa
import pytest

from conftest import AT

STEP = 32_768


def columns(sample_doc, sample, rows):
    accounts = [a["id"] for a in sample_doc["accounts"]]
    skus = list(sample.skus())
    return (
        pa.array([accounts[i % len(accounts)] for i in range(rows)]),
        pa.array([skus[(i * 7) % len(skus)] for i in range(rows)]),
        pa.array([1 + i % 40 for i in range(rows)], pa.int64()),
    )


def test_progress_is_reported_after_every_step(sample_doc, sample):
    rows = 3 * STEP + 5
    calls = []
    table = sample.quote_many(*columns(sample_doc, sample, rows), at=AT, progress=lambda done, total: calls.append((done, total)))
    assert table.num_rows == rows
    assert calls == [(min((i + 1) * STEP, rows), rows) for i in range(math.ceil(rows / STEP))]
    assert table.equals(sample.quote_many(*columns(sample_doc, sample, rows), at=AT))


def test_an_exception_in_progress_stops_the_batch(sample_doc, sample):
    calls = []

    def stop(done, total):
        calls.append(done)
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        sample.quote_many(*columns(sample_doc, sample, 4 * STEP), at=AT, progress=stop)
    assert calls == [STEP]


def test_ctrl_c_interrupts_a_long_batch(sample_doc, sample):
    rows = 2_000_000
    batch = columns(sample_doc, sample, rows)
    started = time.perf_counter()
    sample.quote_many(*batch, at=AT)
    whole = time.perf_counter() - started
    interrupted_at = []

    def ctrl_c():
        interrupted_at.append(time.perf_counter())
        _thread.interrupt_main()

    timer = threading.Timer(whole / 4, ctrl_c)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sample.quote_many(*batch, at=AT)
    stopped = time.perf_counter()
    timer.join()
    latency = stopped - interrupted_at[0]
    # One step is tens of milliseconds; the bound leaves room for a loaded machine, and is far
    # below what waiting for the end of the batch would take.
    assert latency < min(0.5, whole / 2), f"Ctrl-C took {latency * 1000:.0f} ms (batch {whole:.2f} s)"

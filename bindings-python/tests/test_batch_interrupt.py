"""A long batch stays under the caller's control: progress while it runs, Ctrl-C honoured."""

import _thread
import threading
import time

import pyarrow as pa
import pytest

from conftest import AT

# From this many rows a batch runs on a thread of its own while the caller's thread looks at it.
WATCHED = 32_768


def columns(sample_doc, sample, rows):
    accounts = [a["id"] for a in sample_doc["accounts"]]
    skus = list(sample.skus())
    return (
        pa.array([accounts[i % len(accounts)] for i in range(rows)]),
        pa.array([skus[(i * 7) % len(skus)] for i in range(rows)]),
        pa.array([1 + i % 40 for i in range(rows)], pa.int64()),
    )


@pytest.mark.parametrize("rows", [5, 3 * WATCHED + 5, 400_000])
def test_progress_reports_each_new_count_up_to_every_row(sample_doc, sample, rows):
    calls = []
    table = sample.quote_many(*columns(sample_doc, sample, rows), at=AT, progress=lambda done, total: calls.append((done, total)))
    assert table.num_rows == rows
    assert calls[-1] == (rows, rows)
    assert all(total == rows for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)), "a count is reported once, in increasing order"
    assert table.equals(sample.quote_many(*columns(sample_doc, sample, rows), at=AT))


def test_an_exception_in_progress_stops_the_batch(sample_doc, sample):
    calls = []

    def stop(done, total):
        calls.append(done)
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        sample.quote_many(*columns(sample_doc, sample, 4 * WATCHED), at=AT, progress=stop)
    assert len(calls) == 1


def test_ctrl_c_interrupts_a_long_batch(sample_doc, sample):
    rows = 2_000_000
    batch = columns(sample_doc, sample, rows)
    calls = []
    started = time.perf_counter()
    sample.quote_many(*batch, at=AT, progress=lambda done, total: calls.append(done))
    whole = time.perf_counter() - started
    # Hundreds of milliseconds of work: the caller looked at it, and saw rows priced, before the end.
    assert len(calls) > 1 and calls[-1] == rows, calls
    timer = threading.Timer(whole / 4, _thread.interrupt_main)
    timer.start()
    # A builtin as `progress` records what was priced without running Python code, in which the
    # interrupt would be raised: the batch's own check for signals must raise it.
    priced = {}
    with pytest.raises(KeyboardInterrupt):
        sample.quote_many(*batch, at=AT, progress=priced.__setitem__)
    timer.join()
    # The signal came a quarter into the batch: honoured, the batch stops before its last row
    # (how soon is benches/python/batch_watch.py's measure; a bound on it here would time how
    # the machine schedules two threads, not the batch).
    assert max(priced, default=0) < rows, sorted(priced)

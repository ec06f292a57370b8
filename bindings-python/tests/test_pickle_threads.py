"""Engines pickle (also into another process, as Dask workers need) and are shared safely by
many Python threads."""

import pickle
import random
import subprocess
import sys
import threading
import time

import tarif

AT = "2027-03-18T10:00:00+01:00"


def test_pickle_round_trip(sample):
    back = pickle.loads(pickle.dumps(sample))
    assert back.engine_version == sample.engine_version
    args = ("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 3)
    assert back.quote(*args, at=AT) == sample.quote(*args, at=AT)


def test_unpickled_in_another_process(sample, tmp_path):
    path = tmp_path / "engine.pickle"
    path.write_bytes(pickle.dumps(sample))
    script = (
        "import pickle, sys\n"
        "engine = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        f"q = engine.quote('K-BATIMAX-PARIS', 'CAB-NEX-R2V3G-2.5', '12.5', at={AT!r})\n"
        "print(engine.engine_version, q.unit_price, q.line_total)\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], check=True, capture_output=True, text=True)
    q = sample.quote("K-BATIMAX-PARIS", "CAB-NEX-R2V3G-2.5", "12.5", at=AT)
    assert out.stdout.split() == [sample.engine_version, str(q.unit_price), str(q.line_total)]


def test_threads_share_one_engine(sample):
    rng = random.Random(11)
    accounts, skus = sample.accounts(), sample.skus()
    requests = [(rng.choice(accounts), rng.choice(skus), rng.choice([1, 3, 10, 25])) for _ in range(400)]

    def run(request):
        try:
            return sample.quote(*request, at=AT)
        except tarif.QuoteError as err:
            return err.code

    expected = [run(r) for r in requests]
    batch_expected = sample.quote_many(*[list(c) for c in zip(*requests)], at=AT)
    results: dict[int, list] = {}
    batches: dict[int, object] = {}
    start = threading.Barrier(8)

    def worker(n):
        start.wait()
        local = []
        for _ in range(5):
            local.append([run(r) for r in requests])
        results[n] = local
        batches[n] = sample.quote_many(*[list(c) for c in zip(*requests)], at=AT)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    for local in results.values():
        for answers in local:
            assert answers == expected
    for table in batches.values():
        assert table.equals(batch_expected)


def test_quote_many_releases_the_gil(sample):
    import pyarrow as pa

    rng = random.Random(3)
    accounts, skus = sample.accounts(), sample.skus()
    n = 1_000_000
    table = pa.table({
        "account": pa.array([rng.choice(accounts) for _ in range(1000)] * (n // 1000)),
        "sku": pa.array([rng.choice(skus) for _ in range(1000)] * (n // 1000)),
        "qty": pa.array([1, 2, 5, 10] * (n // 4)),
    })
    stamps = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    start = time.perf_counter()
    sample.quote_many(table, at=AT)
    end = time.perf_counter()
    done.set()
    thread.join()
    # The table is already Arrow: nearly all of the call is the core's, outside the GIL, and
    # the other thread keeps running through it.
    middle = [t for t in stamps if start + (end - start) * 0.25 < t < end - (end - start) * 0.25]
    assert middle, f"no tick during the {end - start:.3f} s call"

"""Snapshots: `engine.save(path)` and `tarif.Engine.open(path)` give back an engine that answers
as the compiled one, and a damaged, foreign or unreadable file raises with a stable code."""

import pickle
import threading
from pathlib import Path

import pytest

import tarif
from conftest import FIXTURES
from test_fixtures import FILES, answer, load



def same_engine(a: tarif.Engine, b: tarif.Engine) -> None:
    assert a.engine_version == b.engine_version
    assert [(d.code, d.path, d.message) for d in a.diagnostics] == [
        (d.code, d.path, d.message) for d in b.diagnostics
    ]


def test_the_sample_round_trips(tmp_path):
    engine = tarif.Engine.from_json(tarif.sample_document())
    path = tmp_path / "sample.snap"
    assert engine.save(path) is None
    opened = tarif.Engine.open(str(path))
    same_engine(engine, opened)
    quote = engine.quote("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 3, at="2027-03-18")
    again = opened.quote("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 3, at="2027-03-18")
    assert (again.unit_price, again.line_total, [s.rule for s in again.steps]) == (
        quote.unit_price,
        quote.line_total,
        [s.rule for s in quote.steps],
    )
    # The source survives: pickling ships it, and the unpickled engine is the same document.
    same_engine(engine, pickle.loads(pickle.dumps(opened)))


def fixture_documents():
    for path in FILES:
        fixture = load(path)
        yield pytest.param(fixture, id=str(path.relative_to(FIXTURES)))


@pytest.mark.parametrize("fixture", list(fixture_documents()))
def test_every_fixture_document_round_trips(fixture, tmp_path):
    try:
        engine = tarif.Engine.from_dict(fixture["document"])
    except tarif.CompileError:
        return
    path = tmp_path / "rules.snap"
    engine.save(path)
    opened = tarif.Engine.open(path)
    same_engine(engine, opened)
    for case in fixture.get("cases", []):
        assert answer(opened, case) == answer(engine, case), case


@pytest.fixture
def snapshot(tmp_path) -> Path:
    path = tmp_path / "small.snap"
    tarif.Engine.from_json('{"format": "tarif/1", "products": [{"sku": "A"}]}').save(path)
    return path


def open_code(path: Path) -> str:
    with pytest.raises(tarif.TarifError) as err:
        tarif.Engine.open(path)
    return err.value.code


def test_damaged_snapshots_are_corrupt(snapshot):
    whole = snapshot.read_bytes()
    for length in (0, 5, 12, 54, len(whole) // 2, len(whole) - 1):
        snapshot.write_bytes(whole[:length])
        assert open_code(snapshot) == "SNAPSHOT_CORRUPT", length
    for at in range(12, len(whole), 7):
        flipped = bytearray(whole)
        flipped[at] ^= 0xFF
        snapshot.write_bytes(bytes(flipped))
        assert open_code(snapshot) == "SNAPSHOT_CORRUPT", at


def test_foreign_files_are_corrupt(tmp_path):
    for name, content in (
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("rules.json", b'{"format": "tarif/1"}'),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(tarif.SnapshotError, match="not a tarif snapshot") as err:
            tarif.Engine.open(path)
        assert err.value.code == "SNAPSHOT_CORRUPT"
        assert str(path) in str(err.value)


def test_a_future_format_version_names_both_versions(snapshot):
    whole = bytearray(snapshot.read_bytes())
    whole[8:12] = (999).to_bytes(4, "little")
    snapshot.write_bytes(bytes(whole))
    with pytest.raises(tarif.SnapshotError, match="`999`") as err:
        tarif.Engine.open(snapshot)
    assert err.value.code == "SNAPSHOT_VERSION"


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError) as err:
        tarif.Engine.open(tmp_path / "missing.snap")
    assert err.value.code == "IO_ERROR"
    assert "missing.snap" in str(err.value)


def test_a_failed_save_leaves_the_existing_file_untouched(snapshot, tmp_path):
    before = snapshot.read_bytes()
    engine = tarif.Engine.from_json(tarif.sample_document())
    with pytest.raises(OSError) as err:
        engine.save(snapshot / "inner.snap")
    assert err.value.code == "IO_ERROR"
    with pytest.raises(OSError):
        engine.save(tmp_path)
    assert snapshot.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.snap"]
    engine.save(snapshot)
    assert tarif.Engine.open(snapshot).engine_version == engine.engine_version


def test_other_threads_run_during_save_and_open(tmp_path):
    engine = tarif.Engine.from_json(tarif.sample_document())
    ticks = 0
    done = threading.Event()

    def tick():
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    thread = threading.Thread(target=tick)
    thread.start()
    try:
        for i in range(5):
            engine.save(tmp_path / f"{i}.snap")
            tarif.Engine.open(tmp_path / f"{i}.snap")
    finally:
        done.set()
        thread.join()
    assert ticks > 0


def test_a_path_must_be_a_path():
    with pytest.raises(TypeError):
        tarif.Engine.open(42)

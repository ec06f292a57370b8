"""The core's tracing events reach Python's `logging` (loggers `tarif.compile`, `tarif.batch`)."""

import logging

import tarif


def test_a_compile_logs_its_phases_and_its_outcome(caplog):
    caplog.set_level(logging.DEBUG, logger="tarif")
    tarif.Engine.from_json(tarif.sample_document())
    compile_records = [r for r in caplog.records if r.name == "tarif.compile"]
    done = [r for r in compile_records if r.getMessage().startswith("compiled:")]
    assert len(done) == 1, [r.getMessage() for r in compile_records]
    assert done[0].levelno == logging.INFO
    assert "0 error(s)" in done[0].getMessage()
    phases = [r for r in compile_records if r.levelno == logging.DEBUG and "phase" in r.getMessage()]
    assert len(phases) >= 9


def test_a_rejected_document_logs_its_errors(caplog):
    caplog.set_level(logging.INFO, logger="tarif")
    try:
        tarif.Engine.from_json('{"format": "tarif/1", "products": [{"sku": ""}]}')
    except tarif.CompileError:
        pass
    messages = [r.getMessage() for r in caplog.records if r.name == "tarif.compile"]
    assert any(m.startswith("compiled: 1 error(s)") for m in messages), messages


def test_a_batch_logs_its_size_at_debug(caplog):
    engine = tarif.Engine.from_json(tarif.sample_document())
    caplog.set_level(logging.DEBUG, logger="tarif.batch")
    engine.quote_many(["X", "Y", "Z"], ["A", "B", "C"], ["1", "1", "1"])
    assert any(r.name == "tarif.batch" and "3 rows" in r.getMessage() for r in caplog.records)


def test_nothing_is_logged_above_the_level_asked_for(caplog):
    caplog.set_level(logging.WARNING, logger="tarif")
    tarif.Engine.from_json(tarif.sample_document())
    assert [r for r in caplog.records if r.name.startswith("tarif")] == []

"""Compile progress: `progress(phase, done, total)` on `from_json`, `from_path`, `from_dict`."""

import json

import pytest

import tarif


def record():
    seen = []
    return seen, lambda phase, done, total: seen.append((phase, done, total))


def test_a_compile_reports_every_phase_in_order_then_done():
    seen, progress = record()
    tarif.Engine.from_json(tarif.sample_document(), progress=progress)
    total = seen[0][2]
    assert total > 1
    assert seen[0] == ("parse", 0, total)
    assert seen[-1] == ("done", total, total)
    assert [done for _, done, _ in seen] == list(range(total + 1))
    assert all(t == total for _, _, t in seen)


def test_from_path_and_from_dict_report_too(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(tarif.sample_document())
    for build in (
        lambda progress: tarif.Engine.from_path(path, progress=progress),
        lambda progress: tarif.Engine.from_dict(
            json.loads(tarif.sample_document()), progress=progress
        ),
    ):
        seen, progress = record()
        build(progress)
        assert seen[-1][0] == "done"


def test_a_tqdm_like_bar_reaches_its_total():
    class Bar:
        """What tqdm offers: `n`, `total` and `update`."""

        def __init__(self):
            self.n, self.total = 0, None

        def update(self, step):
            self.n += step

    bar = Bar()

    def progress(phase, done, total):
        bar.total = total
        bar.update(done - bar.n)

    tarif.Engine.from_json(tarif.sample_document(), progress=progress)
    assert bar.n == bar.total


def test_a_rejected_document_still_reports_done():
    seen, progress = record()
    with pytest.raises(tarif.CompileError):
        tarif.Engine.from_json('{"format": "tarif/1", "products": [{"sku": ""}]}', progress=progress)
    assert seen[-1][0] == "done"


def test_an_exception_in_progress_is_raised_after_the_compile_and_stops_the_reports():
    calls = []

    def progress(phase, done, total):
        calls.append(phase)
        raise ValueError("bar closed")

    with pytest.raises(ValueError, match="bar closed"):
        tarif.Engine.from_json(tarif.sample_document(), progress=progress)
    assert calls == ["parse"]

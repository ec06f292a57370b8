"""The hand-written stubs match the built module, and the package is documented and typed."""

import pydoc
import subprocess
import sys
from pathlib import Path

import tarif


def test_stubtest():
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tarif", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_typed_package():
    package = Path(tarif.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_tarif.pyi").exists()


def test_engine_help_documents_its_methods():
    text = pydoc.render_doc(tarif.Engine, renderer=pydoc.plaintext)
    for method in ("from_json", "from_path", "from_dict", "quote", "quote_many", "explain", "visibility", "lookup"):
        assert method in text
    assert "Prices many lines at once" in text
    assert "float raises `TypeError`" in text

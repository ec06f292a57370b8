"""The hand-written stubs match the built module, and the package is documented and typed."""

import pydoc
import subprocess
import sys
from pathlib import Path

import tarif


def test_stubtest():
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tarif"],
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


def test_stubs_type_check_user_code(tmp_path):
    usage = tmp_path / "usage.py"
    usage.write_text(
        "from datetime import date\n"
        "from decimal import Decimal\n"
        "import tarif\n"
        "engine = tarif.Engine.from_json(tarif.sample_document(), strict=False)\n"
        "quote: tarif.Quote = engine.quote('R-ELECDIS', 'X', Decimal('1.5'), at=date(2027, 1, 1))\n"
        "total: Decimal = quote.line_total + (quote.list_price or Decimal(0))\n"
        "rules: list[str] = [step.rule for step in quote.steps]\n"
        "caps: tarif.Capabilities = engine.visibility('R-ELECDIS', 'X')\n"
        "try:\n"
        "    engine.lookup('R-ELECDIS', 'X')\n"
        "except tarif.QuoteError as err:\n"
        "    code: str = err.code\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(usage)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr

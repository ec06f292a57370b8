"""`python -m tarif` and the wheel's `tarif` script run the Rust command: same output, same
exit codes (cli/README.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tarif

AT = "2027-03-18T10:00:00+01:00"


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "rules.json"
    path.write_text(tarif.sample_document())
    return path


def python_m_tarif(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tarif", *args], capture_output=True, text=True)


def test_check_summarises_the_document(rules):
    run = python_m_tarif("check", str(rules))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"ok: `{rules}` compiles: ")


def test_quote_json_is_the_library_quote(rules, sample):
    run = python_m_tarif("quote", str(rules), "I-VOLTA-LYON", "CAB-NEX-R2V3G-2.5", "100", "--at", AT, "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    quote = sample.quote("I-VOLTA-LYON", "CAB-NEX-R2V3G-2.5", 100, at=AT)
    assert (answer["unit_price"], answer["line_total"]) == (str(quote.unit_price), str(quote.line_total))


def test_a_query_error_exits_3_with_its_code(rules):
    run = python_m_tarif("lookup", str(rules), "R-ELECDIS", "NO-SUCH-REF")
    assert run.returncode == 3
    assert run.stderr.strip() == "error[UNKNOWN_PRODUCT]: unknown product `NO-SUCH-REF`"


def test_usage_names_the_way_it_was_started():
    run = python_m_tarif("--help")
    assert run.returncode == 0
    assert "Usage: python -m tarif [OPTIONS] <COMMAND>" in run.stdout
    assert python_m_tarif("frobnicate").returncode == 2


def test_the_wheel_installs_a_tarif_script():
    script = Path(sys.executable).parent / "tarif"
    if not script.exists():
        pytest.fail(f"no `tarif` script beside {sys.executable}: is the package installed from its wheel?")
    run = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert run.returncode == 0
    assert run.stdout.strip() == f"tarif {tarif.__version__}"

"""pyarrow is an optional dependency (the `arrow` extra): without it, the error says so."""

import subprocess
import sys
from pathlib import Path

import tarif

HERE = Path(__file__).resolve().parent


def test_missing_pyarrow_names_the_extra(tmp_path):
    # `-S` leaves site-packages, hence pyarrow, off the path; the installed package is put back
    # alone, through a link.
    (tmp_path / "tarif").symlink_to(Path(tarif.__file__).parent, target_is_directory=True)
    run = subprocess.run(
        [sys.executable, "-S", str(HERE / "no_pyarrow.py")],
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "asks for tarif[arrow]" in run.stdout


def test_the_hint_leaves_installed_modules_alone():
    import pyarrow

    assert pyarrow.__name__ == "pyarrow"
    assert sum(type(f).__name__ == "MissingExtraHint" for f in sys.meta_path) == 1

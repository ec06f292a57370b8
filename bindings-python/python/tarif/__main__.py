"""``python -m tarif``: the ``tarif`` command (``check``, ``quote``, ``explain``, ``lookup``,
``search``, ``reprice``), the very program of the Rust binary, run inside this interpreter.

``python -m tarif --help`` lists the commands; exit codes are those of the binary.
"""

from __future__ import annotations

import signal
import sys

from tarif._tarif import run_cli


def main() -> int:
    """Runs the command on ``sys.argv`` and returns its exit code."""
    # Python's own SIGINT handler would only run once the command returned to the interpreter;
    # the default action stops a long `reprice` at once, as it stops the native binary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    program = "tarif" if sys.argv[0].endswith("tarif") else "python -m tarif"
    return run_cli([program, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())

"""The package without its `arrow` extra: everything but the Arrow batches works, and
`quote_many` says which extra to install.

Run as a script where pyarrow cannot be imported: by `make test` in the fresh venv before the
extra is installed, and by test_optional.py with site-packages hidden.
"""

import sys
from decimal import Decimal

import tarif

try:
    import pyarrow  # noqa: F401
except ModuleNotFoundError as missing:
    assert missing.name == "pyarrow"
else:
    sys.exit("pyarrow is importable here: this check needs an environment without it")

engine = tarif.Engine.from_json(tarif.sample_document())
quote = engine.quote("R-ELECDIS", "DRL-MAK-DHP487-K5-L", 3, at="2027-03-18T10:00:00+01:00")
assert isinstance(quote.unit_price, Decimal) and quote.unit_price > 0, quote

try:
    engine.quote_many(["R-ELECDIS"], ["DRL-MAK-DHP487-K5-L"], [3])
except ModuleNotFoundError as error:
    assert error.name == "pyarrow", error.name
    assert "pip install 'tarif[arrow]'" in str(error), str(error)
else:
    sys.exit("quote_many without pyarrow did not raise")

print(f"{tarif.__file__}: without pyarrow, quote gives {quote.unit_price}; quote_many asks for tarif[arrow]")

"""Every failure a caller can cause carries a documented code (docs/spec.md §9): values of the
wrong type, lone surrogates, files that are not UTF-8, Decimals in documents, exact integers."""

import copy
from decimal import Decimal

import pyarrow as pa
import pytest

import tarif
from conftest import AT, SMALL


def code_of(call):
    with pytest.raises(tarif.TarifError) as info:
        call()
    return info.value.code


@pytest.mark.parametrize("account", [None, 42, b"ACME", ["ACME"]])
def test_an_account_of_the_wrong_type_is_an_input_error(small, account):
    with pytest.raises(tarif.InputError) as info:
        small.quote(account, "DR-1", 1, at=AT)
    assert info.value.code == "INVALID_TYPE"
    assert "`account` must be a str" in str(info.value)
    # Still a TypeError, as Python's own conversions raise.
    assert isinstance(info.value, TypeError)


def test_a_lone_surrogate_is_invalid_text_everywhere(small):
    lone = "DR-1\ud800"
    assert code_of(lambda: small.quote("ACME", lone, 1, at=AT)) == "INVALID_TEXT"
    assert code_of(lambda: small.lookup(lone, "DR-1", at=AT)) == "INVALID_TEXT"
    assert code_of(lambda: small.visibility("ACME", "DR-1", at="2026-03-01\udc00")) == "INVALID_TEXT"
    assert code_of(lambda: small.search("ACME", text=lone, at=AT)) == "INVALID_TEXT"
    assert code_of(lambda: small.quote_many(["ACME"], [lone], [1], at=AT)) == "INVALID_TEXT"
    assert code_of(lambda: tarif.Engine.from_json('{"format": "tarif/1\ud800"}')) == "INVALID_TEXT"


def test_options_of_the_wrong_type_are_input_errors(small):
    assert code_of(lambda: small.search("ACME", limit="5", at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.search("ACME", limit=True, at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.search("ACME", capability=42, at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.search("ACME", group_variants="yes", at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.related("ACME", "DR-1", None, at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.quote("ACME", "DR-1", 1, currency=978)) == "INVALID_TYPE"
    assert code_of(lambda: tarif.Engine.from_json(42)) == "INVALID_TYPE"
    # The defaults are what None stands for.
    assert small.search("ACME", limit=None, offset=None, at=AT).skus() == small.search("ACME", at=AT).skus()


def test_a_batch_column_must_be_a_column(small):
    assert code_of(lambda: small.quote_many("AB", ["DR-1", "DR-1"], [1, 1], at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.quote_many(["ACME"], ["DR-1"], 5, at=AT)) == "INVALID_TYPE"
    assert code_of(lambda: small.quote_many(["ACME"], ["DR-1"], {"qty": 1}, at=AT)) == "INVALID_TYPE"


def test_a_file_that_is_not_utf8_is_a_parse_error(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "tarif/1", "products": [{"sku": "CAFÉ"}]}'.encode("latin-1"))
    with pytest.raises(tarif.CompileError) as info:
        tarif.Engine.from_path(path)
    assert info.value.code == "COMPILE_ERROR"
    [diagnostic] = info.value.details
    assert diagnostic["code"] == "PARSE_ERROR"
    assert diagnostic["message"] == "the document is not UTF-8: invalid byte at offset 47"
    # A missing file stays the OSError naming it, with Node's code for it.
    with pytest.raises(FileNotFoundError) as missing:
        tarif.Engine.from_path(tmp_path / "missing.json")
    assert missing.value.code == "IO_ERROR" and "missing.json" in str(missing.value)
    with pytest.raises(IsADirectoryError) as directory:
        tarif.Engine.from_path(tmp_path)
    assert directory.value.code == "IO_ERROR"


def test_from_dict_writes_a_decimal_as_its_decimal_string(small):
    document = copy.deepcopy(SMALL)
    for entry in document["price_lists"][0]["prices"]:
        entry["price"] = Decimal(entry["price"])
    assert tarif.Engine.from_dict(document).engine_version == small.engine_version
    # Written without an exponent, which the document format does not take.
    document["price_lists"][0]["prices"][0]["price"] = Decimal("1.29E+2")
    quote = tarif.Engine.from_dict(document).quote("ACME", "DR-1", 1, at=AT)
    assert quote.unit_price == small.quote("ACME", "DR-1", 1, at=AT).unit_price


def test_from_dict_refuses_what_json_cannot_write():
    document = {**SMALL, "products": [{"sku": "X", "attrs": {"when": object()}}]}
    assert code_of(lambda: tarif.Engine.from_dict(document)) == "INVALID_TYPE"


def test_a_uint64_quantity_beyond_int64_is_priced_in_a_batch_as_by_quote(small):
    qty = 2**63
    table = small.quote_many(
        pa.array(["ACME"]), pa.array(["DR-1"]), pa.array([qty], type=pa.uint64()), at=AT
    )
    [status] = table.column("status").to_pylist()
    assert status == "OK"
    [line] = table.column("line_total").to_pylist()
    assert line == small.quote("ACME", "DR-1", qty, at=AT).line_total


def test_explain_reports_an_unreadable_quantity_where_quote_does(small):
    assert code_of(lambda: small.explain("NOBODY", "DR-1", "abc", at=AT)) == "UNKNOWN_ACCOUNT"
    assert code_of(lambda: small.explain("ACME", "NOPE", "abc", at=AT)) == "UNKNOWN_PRODUCT"
    assert code_of(lambda: small.explain("ACME", "DR-1", "abc", at=AT)) == "INVALID_QUANTITY"
    assert small.explain("ACME", "DR-1", "0", at=AT).error_code == "INVALID_QUANTITY"

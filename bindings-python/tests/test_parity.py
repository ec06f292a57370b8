"""The README's parity table against the bindings: every operation of one binding is listed,
every listed name exists, and Python and Node agree on each name (snake_case against camelCase)
unless the row says why they differ."""

import re
from pathlib import Path

import tarif

ROOT = Path(__file__).resolve().parents[2]


def cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def tables():
    """The parity section's tables, each a list of rows of cells (headers and rules dropped)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Parity", 1)[1].split("\n## ", 1)[0]
    found, current = [], None
    for line in section.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        if current is None:
            current = []
            found.append(current)
            continue
        if set(line) <= set("|- "):
            continue
        current.append(cells(line))
    return found


def names(cell):
    return re.findall(r"`([^`]+)`", cell)


def camel(name):
    head, *rest = name.removeprefix("tarif.").split("_")
    return head + "".join(word.title() for word in rest)


def node_members():
    """Methods of the Node classes and functions of the module, from the typings."""
    typings = (ROOT / "bindings-node" / "index.d.ts").read_text(encoding="utf-8")
    typings += (ROOT / "bindings-node" / "tarif.d.ts").read_text(encoding="utf-8")
    classes = {}
    for name, body in re.findall(r"^export declare class (\w+)[^{]*\{\n(.*?)^\}", typings, re.S | re.M):
        members = set(re.findall(r"^  (?:static )?(?:readonly )?(?:get )?(\w+)[(:]", body, re.M))
        classes[name] = members - {"constructor"}
    functions = set(re.findall(r"^export declare function (\w+)", typings, re.M))
    return classes, functions | {name for name in classes if name == "TarifError"}


def rust_has(name):
    pattern = re.compile(rf"pub fn {re.escape(name)}\b")
    return any(pattern.search(path.read_text(encoding="utf-8")) for path in (ROOT / "core" / "src").rglob("*.rs"))


def python_public(cls):
    return {name for name in dir(cls) if not name.startswith("_")}


def test_the_readme_has_the_three_parity_tables():
    engine, handle, module = tables()
    assert len(engine) > 20 and len(handle) >= 5 and len(module) >= 3


def check(rows, py_col, node_col, py_owner, node_names):
    listed_py, listed_node = set(), set()
    for row in rows:
        python, node, difference = names(row[py_col]), names(row[node_col]), row[-1]
        for name in python:
            owner = tarif if name.startswith("tarif.") else py_owner
            assert hasattr(owner, name.removeprefix("tarif.")), f"{row[0]}: Python has no `{name}`"
        for name in node:
            assert name in node_names, f"{row[0]}: Node has no `{name}`"
        if not difference:
            assert {camel(n) for n in python} == set(node), f"{row[0]}: {python} in Python, {node} in Node"
        listed_py.update(python)
        listed_node.update(node)
    return listed_py, listed_node


def test_every_engine_operation_is_listed_and_exists():
    rows = tables()[0]
    classes, _ = node_members()
    listed_py, listed_node = check(rows, 2, 3, tarif.Engine, classes["Engine"])
    assert python_public(tarif.Engine) - listed_py == set(), "Python Engine operations missing from the table"
    assert classes["Engine"] - listed_node == set(), "Node Engine operations missing from the table"
    for row in rows:
        for name in names(row[1]):
            assert rust_has(name), f"{row[0]}: the core has no `pub fn {name}`"


def test_every_handle_operation_is_listed_and_exists():
    rows = tables()[1]
    classes, _ = node_members()
    listed_py, listed_node = check(rows, 1, 2, tarif.EngineHandle, classes["EngineHandle"])
    assert python_public(tarif.EngineHandle) - listed_py == set()
    assert classes["EngineHandle"] - listed_node == set()


def test_every_module_function_is_listed_and_exists():
    rows = tables()[2]
    _, functions = node_members()
    _, listed_node = check(rows, 1, 2, tarif, functions)
    assert functions - listed_node == set(), "Node functions missing from the table"


def test_a_binding_that_gains_an_operation_fails_the_check():
    rows = [["Price a line", "`quote`", "`quote`", ""], ["Only in Python", "`skus`", "—", ""]]
    try:
        check(rows, 1, 2, tarif.Engine, {"quote"})
    except AssertionError as err:
        assert "Only in Python" in str(err)
    else:
        raise AssertionError("a row without a reason passed with Python and Node differing")

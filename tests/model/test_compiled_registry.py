"""The registry of compiled kernels: every kernel a twin, every twin proven identical.

A compiled kernel is a public function of a `model.compiled` module; each must be
declared once as a twin, beside its array version, and the test the twin names must run
both versions through `twins.run_both`, which compares them bit for bit.
"""

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest
from twins import assert_identical

import model.compiled
from model.compiled import Twin, enabled, twin, twins

ROOT = Path(__file__).resolve().parents[2]
TWINS = twins()
KERNEL_MODULES = [
    f"model.compiled.{m.name}"
    for m in pkgutil.iter_modules(model.compiled.__path__)
    if m.name != "registry"
]


def kernels(module_name: str) -> set[str]:
    """Public functions (compiled or not) defined in a kernel module."""
    module = importlib.import_module(module_name)
    return {
        name
        for name, value in vars(module).items()
        if callable(value)
        and not inspect.isclass(value)
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module_name
    }


def test_every_kernel_is_declared_as_a_twin():
    assert len(TWINS) >= 12 and len(KERNEL_MODULES) >= 6
    declared = {(t.compiled.__module__, t.compiled.__name__) for t in TWINS.values()}
    undeclared = {
        (module, name) for module in KERNEL_MODULES for name in kernels(module)
    } - declared
    assert not undeclared, f"compiled kernels without an array twin: {sorted(undeclared)}"


@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_is_declared_beside_its_array_version(name):
    t = TWINS[name]
    assert t.name == name == t.compiled.__name__
    assert t.compiled.__module__ in KERNEL_MODULES
    home = importlib.import_module(t.arrays.__module__)
    assert home.__name__.startswith("model.") and home.__name__ not in KERNEL_MODULES
    assert getattr(home, name) is t, f"{home.__name__}.{name} is not the twin"


@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_versions_take_the_same_arguments(name):
    t = TWINS[name]
    assert str(inspect.signature(t.compiled)) == str(inspect.signature(t.arrays))


@pytest.mark.parametrize("name", sorted(TWINS))
def test_twin_names_a_test_that_compares_both_versions(name):
    t = TWINS[name]
    path, _, function = t.test.partition("::")
    file = ROOT / path
    assert file.is_file() and file.parent == ROOT / "tests" / "model", t.test
    tree = ast.parse(file.read_text())
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert function in functions, f"{t.test} does not exist"
    assert not skipped(tree, functions[function]), f"{t.test} is skipped"
    module = importlib.import_module(file.stem)  # as pytest imports it (tests/model on path)
    assert t in compared_twins(module, functions, function), (
        f"{t.test} does not call run_both({t.compiled.__module__} twin {name})"
    )


def skipped(tree: ast.Module, function: ast.FunctionDef) -> bool:
    """Whether the test or its module carries a skip or xfail mark."""
    marks = [*function.decorator_list]
    marks += [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
    ]
    return any(
        isinstance(node, ast.Attribute) and node.attr in ("skip", "skipif", "xfail")
        for mark in marks
        for node in ast.walk(mark)
    )


def compared_twins(module, functions: dict[str, ast.FunctionDef], start: str) -> list[Twin]:
    """Twins passed to `run_both` by test `start` or the module's functions it calls."""
    found, seen, todo = [], set(), [start]
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(functions[name]):
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.id if isinstance(node.func, ast.Name) else None
            if callee == "run_both" and node.args:
                found.append(resolve(module, node.args[0]))
            elif callee in functions and callee not in seen:
                todo.append(callee)
    return found


def resolve(module, expression: ast.expr):
    """The object a dotted name (`name` or `module.name`) refers to in `module`."""
    if isinstance(expression, ast.Name):
        return getattr(module, expression.id, None)
    if isinstance(expression, ast.Attribute):
        return getattr(resolve(module, expression.value), expression.attr, None)
    return None


@pytest.mark.parametrize("name", sorted(TWINS))
def test_package_docstring_lists_each_twin(name):
    t = TWINS[name]
    doc = " ".join(model.compiled.__doc__.split())
    kernel = f"{t.compiled.__module__.removeprefix('model.compiled.')}.{name}"
    line = f"`{name}`: `{kernel}` / `{t.arrays.__module__}.{t.arrays.__name__}`"
    assert line in doc


def test_wsim_numba_0_selects_the_array_versions(monkeypatch):
    probe = Twin("probe", lambda: "compiled", lambda: "arrays", test="")
    for flag, version in (("0", "arrays"), ("1", "compiled"), (None, "compiled")):
        if flag is None:
            monkeypatch.delenv("WSIM_NUMBA", raising=False)
        else:
            monkeypatch.setenv("WSIM_NUMBA", flag)
        assert enabled() == (version == "compiled")
        assert probe() == version
        assert all(t.selected() is getattr(t, version) for t in TWINS.values())


def test_a_kernel_is_declared_once():
    t = TWINS["hiring_order"]
    with pytest.raises(ValueError, match="declared twice"):
        twin(t.compiled, t.arrays, t.test)


def test_identical_means_the_same_bits_dtypes_and_shapes():
    assert_identical((np.array([1.0, np.nan]), 2.0), (np.array([1.0, np.nan]), 2.0))
    for a, b in (
        (np.array([0.0]), np.array([-0.0])),
        (np.zeros(2), np.zeros(2, np.float32)),
        (np.zeros(2), np.zeros((1, 2))),
        (0.0, -0.0),
        (np.zeros(1), [0.0]),
    ):
        with pytest.raises(AssertionError):
            assert_identical(a, b)

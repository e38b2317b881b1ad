"""The package is a house of three floors, and imports only go down.

    engine   what a student reads first: Value, Tensor, Function, backward, ops, backends
    library  nn, optim, utils.data, training, serialization, ...
    apps     the command line, the explorer, the digit pad, plots

Every `import` and `from ... import` in the package's source is read with `ast`, those inside
functions included (a late import is still a dependency); only imports under
`if TYPE_CHECKING:` are left out, since they never run. Importing `a.b.c` also runs the
`__init__` of `a` and of `a.b`, so those count as imported too. The root `__init__` is the
front door: it imports nothing until a name is asked for (PEP 562) and sits above every floor;
modules may take only `__version__` from it.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_mnist"
ROOT = "tinygrad_mnist"

ENGINE, LIBRARY, APPS = 1, 2, 3
# module (or package) name below ROOT -> its floor; the longest matching prefix decides
FLOORS = {
    "_kernels": ENGINE,
    "scalar": ENGINE,
    "draw": ENGINE,
    "dtypes": ENGINE,
    "devices": ENGINE,
    "autograd": ENGINE,
    "ops": ENGINE,
    "tensors": ENGINE,
    "backends": ENGINE,
    "gradient_check": ENGINE,
    "capture": ENGINE,
    "nn": LIBRARY,
    "optim": LIBRARY,
    "utils": LIBRARY,
    "training": LIBRARY,
    "serialization": LIBRARY,
    "tensor_files": LIBRARY,
    "atomic_file": LIBRARY,
    "scalar_nn": LIBRARY,
    "worked_examples": LIBRARY,
    "inference": LIBRARY,
    "cli": APPS,
    "__main__": APPS,
    "commands": APPS,
    "viz": APPS,
    "digit_pad": APPS,
    "plots": APPS,
    "digit_render": APPS,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "vendor" not in p.parts}


def floor_of(module: str) -> int:
    rest = module[len(ROOT) + 1 :]
    for prefix in sorted(FLOORS, key=len, reverse=True):
        if rest == prefix or rest.startswith(prefix + "."):
            return FLOORS[prefix]
    raise AssertionError(f"{module} is on no floor: add it to FLOORS in {__file__}")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement except those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imports_of(module: str, path: Path, known: set[str]) -> set[tuple[str, tuple[str, ...]]]:
    """(imported module, names taken from it) for each import of the package's own modules."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {(a.name, ()) for a in node.names if a.name.split(".")[0] == ROOT}
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != ROOT:
            continue
        names = tuple(a.name for a in node.names)
        submodules = {f"{target}.{n}" for n in names} & known
        out |= {(s, ()) for s in submodules}
        rest = tuple(n for n in names if f"{target}.{n}" not in known)
        if rest or not submodules:
            out.add((target, rest))
    return out


@functools.cache  # the source is read once; the tests below only read the graph
def graph() -> dict[str, set[str]]:
    """module -> the modules importing it runs, parent packages' __init__ included."""
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for target, names in imports_of(m, path, known):
            if target == ROOT:
                assert set(names) <= {"__version__"}, (
                    f"{m} imports {names} from the package root; import them from the module "
                    "that defines them"
                )
                continue
            parts = target.split(".")
            for i in range(2, len(parts) + 1):  # the parent packages run first...
                dep = ".".join(parts[:i])
                if dep in known and not (m == dep or m.startswith(dep + ".")):
                    edges[m].add(dep)  # ...unless m is inside them: they ran before m
    edges.pop(ROOT)  # the front door imports lazily, and only names, never the other way
    return edges


def test_every_module_has_a_floor():
    for m in graph():
        floor_of(m)


def test_imports_only_go_down():
    upward = [
        f"{m} ({floor_of(m)}) imports {d} ({floor_of(d)})"
        for m, deps in graph().items()
        for d in deps
        if floor_of(d) > floor_of(m)
    ]
    assert upward == []


def test_no_import_circles():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                circles.append(" -> ".join(path[path.index(d) :] + [m, d]))
            elif d not in state:
                visit(d, path + [m])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [])
    assert circles == []


def test_the_library_never_imports_the_command_line():
    for m, deps in graph().items():
        if floor_of(m) < APPS:
            assert not {d for d in deps if d.startswith((f"{ROOT}.commands", f"{ROOT}.cli"))}, m


def test_commands_do_not_import_each_other():
    from tinygrad_mnist.cli import COMMANDS

    commands = {f"{ROOT}.commands.{name}" for name in COMMANDS}
    edges = graph()
    for m in commands:
        others = edges[m] & commands
        assert others == set(), f"{m} imports {others}: share code through commands/arguments.py"


def test_benchmarks_live_outside_the_package():
    assert not (PACKAGE / "benchmark.py").exists()
    assert not [p for p in PACKAGE.rglob("*fma_peak*")]


def test_importing_the_package_is_light():
    """`import tinygrad_mnist` loads no floor until a name is used, so that the command line
    can catch Ctrl-C during the heavy imports (cli.main)."""
    import subprocess
    import sys

    code = "import sys, tinygrad_mnist; print(sorted(m for m in sys.modules if m.startswith('tinygrad_mnist')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['tinygrad_mnist']"


@pytest.mark.parametrize("name", ["Tensor", "no_grad", "nn", "optim", "utils", "Value", "cat"])
def test_the_front_door_names_what_each_floor_offers(name):
    import tinygrad_mnist

    assert name in dir(tinygrad_mnist)
    assert getattr(tinygrad_mnist, name) is not None

"""The import contract of docs/architecture.md: imports between the package's layers point one way.

Every ``import`` of the ``connectome`` package — at module level or inside a
function, absolute or relative — is read from the source with :mod:`ast`
(nothing is imported). An import from a lower layer into a higher one (an
*upward* import) fails the test unless it is in :data:`ALLOWED_UPWARD`, the
explicit list of exceptions that remain, each with its reason and the file
that has to change to remove it. The list may only shrink: an entry that no
longer matches an import fails the test too, so a removed exception cannot
linger and a new one cannot hide behind an old one.

Within a layer the modules must not import each other in a cycle either
(:func:`test_no_import_cycles_between_modules`), with its own allow-list.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "connectome"

#: The layers, lowest first; a module may import its own layer and the layers before it.
#: ``connectome.errors`` (the error classes) and the root package's ``__version__`` are
#: below everything; ``connectome`` itself (``__init__``) only re-exports lazily.
LAYERS = [
    ["errors"],
    ["io"],
    ["spikes"],
    ["graph"],
    ["infer", "spiketrains"],
    ["simulate"],
    ["evaluate", "traces"],
    ["devices"],
    ["compile"],
    ["verify"],
    ["report"],
    ["api"],
    ["pipeline"],
    ["commands"],
    ["cli"],
]

#: Upward imports that remain: (importing module, imported module) → (reason, owner file to change).
#: (Empty: the last two, graph.compare → evaluate and graph.traces → infer.params, were removed by moving
#: the majority-channel matching into graph.compare and the pair traces to connectome.traces.)
ALLOWED_UPWARD: dict = {}

#: Private modules or names (a leading underscore) that another subpackage still imports → the file to
#: change. ``spikes._kernels`` is now an alias of the public ``spikes.kernels``; ``infer._kernels`` has no
#: public name yet (its owner decides which kernels the imprint route may share).
ALLOWED_PRIVATE = {
    ("connectome.verify.imprint", "connectome.infer._kernels"): "connectome/verify/imprint.py",
    ("connectome.infer.preprocess", "connectome.spikes._kernels"): "connectome/infer/preprocess.py",
    ("connectome.infer._kernels", "connectome.spikes._kernels"): "connectome/infer/_kernels.py",
}

#: Import cycles between modules of one subpackage that remain: frozenset of the modules → reason.
ALLOWED_CYCLES: dict = {}


def _module_name(path: Path) -> tuple[str, bool]:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def package_imports() -> list[tuple[str, str, int, tuple]]:
    """``(importer, imported module, line, names)`` for every import of ``connectome`` in the package."""
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        mod, is_pkg = _module_name(path)
        pkg = mod if is_pkg else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == "connectome" or a.name.startswith("connectome."):
                        out.append((mod, a.name, node.lineno, ()))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")
                    if node.level > 1:
                        base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target != "connectome" and not target.startswith("connectome."):
                    continue
                names = tuple(a.name for a in node.names)
                if target == "connectome" or not node.module:
                    # ``from .. import x``/``from connectome import x``: each name may be a submodule
                    for n in names:
                        sub = f"{target}.{n}"
                        if (ROOT.parent / Path(*sub.split("."))).with_suffix(".py").exists() or (
                            ROOT.parent / Path(*sub.split("."))
                        ).is_dir():
                            out.append((mod, sub, node.lineno, ()))
                        else:
                            out.append((mod, target, node.lineno, (n,)))
                else:
                    out.append((mod, target, node.lineno, names))
    return out


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of a ``connectome.*`` module (None for the root package)."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for i, layer in enumerate(LAYERS):
        if parts[1] in layer:
            return i
    raise AssertionError(
        f"{module}: not in any layer of tests/test_layering.py::LAYERS (add it, with a reason)"
    )


def upward_imports() -> dict:
    """``{(importer, imported): [lines]}`` for every import into a higher layer."""
    found: dict = {}
    for mod, target, line, names in package_imports():
        lt = layer_of(target)
        if lt is None:  # the root package: only its version may be imported by the layers
            assert mod == "connectome" or names == ("__version__",), (
                f"{mod}:{line} imports {names} from the root package; import from the submodule instead"
            )
            continue
        lm = layer_of(mod) if mod != "connectome" else len(LAYERS)
        if lt > lm:
            found.setdefault((mod, target), []).append(line)
    return found


def test_every_module_has_a_layer():
    for path in ROOT.rglob("*.py"):
        mod, _ = _module_name(path)
        if mod != "connectome":
            layer_of(mod)


def test_imports_point_down_the_layers():
    found = upward_imports()
    new = {k: v for k, v in found.items() if k not in ALLOWED_UPWARD}
    assert not new, "upward imports (see docs/architecture.md):\n" + "\n".join(
        f"  {a} (line {', '.join(map(str, ln))}) imports {b}" for (a, b), ln in sorted(new.items())
    )


def test_allowed_upward_imports_still_exist():
    """An allow-list entry whose import is gone must be deleted: the list only shrinks."""
    found = upward_imports()
    stale = [k for k in ALLOWED_UPWARD if k not in found]
    assert not stale, f"remove these entries from ALLOWED_UPWARD, the imports are gone: {stale}"
    for key, (reason, owner) in ALLOWED_UPWARD.items():
        assert reason and (ROOT.parent / owner).exists(), key


def test_no_private_name_used_across_subpackages():
    """``from connectome.a._x import y`` or ``from connectome.a.x import _y`` only within subpackage ``a``."""
    bad, used = [], set()
    for mod, target, line, names in package_imports():
        t_parts, m_parts = target.split("."), mod.split(".")
        if t_parts[:2] == m_parts[:2]:
            continue
        keys = []
        if any(p.startswith("_") and p != "__init__" for p in t_parts[2:]):
            keys.append(target)
        keys += [f"{target}.{n}" for n in names if n.startswith("_") and n != "__version__"]
        for key in keys:
            pair = (mod, key) if key != target else (mod, target)
            used.add(pair)
            if pair not in ALLOWED_PRIVATE:
                bad.append(f"{mod}:{line} imports the private {key}")
    assert not bad, "\n".join(bad)
    stale = [k for k in ALLOWED_PRIVATE if k not in used]
    assert not stale, f"remove these entries from ALLOWED_PRIVATE, the imports are gone: {stale}"


def _cycles(edges: dict) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_modules():
    """No two modules import each other, directly or around a loop (package ``__init__`` re-exports aside)."""
    edges: dict = {}
    for mod, target, _, _ in package_imports():
        if mod == "connectome" or target == "connectome":
            continue
        # a package's __init__ re-exports its modules: importing the package means importing them,
        # but the __init__ itself is not a participant in its modules' cycles
        if target.count(".") >= 1 and (ROOT.parent / Path(*target.split("."))).is_dir():
            continue
        if mod != target:
            edges.setdefault(mod, set()).add(target)
    cycles = [c for c in _cycles(edges) if frozenset(c) not in ALLOWED_CYCLES]
    assert not cycles, "import cycles:\n" + "\n".join("  " + " ↔ ".join(c) for c in cycles)


@pytest.mark.parametrize("name", ["upward", "private"])
def test_allow_lists_name_their_owner(name):
    table = ALLOWED_UPWARD if name == "upward" else ALLOWED_PRIVATE
    for key, value in table.items():
        owner = value[1] if isinstance(value, tuple) else value
        assert owner.startswith("connectome/") and owner.endswith(".py"), key

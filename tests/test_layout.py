"""The house: imports point down the stages, with no circle, and the shells (the
command line, the web page) use only public names."""

import ast
import pathlib

import pytest

import kmseg

SRC = pathlib.Path(kmseg.__file__).parent

#: The stages from the ground up, as the README's Development section lists them: a
#: module may import its own stage and those below it, never one above.
LAYERS = [
    ["_version", "_validation", "_parallel", "labels"],
    ["_config", "_params", "histogram"],
    ["io", "cluster"],
    ["color", "plot"],
    ["choose"],
    ["pipeline"],
    ["regions"],
    ["metrics", "batch"],
    ["web", "cli", "__main__"],
]
STAGE = {name: level for level, names in enumerate(LAYERS) for name in names}
#: What the shells may import: the public faces, the parameter checks and the
#: defaults every boundary shares, and (the web page) its own modules.
SHELL_SOURCES = {"kmseg", "kmseg.io", "kmseg.metrics", "kmseg.web", "kmseg._validation", "kmseg._params"}


def _modules():
    for path in sorted(SRC.rglob("*.py")) + sorted(SRC.rglob("*.pyx")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = ["kmseg", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _is_module(name):
    rel = pathlib.Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").exists() or (SRC / rel).with_suffix(".pyx").exists() \
        or (SRC / rel / "__init__.py").exists()


def _imports(module, path):
    """``(target, names)`` of every import of a kmseg module, at any depth of the
    file (inside functions too); a package's face counts as the package."""
    if path.suffix == ".pyx":  # Cython: its Python imports, read as text
        tree = ast.parse("\n".join(line for line in path.read_text().splitlines()
                                   if line.startswith(("import ", "from ")) and "cimport" not in line))
    else:
        tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kmseg"):
                    yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("kmseg"):
                continue
            names = [alias.name for alias in node.names]
            subs = [n for n in names if _is_module(f"{target}.{n}")]
            for n in subs:
                yield f"{target}.{n}", []
            if len(subs) < len(names):
                yield target, [n for n in names if n not in subs]


def _stage(module):
    parts = module.split(".")
    return None if len(parts) == 1 else STAGE[parts[1]]


def test_every_room_has_a_stage():
    for module, _ in _modules():
        assert module == "kmseg" or module.split(".")[1] in STAGE, f"{module}: add it to LAYERS"


def test_imports_point_down_the_stages():
    upward = []
    for module, path in _modules():
        here = _stage(module)
        if here is None:
            continue
        for target, _ in _imports(module, path):
            there = _stage(target)
            if there is None:  # the package face: for the shells only (see below)
                if here < STAGE["web"]:
                    upward.append(f"{module} -> kmseg (the public face)")
            elif there > here:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_circles():
    graph = {module: {t for t, _ in _imports(module, path)} for module, path in _modules()}
    state, circles = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    # a package importing its own modules from its face is no circle of rooms
    circles = [c for c in circles if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)]
    assert circles == []


@pytest.mark.parametrize("shell", ["kmseg.cli", "kmseg.web._app", "kmseg.web._upload", "kmseg.web._pictures"])
def test_shells_use_public_names_only(shell):
    path = dict(_modules())[shell]
    private = []
    for target, names in _imports(shell, path):
        if target.startswith("kmseg.web.") and shell.startswith("kmseg.web."):
            continue  # the page's own modules
        if target not in SHELL_SOURCES:
            private.append(target)
        private += [f"{target}.{n}" for n in names if n.startswith("_") and n != "__version__"]
    assert private == []
    for target, names in _imports(shell, path):
        if target in ("kmseg", "kmseg.io", "kmseg.metrics"):
            public = set(__import__(target, fromlist=["__all__"]).__all__) | {"__version__"}
            assert set(names) <= public, (target, set(names) - public)

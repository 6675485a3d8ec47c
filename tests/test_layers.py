"""Services know nothing of the web, and their modules import each other without cycles.

Read from the source with `ast` (nothing is imported), so a forbidden import fails here
even in a module no other test loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "crm" / "services"

# Names a service may not take from flask: they belong to a request, a response or a page.
WEB_NAMES = {
    "request",
    "session",
    "flash",
    "url_for",
    "redirect",
    "abort",
    "render_template",
    "render_template_string",
    "make_response",
}
# Modules a service may not import at all (nor anything below them).
WEB_MODULES = ("flask_login", "flask_wtf", "crm.templating", "crm.scheduler", "apscheduler")
WEB_MODULES += ("blueprints",)
FLASK_WEB = {f"flask.{name}" for name in WEB_NAMES}


def _modules() -> list[Path]:
    return sorted(SERVICES.rglob("*.py"))


def _is_under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts[:-1])


def _imported(node: ast.Import | ast.ImportFrom, path: Path, root: Path = ROOT) -> list[str]:
    """The full names `node` imports (`from crm import templating` is crm.templating)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = node.module or ""
    if node.level:  # relative: from the module's own package
        package = _package_of(path, root).split(".")
        base = package[: len(package) - node.level + 1]
        module = ".".join([*base, module] if module else base)
    return [module] + [f"{module}.{alias.name}" for alias in node.names]


def web_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line name` of every import of the web layer in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names = _imported(node, path, root)
        bad = [name for name in names if _is_under(name, WEB_MODULES)]
        bad += [name for name in names if name in FLASK_WEB]
        if bad:  # one line per import statement
            found.append(f"{path.relative_to(root)}:{node.lineno} {bad[0]}")
    return found


def lazy_service_imports(path: Path, root: Path = ROOT) -> list[str]:
    """`file:line name` of every import of a service module made inside a function or class.

    A function-level import is how a cycle hides: the shared piece belongs in a module both
    sides import, or the orchestration of the two one level up.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for top in tree.body:
        if isinstance(top, ast.Import | ast.ImportFrom):
            continue
        for node in ast.walk(top):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = _imported(node, path, root)
                services = [name for name in names if _is_under(name, ("crm.services",))]
                if services:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {max(services, key=len)}")
    return found


def test_the_checks_see_what_they_look_for(tmp_path):
    """The two readers above find each kind of import they exist to refuse."""
    package = tmp_path / "crm" / "services"
    package.mkdir(parents=True)
    module = package / "sample.py"
    module.write_text(
        "from flask import current_app, url_for\n"
        "import flask_login\n"
        "from crm.templating import money\n"
        "from crm import scheduler\n"
        "from ..templating import url_shape\n"
        "from crm.services import audit\n"
        "\n"
        "def f():\n"
        "    from crm.services import visits\n"
        "    from . import reminders\n"
        "    import crm.services.activity.timeline\n"
        "    from models import Visit\n",
        encoding="utf-8",
    )
    assert [line.split(" ")[1] for line in web_imports(module, tmp_path)] == [
        "flask.url_for",
        "flask_login",
        "crm.templating",
        "crm.scheduler",
        "crm.templating",
    ]
    lazy = lazy_service_imports(module, tmp_path)
    assert [line.split(":")[1].split(" ")[0] for line in lazy] == ["9", "10", "11"]


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(SERVICES)))
def test_services_import_nothing_of_the_web(path):
    assert web_imports(path) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(SERVICES)))
def test_services_import_each_other_at_the_top(path):
    assert lazy_service_imports(path) == []


def _service_graph() -> dict[str, set[str]]:
    """Which service modules each service module imports (at any level)."""
    modules = {_module_name(path): path for path in _modules()}
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                imported.update(n for n in _imported(node, path) if n in modules)
        graph[name] = imported - {name, "crm.services"}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state, path = [], {}, []

    def visit(name: str) -> None:
        state[name] = "open"
        path.append(name)
        for imported in sorted(graph.get(name, ())):
            if state.get(imported) == "open":
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_service_modules_import_each_other_without_cycles():
    assert _cycles(_service_graph()) == []


WEB_PROCESS = """
import importlib, pkgutil, sys
import blueprints, crm.services
from crm import create_app
from crm.extensions import db

app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
with app.app_context():
    db.create_all()
status = app.test_client().get("/healthz").json["scheduler"]["status"]
for package in (blueprints, crm.services):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "apscheduler")
print(status, "crm.scheduler" in sys.modules, loaded[:1])
"""


def test_the_web_process_never_loads_the_scheduler():
    """Pages read the scheduler's heartbeat from its row; APScheduler stays in its process."""
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["never", "False", "[]"]

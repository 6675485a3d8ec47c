"""Work the test process would otherwise repeat for every test's create_app().

Every test builds its own app (~0.45 s each before these): most of it went to two
things that are the same for every app of one process and that no test reads:

- Werkzeug compiles two URL-builder functions per route (Python source → AST →
  compile()), ~1,200 routes per app. The function depends only on the rule's text,
  its parts and its defaults, so one compiled function serves every app's copy of
  the rule (it reads the rule's own converters through its `self` argument).
- flask-smorest writes every API operation into the app's OpenAPI document when the
  blueprint is registered (~0.2 s). Only /api/v1/openapi.json reads that document,
  so here it is written when the document is first read; each app still gets its
  own, built by the same flask-smorest code from the same blueprints.

Only the tests install these (tests/conftest.py); the app itself is unchanged.
"""

from __future__ import annotations

import threading

from werkzeug.routing import rules

_compile_builder = rules.Rule._compile_builder
_builders: dict[tuple, object] = {}
eager_register_blueprint = None


def _cached_compile_builder(self: rules.Rule, append_unknown: bool = True):
    defaults = self.defaults or {}
    key = (
        self.rule,
        tuple(self._trace),
        # a default for a variable of the rule is folded into the function as text
        tuple(sorted((k, repr(v), type(self._converters.get(k))) for k, v in defaults.items())),
        append_unknown,
    )
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


def _install_lazy_api_docs() -> None:
    from blueprints.api import CrmApi

    register_blueprint = CrmApi.register_blueprint

    def register_now(self, blp, *, parameters=None, **options) -> None:
        # The blueprint's routes are registered now; only the document waits.
        pending = self.__dict__.setdefault("_pending_docs", [])
        pending.append((blp, parameters, options))
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

    def write_pending(self) -> None:
        # Taken off only once written: another thread finds it pending until then.
        pending = self.__dict__.get("_pending_docs", [])
        spec = self.__dict__["spec"]
        for blp, parameters, options in pending:
            # What CrmApi.register_blueprint does after registering the routes.
            name = options.get("name", blp.name)
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": getattr(blp, "tag", name), "description": blp.description})
        self.__dict__.pop("_pending_docs", None)

    lock = threading.Lock()  # a live server's threads may ask for it at once

    def get_spec(self):
        if self.__dict__.get("_pending_docs"):
            with lock:
                write_pending(self)
        return self.__dict__.get("spec")

    def set_spec(self, value) -> None:
        self.__dict__["spec"] = value

    global eager_register_blueprint
    eager_register_blueprint = register_blueprint  # tests/test_speedups.py compares
    CrmApi.register_blueprint = register_now
    CrmApi.spec = property(get_spec, set_spec)


def install() -> None:
    rules.Rule._compile_builder = _cached_compile_builder
    _install_lazy_api_docs()

"""The test-only shortcuts of tests/speedups.py change nothing a test can see."""

from __future__ import annotations

import json

from blueprints.api import CrmApi
from crm import create_app
from tests import speedups


def _document(app) -> dict:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def test_the_lazily_written_api_document_is_the_one_written_at_registration(monkeypatch):
    lazy = create_app("testing")
    monkeypatch.setattr(CrmApi, "register_blueprint", speedups.eager_register_blueprint)
    eager = create_app("testing")
    assert "_pending_docs" not in eager.extensions["flask-smorest"]["apis"][""]["ext_obj"].__dict__
    assert json.dumps(_document(lazy)) == json.dumps(_document(eager))
    assert len(_document(lazy)["paths"]) > 20


def test_shared_url_builders_build_every_route_as_a_fresh_compile_does(monkeypatch):
    cached = create_app("testing")
    monkeypatch.setattr("werkzeug.routing.rules.Rule._compile_builder", speedups._compile_builder)
    fresh = create_app("testing")
    values = {"id": 7, "customer_id": 8, "token": "t0k", "filename": "a b.css", "kind": "x"}

    def built(app) -> dict:
        adapter = app.url_map.bind("localhost")
        out = {}
        for rule in app.url_map.iter_rules():
            args = {a: values.get(a, 3) for a in rule.arguments}
            try:
                out[rule.endpoint, rule.rule] = adapter.build(rule.endpoint, {**args, "q": "ä"})
            except Exception as error:  # noqa: BLE001 - a converter refusing a value
                out[rule.endpoint, rule.rule] = repr(error)
        return out

    assert built(cached) == built(fresh)
    assert len(built(cached)) > 200

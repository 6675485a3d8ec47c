"""The JSON API under /api/v1/: flask-smorest on the app's own blueprints.

Why flask-smorest: it mounts on this plain Flask app as blueprints (APIFlask wants its
own app class), and the OpenAPI document (/api/v1/openapi.json) is derived from the
same marshmallow schemas that validate each request, so the contract cannot drift from
the code. The docs page (/api/v1/docs) is Swagger UI served from static/vendor.

Adding a resource (a guide for the next module; docs/api.md says the same for clients)
--------------------------------------------------------------------------------------
1. A module here, e.g. `blueprints/api/visits.py`:

       blp = ApiBlueprint("api_visits", __name__, url_prefix="/api/v1/visits",
                          tag="Visits", description="Visits (the work log).")

   `tag` is the group the docs page shows its operations under, `description` its text.

   `ApiBlueprint` (common.py) authenticates the bearer token before every view, refuses
   writes with a read-only token (403), answers every error as problem+json, exempts
   itself from CSRF and applies the per-token rate limit. Nothing to add per route.
2. Schemas from `fields.py`: `ApiSchema` (unknown fields refused), `Str` (refuses
   control characters; `multiline=True` for notes), `Int`, `Id`, `Money` (decimal
   string), `Day`, `Timestamp` (UTC, RFC 3339), `choice(Enum)`, `max_length(n)`.
   A representation includes `version` when the record has one. Files come as
   multipart/form-data: `@blp.arguments(Schema, location="multipart")` with `File()`
   fields (uploads.py) reads the form's fields and files as one body.
3. Lists: `ListArgs` + the web list's filters as query fields; `paginate(stmt, ORDER,
   limit=..., cursor=...)` (pagination.py) over the SAME scoped query the web list uses
   (a service's search function); `page_of(ItemSchema, "VisitPage")` for the response.
   An `Order` ends with the id so the order is stable.
4. Records: `load(Model, id, *options)` (common.py) = get_in_scope_or_404 with the
   token's user. Ids in the query or body: load them the same way (out of scope: 404).
5. Writes call the SAME service as the web form with `actor=api_user()`; never write
   rows here. Decorate POST views with `@blp.creates` (one commit after the view,
   Idempotency-Key), PATCH/DELETE with `@blp.updates` (one commit). A DomainError
   needs no try/except: the blueprint answers it (422 with the field, 403, 404; a
   StaleEdit 409 with `current`). Call `represents(Model, dump)` (problems.py) once so a
   stale write's 409 carries the stored record.
6. Register the blueprint in `RESOURCES` below, its id routes in tests/routes.py
   (API_ROUTES) and its body/query ids in tests/routes.py (API_ID_FIELDS); the API's
   access matrix, scope tests and Schemathesis run (tests/test_api_*.py) then cover it.
"""

from __future__ import annotations

import http
from importlib import import_module

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from blueprints.api.fields import Money, ProblemSchema
from blueprints.api.problems import PROBLEM_JSON, answer_error
from crm.errors import OTHER_FORMAT

# Resource modules, each with a `blp`; another area adds its module here.
RESOURCES = (
    "blueprints.api.customers",
    "blueprints.api.contacts",
    "blueprints.api.competitors",
    "blueprints.api.stages",
    "blueprints.api.opportunities",
    "blueprints.api.visits",
    "blueprints.api.follow_ups",
    "blueprints.api.handovers",
    "blueprints.api.people",
    "blueprints.api.documents",
    "blueprints.api.tickets",
    "blueprints.api.figures",
)


class CrmApi(Api):
    """flask-smorest's Api with problem+json errors that stay inside the API.

    flask-smorest would answer every HTTP error of the whole app with JSON; the web's
    pages keep their own (crm/errors.py), and the API's blueprints answer theirs.
    """

    ERROR_SCHEMA = ProblemSchema

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        """flask-smorest's, with the blueprint's readable tag and description in the tag
        list (its own lists the blueprint's name, which the operations no longer carry)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        blp.register_views_in_doc(self, self._app, self.spec, name=name, parameters=parameters)
        self.spec.tag({"name": getattr(blp, "tag", name), "description": blp.description})

    def _register_error_handlers(self) -> None:
        self._app.extensions[OTHER_FORMAT] = answer_error

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any refusal, as a problem document.", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


API_SETTINGS = {
    "API_TITLE": "Key-account CRM API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token from the account page.",
                }
            }
        },
        "info": {
            "description": (
                "Personal access tokens in `Authorization: Bearer`; errors as "
                "application/problem+json; cursor pagination; `Idempotency-Key` on POST; "
                "`version` on PATCH. See docs/api.md."
            )
        },
    },
}


def register_api(app: Flask) -> CrmApi:
    """Mount the API and its docs page on the app (one Api per app: tests make many)."""
    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    api = CrmApi(app)
    api.register_field(Money, "string", "decimal")
    for name in RESOURCES:
        api.register_blueprint(import_module(name).blp)
    from blueprints.api.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
    return api

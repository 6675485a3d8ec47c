"""The pipeline's stages over the API: reference data, the same for everyone (no scope).

A script needs their ids to open an opportunity at a stage or move it; which moves are
allowed is the opportunities service's rule (crm/services/pipeline/opportunities.py).
"""

from __future__ import annotations

from flask.views import MethodView

from blueprints.api.common import ApiBlueprint
from blueprints.api.fields import ApiSchema, Bool, Int, Str, choice, page_of
from crm.services.pipeline.stages import all_stages
from models import DocumentRule, Phase

blp = ApiBlueprint(
    "api_stages",
    __name__,
    url_prefix="/api/v1/stages",
    description="The stages of the sales lifecycle, in order (retired ones included).",
)


class StageSchema(ApiSchema):
    id = Int()
    name_zh = Str()
    name_en = Str()
    phase = choice(Phase)
    position = Int()
    probability = Int(metadata={"description": "A move into it sets this (open ones)."})
    is_contract = Bool(metadata={"description": "The stage an opportunity is won at."})
    active = Bool(metadata={"description": "False: retired; nothing moves into it."})
    document_rule = choice(
        DocumentRule, metadata={"description": "require: a document of the kind before a move."}
    )
    document_kind = Str(allow_none=True)


StagePage = page_of(StageSchema, "StagePage")


@blp.route("/")
class Stages(MethodView):
    @blp.reads
    @blp.response(200, StagePage)
    def get(self):
        """Every stage in lifecycle order: a short list, on one page (`next_cursor` null)."""
        return {"items": all_stages(), "next_cursor": None}

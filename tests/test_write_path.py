"""Views write through one path, blueprints/common.write: one service call, one commit.

Its refusals are tested with the views (a race only the flush notices: test_stale_races).
"""

from __future__ import annotations

import re
from pathlib import Path

BLUEPRINTS = Path(__file__).resolve().parent.parent / "blueprints"

# A view that commits or rolls back itself writes a second path.
OWN_WRITE = re.compile(r"db\.session\.(commit|rollback)\(")

# Still to be moved onto the write path (remove a file here when it is).
NOT_YET = {"auth/routes.py", "handovers/routes.py"}
# The JSON API's own write path (blueprints/api/common.py: one commit after a create or an
# update): its token check records the token's last use, and its error answer rolls back
# the refused write before answering.
API_WRITE_PATH = {"api/auth.py", "api/problems.py"}


def _own_writes(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if OWN_WRITE.search(line)]


def test_views_commit_only_through_the_write_path():
    found = {
        str(path.relative_to(BLUEPRINTS)): _own_writes(path)
        for path in sorted(BLUEPRINTS.rglob("*.py"))
        if path.name != "common.py"
    }
    assert {
        name: lines
        for name, lines in found.items()
        if lines and name not in NOT_YET | API_WRITE_PATH
    } == {}

"""Control characters: text the app refuses wherever it arrives (forms, URLs, imported files).

PostgreSQL cannot store NUL at all (the request failed with a 500), and the other
C0 controls, DEL and the C1 controls are never meant: they come with text pasted
from binary files, terminals or broken exports and would then sit invisibly in
names and searches. Tab, line feed and carriage return belong to multi-line text
(notes, a textarea, a cell with line breaks) and nowhere else.

One set of rules, read by the form base class (blueprints/common.py: CrmForm), the
request check of every query string and form (crm/app.py) and the import's checker.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

# C0 controls but tab, line feed and carriage return; DEL; C1 controls.
_NEVER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same, and tab, line feed and carriage return: text of one line.
_NOT_ON_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS = "\t\n\r"


def find_control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character of `text` that may not be stored, or None."""
    match = (_NEVER if multiline else _NOT_ON_ONE_LINE).search(text)
    return match.group() if match else None


def code_point(char: str) -> str:
    """How a message names an invisible character: U+0000."""
    return f"U+{ord(char):04X}"


def control_character_message(char: str) -> object:
    """Why a field or cell holding `char` is refused, in words the user can act on."""
    if char in LINE_BREAKS:
        return _l("This field holds one line of text: remove the tab or line break.")
    return _l(
        "This text contains an invisible control character (%(code)s) that cannot be "
        "stored. Remove it (typing the text again is the surest way).",
        code=code_point(char),
    )

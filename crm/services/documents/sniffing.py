"""What a file is, read from its bytes: the allow-list of document types.

The browser's content type and the file's name are not trusted: a script renamed
`offer.pdf` is refused. puremagic (pure Python, maintained, no system library to
install on a new host, unlike python-magic's libmagic) reads the signature; the Office
formats are ZIP containers, told apart (and macro-enabled ones refused) by the main
part named in their `[Content_Types].xml`. Legacy Office files share one signature
(OLE), so there the name's extension picks which of the three it is. SVG is refused
altogether: it is XML that can carry script.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import puremagic

HEAD = 64 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    # The browser's own viewer may show it (PDF and common images); others download.
    inline: bool = False
    image: bool = False


PDF = FileType("application/pdf", "pdf", inline=True)
JPEG = FileType("image/jpeg", "jpg", inline=True, image=True)
PNG = FileType("image/png", "png", inline=True, image=True)
WEBP = FileType("image/webp", "webp", inline=True, image=True)
HEIC = FileType("image/heic", "heic")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
DOC = FileType("application/msword", "doc")
XLS = FileType("application/vnd.ms-excel", "xls")
PPT = FileType("application/vnd.ms-powerpoint", "ppt")

BY_CONTENT_TYPE = {t.content_type: t for t in (PDF, JPEG, PNG, WEBP, HEIC, DOCX, XLSX, PPTX)}
BY_CONTENT_TYPE["image/heif"] = HEIC
# The main part of an Office Open XML package, by the type [Content_Types].xml gives it.
OOXML_MAIN = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_BY_EXTENSION = {"doc": DOC, "xls": XLS, "ppt": PPT}
ZIP_SIGNATURE = b"PK\x03\x04"
# The types the upload form's `accept` offers (a hint for the picker; the server decides).
ACCEPT = ".pdf,.jpg,.jpeg,.png,.webp,.heic,.docx,.xlsx,.pptx,.doc,.xls,.ppt"
KNOWN = {t.content_type: t for t in (PDF, JPEG, PNG, WEBP, HEIC, DOCX, XLSX, PPTX, DOC, XLS, PPT)}


def known(content_type: str) -> FileType | None:
    """The allowed type stored under this content type (for serving a stored version)."""
    return KNOWN.get(content_type)


def _ooxml(path: Path) -> FileType | None:
    try:
        with zipfile.ZipFile(path) as package:
            types = package.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
        return None
    found = {kind for marker, kind in OOXML_MAIN.items() if marker in types}
    # Exactly one main part; a macro-enabled package names another type and is refused.
    return found.pop() if len(found) == 1 else None


def sniff(path: Path, filename: str) -> FileType | None:
    """The allowed type of the file at `path`, or None when it is not on the list."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    if not head:
        return None
    if head.startswith(ZIP_SIGNATURE):
        return _ooxml(path)
    if head.startswith(OLE_SIGNATURE):
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return OLE_BY_EXTENSION.get(extension)
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    for match in sorted(matches, key=lambda m: -m.confidence):
        found = BY_CONTENT_TYPE.get(match.mime_type)
        if found is not None:
            return found
    return None

"""Small JPEG previews of uploaded images, made once at upload with Pillow.

Bounded: an image whose pixel count Pillow's decompression-bomb guard flags, or that
does not decode, simply gets no thumbnail (the upload itself is still accepted).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = (320, 320)
# Larger images than this are not decoded for a thumbnail (a phone photo is ~12-50 MP).
MAX_PIXELS = 80_000_000


def make_thumbnail(path: Path) -> bytes | None:
    """A JPEG at most 320 px on its longer side, or None when the image cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return None
                image.draft("RGB", SIZE)  # JPEG: decode at a reduced scale, far less memory
                image = ImageOps.exif_transpose(image)  # phones store photos sideways
                image.thumbnail(SIZE)
                if image.mode != "RGB":
                    image = image.convert("RGB")
                out = io.BytesIO()
                image.save(out, "JPEG", quality=80)
                return out.getvalue()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
    ):
        return None

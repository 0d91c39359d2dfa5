"""Upload checks for work order photos: an image is one that Pillow decodes, not one whose
first bytes look right; what is stored is a re-encoded copy without its metadata.

A phone photo carries EXIF (the GPS position where it was taken, the device, the time) and
sometimes XMP; neither is kept. The orientation the camera recorded is applied to the pixels
first, so the photo still shows the right way up. Images that would take too much memory to
decode (decompression bombs: a few kilobytes claiming gigapixels) are refused from their
header, before any pixel is decoded.
"""

import io
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # a 48-megapixel phone sensor bins to 12 MP by default
MAX_PHOTO_SIDE = 12_000

# Pillow format: (content type, extension). Animated GIF and WebP keep their first frame.
_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# Modes each format can store as they are; anything else is converted first.
_STORABLE_MODES = {
    "JPEG": {"RGB", "L", "CMYK"},
    "PNG": {"RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16"},
    "GIF": {"P", "L"},
    "WEBP": {"RGB", "RGBA"},
}
_NOT_AN_IMAGE = "Only photos are accepted: JPEG, PNG, WebP or GIF images that open completely."


@dataclass(frozen=True)
class CleanPhoto:
    """A decoded, re-encoded photo ready to store: no EXIF, no XMP, orientation applied."""

    content: bytes
    content_type: str
    extension: str


def clean_photo(upload) -> CleanPhoto:
    """Decode the upload with Pillow and re-encode it without metadata.

    Raises ValidationError for an empty or too large file, anything Pillow cannot decode in
    full as JPEG, PNG, GIF or WebP (a truncated file, valid magic bytes followed by garbage),
    and images with more than MAX_PHOTO_PIXELS pixels or a side longer than MAX_PHOTO_SIDE.
    """
    if upload.size > MAX_PHOTO_BYTES:
        raise ValidationError(
            f"The photo is {upload.size / 1024 / 1024:.1f} MB; at most "
            f"{MAX_PHOTO_BYTES // 1024 // 1024} MB are accepted.",
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError("The file is empty.", code="empty")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload, formats=list(_FORMATS)) as image:
                _check_dimensions(image.size)
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
                return _reencode(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ValidationError(_NOT_AN_IMAGE, code="not_an_image") from None
    finally:
        upload.seek(0)


def _check_dimensions(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PHOTO_PIXELS or max(width, height) > MAX_PHOTO_SIDE:
        raise _too_many_pixels(width, height)


def _too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationError:
    found = f"{width} x {height} pixels" if width else "far too many pixels"
    return ValidationError(
        f"The photo has {found}; at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels and "
        f"{MAX_PHOTO_SIDE} pixels a side are accepted.",
        code="too_many_pixels",
    )


def _reencode(image: Image.Image) -> CleanPhoto:
    """The pixels alone, turned upright, in the upload's own format."""
    image_format = image.format
    icc_profile = image.info.get("icc_profile")  # colours, not metadata: kept
    upright = ImageOps.exif_transpose(image)
    # EXIF, XMP, comments, PNG text: nothing is carried over but a palette's transparency.
    upright.info = {k: v for k, v in upright.info.items() if k == "transparency"}
    if upright.mode not in _STORABLE_MODES[image_format]:
        keeps_alpha = image_format in ("PNG", "WEBP") and "A" in upright.getbands()
        upright = upright.convert("RGBA" if keeps_alpha else "RGB")
        if image_format == "GIF":
            upright = upright.convert("P")
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if image_format in ("JPEG", "WEBP"):
        options["quality"] = 90
    out = io.BytesIO()
    upright.save(out, image_format, **options)
    content_type, extension = _FORMATS[image_format]
    return CleanPhoto(out.getvalue(), content_type, extension)

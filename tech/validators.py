"""Upload checks for work order photos: images only, recognised by their first bytes."""

from django.core.exceptions import ValidationError

MAX_PHOTO_BYTES = 10 * 1024 * 1024

# (content type, extension, test on the file's first bytes)
_SIGNATURES = (
    ("image/jpeg", "jpg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/png", "png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/gif", "gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", "webp", lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
)


def sniff_image(upload) -> tuple[str, str]:
    """The (content type, extension) of an uploaded image, judged by its bytes, not its name.

    Raises ValidationError for anything that is not a JPEG, PNG, GIF or WebP image, or is
    larger than MAX_PHOTO_BYTES.
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
    head = upload.read(16)
    upload.seek(0)
    for content_type, extension, matches in _SIGNATURES:
        if matches(head):
            return content_type, extension
    raise ValidationError(
        "Only photos are accepted: JPEG, PNG, WebP or GIF images.", code="not_an_image"
    )

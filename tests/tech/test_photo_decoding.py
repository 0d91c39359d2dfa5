"""Photos are images because Pillow decodes them, not because of their first bytes; what is
stored is re-encoded without EXIF (no GPS position), turned upright; decompression bombs and
oversized images are refused with a clear error before any pixel is decoded."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tech import services
from tests.factories import image_bytes, image_upload

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ROTATED_90_CLOCKWISE = 6  # EXIF: the pixels must turn 90° clockwise to be upright


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def phone_jpeg() -> bytes:
    """A 40 x 20 JPEG as a phone writes it: EXIF with a GPS position and an orientation."""
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATED_90_CLOCKWISE
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # Berlin
    )
    return image_bytes("JPEG", size=(40, 20), exif=exif.tobytes())


def add(technician, work, content: bytes, name="photo.jpg"):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return services.work_order_photo_add(work_order=work, by=technician, upload=upload)


def refusal(technician, work, content: bytes, name="photo.jpg") -> str:
    with pytest.raises(ValidationError) as refused:
        add(technician, work, content, name)
    assert work.photos.count() == 0
    return " ".join(refused.value.message_dict["image"])


def stored_image(media, photo) -> Image.Image:
    return Image.open(io.BytesIO((media / photo.image.name).read_bytes()))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's shape)."""
    real = image_bytes("PNG", size=(1, 1))
    ihdr = real[16:29]  # width, height, depth, colour type, compression, filter, interlace
    claimed = struct.pack(">II", width, height) + ihdr[8:]
    chunk = b"IHDR" + claimed
    return real[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + real[33:]


def test_the_test_jpeg_really_carries_gps_and_orientation():
    original = Image.open(io.BytesIO(phone_jpeg()))
    assert original.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert original.getexif()[ORIENTATION] == ROTATED_90_CLOCKWISE


def test_a_phone_jpeg_is_stored_without_exif_and_turned_upright(technician, work, media):
    photo = add(technician, work, phone_jpeg())

    stored = stored_image(media, photo)
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert stored.getexif().get_ifd(GPS_IFD) == {}
    assert "exif" not in stored.info
    assert stored.size == (20, 40)  # the orientation is applied to the pixels
    assert photo.content_type == "image/jpeg"
    assert photo.size == (media / photo.image.name).stat().st_size
    assert b"PhoneMaker" not in (media / photo.image.name).read_bytes()


def test_a_png_is_stored_as_a_png_with_its_pixels(technician, work, media):
    photo = add(technician, work, image_bytes("PNG", size=(8, 6), color=(10, 120, 240)), "a.png")

    stored = stored_image(media, photo)
    assert (stored.format, stored.size, photo.content_type) == ("PNG", (8, 6), "image/png")
    assert stored.convert("RGB").getpixel((3, 3)) == (10, 120, 240)
    assert photo.image.name.endswith(".png")


def test_a_truncated_jpeg_is_refused(technician, work):
    whole = image_bytes("JPEG", size=(64, 64))

    message = refusal(technician, work, whole[: len(whole) // 2])

    assert "Only photos are accepted" in message


@pytest.mark.parametrize(
    "magic",
    [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"],
    ids=["jpeg", "png", "gif", "webp"],
)
def test_valid_magic_bytes_followed_by_garbage_are_refused(technician, work, magic):
    polyglot = magic + b"<html><script>alert(document.cookie)</script></html>" * 20

    message = refusal(technician, work, polyglot)

    assert "Only photos are accepted" in message


def test_a_decompression_bomb_is_refused_from_its_header(technician, work):
    message = refusal(technician, work, png_claiming(100_000, 100_000), "bomb.png")

    assert "at most 40 megapixels and 12000 pixels a side are accepted" in message


def test_an_image_over_the_pixel_limit_is_refused_naming_its_size(technician, work):
    message = refusal(technician, work, png_claiming(8000, 6000), "big.png")

    assert message.startswith("The photo has 8000 x 6000 pixels; at most 40 megapixels")


def test_an_image_with_too_long_a_side_is_refused(technician, work):
    message = refusal(technician, work, image_bytes("PNG", size=(12_001, 1)), "strip.png")

    assert message.startswith("The photo has 12001 x 1 pixels")


def test_the_photo_form_shows_why_a_polyglot_was_refused(client_for, technician, work):
    fake = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff" + b"garbage" * 50)

    response = client_for(technician).post(f"/tech/work-orders/{work.pk}/photos/", {"image": fake})

    assert response.status_code == 400
    assert "Only photos are accepted" in response.content.decode()
    assert work.photos.count() == 0


def test_a_real_photo_through_the_form_is_accepted(client_for, technician, work):
    upload = image_upload("JPEG", size=(32, 24))

    response = client_for(technician).post(
        f"/tech/work-orders/{work.pk}/photos/", {"image": upload}
    )

    assert response.status_code == 302
    assert work.photos.get().content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("image_format", "mode", "content_type"),
    [
        ("JPEG", "CMYK", "image/jpeg"),
        ("JPEG", "L", "image/jpeg"),
        ("PNG", "RGBA", "image/png"),
        ("PNG", "LA", "image/png"),
        ("PNG", "P", "image/png"),
        ("GIF", "P", "image/gif"),
        ("WEBP", "RGBA", "image/webp"),
        ("WEBP", "RGB", "image/webp"),
    ],
)
def test_every_accepted_format_and_mode_is_stored_in_its_own_format(
    technician, work, media, image_format, mode, content_type
):
    out = io.BytesIO()
    Image.new(mode, (9, 7)).save(out, image_format)

    photo = add(technician, work, out.getvalue(), "any-name.bin")

    stored = stored_image(media, photo)
    assert (stored.format, stored.size, photo.content_type) == (image_format, (9, 7), content_type)

"""A photo's file exists exactly when its row does: no orphan files after a rollback or delete."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from tech import services
from tech.models import WorkOrderPhoto
from tests.factories import image_bytes
from workorders.models import WorkOrderEvent

pytestmark = pytest.mark.django_db

PNG = image_bytes("PNG")


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def upload():
    return SimpleUploadedFile("x.png", PNG, content_type="image/png")


def test_a_committed_photo_has_its_file_in_storage(technician, work, media):
    photo = services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    assert stored_files(media) == [media / photo.image.name]
    assert (media / photo.image.name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert work.events.filter(data__photo=photo.pk).exists()


@pytest.mark.parametrize(
    "error", [IntegrityError("duplicate key"), ValidationError("refused late")]
)
def test_a_failure_after_the_file_is_written_rolls_back_and_deletes_the_file(
    technician, work, media, error
):
    written = []
    real_save = WorkOrderPhoto.save

    def save_then_note_the_file(photo, *args, **kwargs):
        written.append(media / photo.image.name)
        return real_save(photo, *args, **kwargs)

    with (
        mock.patch.object(WorkOrderPhoto, "save", save_then_note_the_file),
        mock.patch.object(WorkOrderEvent.objects, "create", side_effect=error),
        pytest.raises(type(error)),
    ):
        services.work_order_photo_add(work_order=work, by=technician, upload=upload())

    assert len(written) == 1 and not written[0].exists()
    assert stored_files(media) == []
    assert WorkOrderPhoto.objects.count() == 0


def test_a_failing_commit_deletes_the_file(technician, work, media):
    real_atomic = transaction.atomic

    class CommitFails:
        """The service's transaction (a savepoint inside the test's) fails as it ends, after
        every statement, as a deferred constraint fails at COMMIT."""

        def __init__(self, inner):
            self.inner = inner

        def __enter__(self):
            return self.inner.__enter__()

        def __exit__(self, *exc):
            self.inner.__exit__(*exc)
            raise IntegrityError("deferred constraint failed at COMMIT")

    def atomic(*args, **kwargs):
        return CommitFails(real_atomic(*args, **kwargs))

    with mock.patch.object(transaction, "atomic", atomic), pytest.raises(IntegrityError):
        services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    assert stored_files(media) == []


def test_inside_a_callers_transaction_a_refusal_deletes_the_file_and_keeps_the_callers(
    technician, work, media
):
    """The safety confirmation and the idempotent pages call the service inside their own
    transaction: its savepoint rolls back with the file deleted, and the caller carries on."""
    with transaction.atomic():
        with (
            mock.patch.object(
                WorkOrderEvent.objects, "create", side_effect=ValidationError({"caption": "No."})
            ),
            pytest.raises(ValidationError),
        ):
            services.work_order_photo_add(work_order=work, by=technician, upload=upload())
        assert stored_files(media) == []
        assert WorkOrderPhoto.objects.count() == 0  # the caller's transaction is usable
        photo = services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    assert stored_files(media) == [media / photo.image.name]


def test_a_rollback_in_the_view_leaves_no_file(client_for, technician, work, media):
    with mock.patch.object(
        WorkOrderEvent.objects, "create", side_effect=ValidationError({"caption": "No."})
    ):
        response = client_for(technician).post(
            f"/tech/work-orders/{work.pk}/photos/", {"image": upload(), "caption": "Coupling"}
        )
    assert response.status_code == 400
    assert stored_files(media) == []
    assert work.photos.count() == 0


def test_deleting_a_photo_deletes_its_file_after_commit(
    technician, work, media, django_capture_on_commit_callbacks
):
    photo = services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    path = media / photo.image.name
    with django_capture_on_commit_callbacks(execute=True):
        photo.delete()
        assert path.exists(), "deleted before the commit"
    assert not path.exists()


def test_a_rolled_back_delete_keeps_the_file(
    technician, work, media, django_capture_on_commit_callbacks
):
    photo = services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    pk = photo.pk
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        photo.delete()
        raise RuntimeError("changed my mind")
    assert callbacks == []
    assert (media / photo.image.name).exists()
    assert WorkOrderPhoto.objects.filter(pk=pk).exists()


def test_photos_deleted_in_bulk_lose_their_files_after_commit(
    technician, work, media, django_capture_on_commit_callbacks
):
    for _ in range(2):
        services.work_order_photo_add(work_order=work, by=technician, upload=upload())
    assert len(stored_files(media)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        work.photos.all().delete()
    assert stored_files(media) == []

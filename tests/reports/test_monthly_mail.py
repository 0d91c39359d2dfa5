"""Beat mails last month's report to each customer's recipients, once per customer and month."""

from datetime import UTC, datetime
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import IntegrityError

from reports import services
from reports.models import SentReport
from reports.tasks import send_monthly_reports
from tests.reports.conftest import BERLIN

pytestmark = pytest.mark.django_db

FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 7, 17, tzinfo=BERLIN)


@pytest.fixture
def locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_the_task_is_scheduled_hourly_on_the_first_of_the_month_on_the_housekeeping_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["reports-monthly"]
    assert entry["task"] == "reports.tasks.send_monthly_reports"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1} and schedule.minute == {17} and len(schedule.hour) == 24
    assert settings.CELERY_TASK_ROUTES[entry["task"]] == {"queue": "housekeeping"}


def test_the_first_run_mails_last_months_pdf_and_a_second_run_mails_nothing(known, locmem):
    known.customer.report_recipients = "ops@acme.example\n\nnot an address\nboss@acme.example\n"
    known.customer.save()
    with time_machine.travel(FIRST_OF_NOVEMBER, tick=False):
        assert send_monthly_reports() == 1
        assert send_monthly_reports() == 0
    [message] = mail.outbox
    assert message.to == ["ops@acme.example", "boss@acme.example"]
    assert message.subject == "Monthly maintenance report: Acme Foods, October 2026"
    assert "C-ACME-1: 71.4 %" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"report-{known.customer.pk}-2026-10.pdf"
    assert mimetype == "application/pdf" and content.startswith(b"%PDF-")
    sent = SentReport.objects.get()
    assert (sent.customer, f"{sent.month:%Y-%m}", sent.recipients) == (known.customer, "2026-10", 2)
    assert sent.sent_at is not None


def test_customers_without_recipients_get_no_report(known, locmem):
    known.customer.report_recipients = ""
    known.customer.save()
    with time_machine.travel(FIRST_OF_NOVEMBER, tick=False):
        assert send_monthly_reports() == 0
    assert mail.outbox == [] and not SentReport.objects.exists()


def test_a_failed_mail_is_sent_again_by_a_later_run_after_the_grace(known, locmem):
    with time_machine.travel(FIRST_OF_NOVEMBER, tick=False):
        with mock.patch.object(services.EmailMessage, "send", side_effect=OSError("smtp down")):
            assert send_monthly_reports() == 0
        assert send_monthly_reports() == 0  # the claim is still held
    assert mail.outbox == []
    with time_machine.travel(FIRST_OF_NOVEMBER.replace(hour=8), tick=False):
        assert send_monthly_reports() == 1
    assert len(mail.outbox) == 1


def test_a_second_claim_on_the_same_month_is_refused_by_the_database(known):
    month = FIRST_OF_NOVEMBER.date().replace(month=10)
    SentReport.objects.create(customer=known.customer, month=month, claimed_at=FIRST_OF_NOVEMBER)
    with pytest.raises(IntegrityError):
        SentReport.objects.create(
            customer=known.customer, month=month, claimed_at=FIRST_OF_NOVEMBER
        )


def test_a_report_waits_until_the_month_has_ended_at_the_customers_sites(known, locmem, settings):
    settings.TIME_ZONE = "UTC"
    known.site.timezone = "America/Chicago"  # October ends there at 05:00 UTC on 1 November
    known.site.save()
    with time_machine.travel(datetime(2026, 11, 1, 0, 17, tzinfo=UTC), tick=False):
        assert send_monthly_reports() == 0
    assert mail.outbox == [] and not SentReport.objects.exists()  # not even claimed
    with time_machine.travel(datetime(2026, 11, 1, 5, 17, tzinfo=UTC), tick=False):
        assert send_monthly_reports() == 1
    [message] = mail.outbox
    assert message.subject == "Monthly maintenance report: Acme Foods, October 2026"
    assert SentReport.objects.get().sent_at is not None

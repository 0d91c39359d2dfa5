"""E-mailing the monthly report to each customer's report recipients, once per month.

`monthly_reports_send` is what beat runs (hourly on the first of the month): for every customer
with recipients it claims the (customer, previous month) row of `SentReport` with a conditional
update, renders the PDF and mails it. A second run finds the row sent and does nothing; a claim
left unsent (mail server down, worker killed) is taken again after `CLAIM_GRACE`. A customer
whose month has not ended yet in its sites' zone (west of UTC, at the first runs) is neither
claimed nor sent: a later run of the day sends it.
"""

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from assets.models import Customer
from reports.figures import monthly_report, report_scope
from reports.models import SentReport
from reports.months import previous_month
from reports.pdf import render_report_pdf, report_context, report_filename

logger = logging.getLogger(__name__)

CLAIM_GRACE = timedelta(minutes=30)


def report_recipients(customer: Customer) -> list[str]:
    """The valid addresses of `report_recipients` (one per line; blank lines and invalid
    addresses are skipped, the latter logged), without duplicates, in their order."""
    addresses = []
    for line in customer.report_recipients.splitlines():
        address = line.strip()
        if not address or address in addresses:
            continue
        try:
            validate_email(address)
        except ValidationError:
            logger.warning("customer %s: %r is not an e-mail address", customer.pk, address)
            continue
        addresses.append(address)
    return addresses


def _claim(*, customer: Customer, month: date, now: datetime) -> SentReport | None:
    """The (customer, month) row, claimed for this run; None when it is sent or claimed by
    another run within the grace."""
    try:
        with transaction.atomic():
            record, _ = SentReport.objects.get_or_create(
                customer=customer, month=month, defaults={"claimed_at": now - 2 * CLAIM_GRACE}
            )
    except IntegrityError:  # another run created it between our read and our insert
        record = SentReport.objects.get(customer=customer, month=month)
    claimed = SentReport.objects.filter(
        Q(claimed_at__lt=now - CLAIM_GRACE), pk=record.pk, sent_at=None
    ).update(claimed_at=now)
    return record if claimed == 1 else None


def monthly_report_send(*, customer: Customer, month: date, now: datetime) -> bool:
    """Mail `customer`'s report for `month` to its recipients unless it was already, or the
    month has not ended yet in the zone of the customer's sites; True when this call sent
    it."""
    recipients = report_recipients(customer)
    if not recipients:
        return False
    scope = report_scope(customer=customer, month=month, now=now)
    if now < scope.end:
        # The month has not ended in the sites' zone yet (beat's first run on the 1st is
        # 00:17 UTC, Chicago's month ends at 06:00 UTC): a later hourly run sends it.
        return False
    record = _claim(customer=customer, month=month, now=now)
    if record is None:
        return False
    report = monthly_report(scope)
    context = report_context(report)
    message = EmailMessage(
        subject=f"Monthly maintenance report: {customer.name}, {report.scope.period_label}",
        body=render_to_string("reports/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach(report_filename(report), render_report_pdf(report), "application/pdf")
    message.send()
    SentReport.objects.filter(pk=record.pk).update(
        sent_at=timezone.now(), recipients=len(recipients)
    )
    return True


def monthly_reports_send(*, now: datetime | None = None) -> int:
    """Mail last month's report to every customer with recipients; how many were sent."""
    now = now or timezone.now()
    month = previous_month(timezone.localdate(now))
    customers = Customer.objects.exclude(report_recipients="").order_by("pk")
    sent = 0
    for customer in customers:
        try:
            sent += monthly_report_send(customer=customer, month=month, now=now)
        except Exception:  # one customer's failure must not stop the others; retried later
            logger.exception("monthly report of customer %s for %s not sent", customer.pk, month)
    return sent

"""What the reports app keeps: which monthly reports have been e-mailed."""

from django.db import models


class SentReport(models.Model):
    """The monthly report of one customer for one month, claimed for e-mailing.

    Unique per (customer, month), so beat running the send twice (or two workers at once)
    mails it once. `sent_at` stays empty while the claim is held; a claim older than the
    grace of `reports.services` without `sent_at` (the mail failed or the worker died) may be
    taken again by a later run.
    """

    customer = models.ForeignKey(
        "assets.Customer", on_delete=models.CASCADE, related_name="sent_reports"
    )
    month = models.DateField(help_text="The first day of the month reported.")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-month", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "month"], name="sent_report_once"),
        ]

    def __str__(self):
        return f"{self.customer} {self.month:%Y-%m}"

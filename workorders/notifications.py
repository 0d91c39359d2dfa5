"""Messages to people about their work: the assignee hears that a work order is theirs."""

from django.conf import settings
from django.core.mail import send_mail

from workorders.models import WorkOrder


def work_order_assignee_notify(*, work_order_id: int) -> None:
    """E-mail the assigned technician that a work order is theirs (nobody, or no address: none)."""
    work_order = (
        WorkOrder.objects.select_related("assignee", "asset", "site")
        .filter(pk=work_order_id, assignee__isnull=False)
        .first()
    )
    if work_order is None or not work_order.assignee.email:
        return
    asset = work_order.asset.tag if work_order.asset else "-"
    send_mail(
        subject=f"[{work_order.site.code}] {work_order.number} P{work_order.priority}: "
        f"{work_order.title}",
        message=(
            f"{work_order.number} is assigned to you.\n\n"
            f"Asset: {asset}\nPriority: {work_order.get_priority_display()}\n"
            f"Due: {work_order.due_at:%Y-%m-%d %H:%M %Z}\n\n{work_order.description}\n\n"
            f"{settings.SITE_URL}{work_order.get_absolute_url()}\n"
        ),
        from_email=None,
        recipient_list=[work_order.assignee.email],
    )

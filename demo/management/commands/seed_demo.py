from django.conf import settings
from django.core.management.base import BaseCommand

from demo.data import DEMO_PASSWORD, demo_logins, seed_demo


class Command(BaseCommand):
    help = (
        "Create the demo data set (customers, three plants, ~200 assets, parts, stock, users "
        "and work orders in every status). Does nothing if the demo data is already there."
    )

    def handle(self, *args, **options):
        if seed_demo():
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already exists; nothing changed.")
        self._print_logins()

    def _print_logins(self):
        logins = demo_logins()
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write(f"  {'username':<20} {'role':<16} {'sites':<10} API token")
        for login in logins:
            self.stdout.write(
                f"  {login.username:<20} {login.role:<16} {login.sites:<10} {login.token}"
            )
        base = settings.SITE_URL
        self.stdout.write("")
        self.stdout.write(f"Admin (planners):  {base}/admin/")
        self.stdout.write(f"API docs:          {base}/api/v1/docs/")
        self.stdout.write(
            f'API example:       curl -H "Authorization: Token <token>" {base}/api/v1/work-orders/'
        )

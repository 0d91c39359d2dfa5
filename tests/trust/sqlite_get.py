"""GET API paths on a fresh in-memory SQLite database and print each answer's status as JSON.

Run by tests/trust/test_odd_input.py in a subprocess (the test suite itself runs on
PostgreSQL): `python tests/trust/sqlite_get.py < paths.json`. SQLite refuses integers beyond
64 bits in Python (OverflowError), where PostgreSQL compares them as numerics.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.update(DATABASE_URL="sqlite:///:memory:", DJANGO_SETTINGS_MODULE="cmms.settings")
for name in ("CELERY_BROKER_URL", "CACHE_URL"):
    os.environ.pop(name, None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402


def main() -> None:
    paths = json.load(sys.stdin)
    call_command("migrate", verbosity=0, interactive=False)
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("probe", "probe@example.com", "x"))
    print(json.dumps({path: client.get(path).status_code for path in paths}))


if __name__ == "__main__":
    main()

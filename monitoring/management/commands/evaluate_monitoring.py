import time
from datetime import timedelta

from django.core.management.base import BaseCommand

from monitoring.choices import Transform
from monitoring.evaluation import Method, evaluate, report_lines

QUICK_SERIES = 24


class Command(BaseCommand):
    help = (
        "Generate synthetic run-to-failure series (seeded), run the anomaly and trend "
        "detectors over them and print the figures of issue 20 (docs/monitoring.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--series", type=int, default=240, help="series in the set")
        parser.add_argument("--seed", type=int, default=20, help="the set's seed")
        parser.add_argument(
            "--quick", action="store_true", help=f"a small set ({QUICK_SERIES} series) for CI"
        )
        parser.add_argument(
            "--swing",
            action="store_true",
            help="add a slow swing (20-60 days, up to 3 noise sigmas) to every series",
        )
        parser.add_argument("--window-days", type=int, default=21, help="the trend's window")
        parser.add_argument(
            "--transform", choices=Transform.values, default=Transform.AUTO, help="trend scale"
        )

    def handle(self, *args, **options):
        count = QUICK_SERIES if options["quick"] else options["series"]
        method = Method(
            window=timedelta(days=options["window_days"]), transform=options["transform"]
        )
        started = time.monotonic()
        report = evaluate(
            seed=options["seed"], count=count, method=method, with_swing=options["swing"]
        )
        for line in report_lines(report, method):
            self.stdout.write(line)
        self.stdout.write(f"Evaluated in {time.monotonic() - started:.1f} s.")

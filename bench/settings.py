"""Benchmark settings: the production settings plus one bare view (the framework floor)."""

from cmms.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

"""Gateways and sensors going silent and coming back: transitions, events, and their work.

(Interface; the checks helper builds it.)
"""

from datetime import datetime


def gateway_heard(*, gateway, now: datetime) -> None:
    """A signed heartbeat was just stored for `gateway`: if its recorded connectivity is not
    online, record the recovery now (event, timeline, unstarted work closed) instead of
    waiting for the next check. Called by the heartbeat ingest, inside its transaction."""

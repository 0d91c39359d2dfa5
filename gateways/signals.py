"""Signals gateways send to the apps above them, which it may not import (import-linter).

`gateway_access_changed(sender=Gateway, gateway_id=UUID)` is sent after the commit that changed
who may connect as a gateway: it was created, its secrets rotated or retired, it was enabled or
disabled, or its Sparkplug identity changed. The mqtt app reconciles the gateway's broker
client with it (mqtt.signals); a lost signal is repaired by the periodic reconciliation.
"""

from django.dispatch import Signal

gateway_access_changed = Signal()

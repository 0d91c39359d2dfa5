import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from gateways.models import Gateway
from tests.factories import AssetFactory, EquipmentClassFactory, SiteFactory, TechnicianFactory

_ids = itertools.count(1)


@pytest.fixture
def plant(db):
    """A site with a pump P-101 (class pump) below a line, a gateway and a vibration technician."""
    site = SiteFactory(code="plant1", timezone="Europe/Berlin")
    line = AssetFactory(site=site, tag="L-1", level="line")
    pump = AssetFactory(
        site=site, tag="P-101", parent=line, equipment_class=EquipmentClassFactory(code="pump")
    )
    gateway = Gateway.objects.create(site=site, name="edge-1")
    tech = TechnicianFactory(sites=[site], skills=["vibration", "mechanical"])
    return {"site": site, "line": line, "pump": pump, "gateway": gateway, "tech": tech}


@pytest.fixture
def make_alert(plant):
    """Store an alert as the webhook would (status received) and return it."""

    def make(**fields) -> Alert:
        asset = fields.pop("asset", plant["pump"])
        values = {
            "gateway": plant["gateway"],
            "site": plant["site"],
            "alert_id": f"a-{next(_ids)}",
            "asset": asset,
            "asset_tag": asset.tag if asset else "X-999",
            "condition": "vibration.high",
            "severity": "critical",
            "observed_at": timezone.now() - timedelta(seconds=5),
            "value": 11.2,
            "unit": "mm/s",
            "threshold": 7.1,
            "content_hash": "x",
        }
        values.update(fields)
        return Alert.objects.create(**values)

    return make

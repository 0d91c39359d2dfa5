"""The work order admin shows the sign-off signatures, each linking to its drawing."""

import pytest

from tests.workorders.test_signatures import SIGNED
from workorders import signatures

pytestmark = pytest.mark.django_db

from tests.workorders.test_signatures import media, plan_needing_both, running  # noqa: E402, F401


def test_the_admin_shows_each_signature_with_a_thumbnail_link(
    client_for,
    planner,
    technician,
    running,
    media,  # noqa: F811
):
    signature = signatures.work_order_signature_add(
        work_order=running, role="client", signer_name="Clara Client", image=SIGNED, by=technician
    )
    html = (
        client_for(planner)
        .get(f"/admin/workorders/workorder/{running.pk}/change/")
        .content.decode()
    )
    assert "sign-off signatures" in html.lower()
    assert "Clara Client" in html
    assert f'<a href="/tech/signatures/{signature.pk}/"><img' in html
    assert "Signed off by client representative: Clara Client" in html

"""The gateway admin moved with its model from the alerts app to the gateways app."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/admin/alerts/gateway/", "/admin/gateways/gateway/"),
        (
            "/admin/alerts/gateway/?is_active__exact=1",
            "/admin/gateways/gateway/?is_active__exact=1",
        ),
        (
            "/admin/alerts/gateway/0b7c5f1e-4d0c-4f51-9b53-0f8f3c7b1a2d/change/",
            "/admin/gateways/gateway/0b7c5f1e-4d0c-4f51-9b53-0f8f3c7b1a2d/change/",
        ),
    ],
)
def test_an_old_gateway_admin_address_redirects_to_the_same_page_in_the_gateways_app(
    client, old, new
):
    response = client.get(old)

    assert response.status_code == 302
    assert response["Location"] == new

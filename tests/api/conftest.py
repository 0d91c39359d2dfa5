import pytest

from tests.factories import (
    CustomerViewerFactory,
    PlannerFactory,
    SiteFactory,
    SuperuserFactory,
    TechnicianFactory,
)


@pytest.fixture
def site_a():
    return SiteFactory()


@pytest.fixture
def site_b():
    return SiteFactory()


@pytest.fixture
def planner(site_a):
    return PlannerFactory(sites=[site_a])


@pytest.fixture
def technician(site_a):
    return TechnicianFactory(sites=[site_a])


@pytest.fixture
def viewer(site_a):
    return CustomerViewerFactory(sites=[site_a])


@pytest.fixture
def superuser():
    return SuperuserFactory()


@pytest.fixture
def as_user(api):
    """`as_user(user)` returns the API client authenticated as that user."""

    def login(user):
        api.force_authenticate(user)
        return api

    return login

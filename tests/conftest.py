import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    """An API client; call api.force_authenticate(user) to act as someone."""
    return APIClient()


@pytest.fixture
def logged_in():
    """logged_in(user): a browser-like test client with that user logged in (admin, pages)."""
    from django.test import Client

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with PBKDF2 dominates factory time; tests do not need it to be slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

"""API token authentication: django-rest-knox's hashed tokens, `Authorization: Token <key>`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication
from rest_framework import exceptions


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check, with a key that is not UTF-8, or holds a NUL character, refused as
    an invalid token (401).

    knox decodes the key without catching the error, and PostgreSQL refuses NUL in the
    look-up: either would answer 500 to a client.
    """

    def authenticate_credentials(self, token: bytes):
        try:
            key = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if "\x00" in key:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)


class ApiTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of knox tokens, for our subclass. It keeps the name DRF's
    plaintext tokens had (`tokenAuth`), so clients generated from the schema keep working.
    """

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

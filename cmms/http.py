"""Response helpers shared by the API, the admin and the pages."""

from django.http import HttpResponseBase


def never_store(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response that carries a secret shown once (a gateway secret, an API token).

    Browsers, proxies and HTTP/1.0 caches must not keep a copy: the secret would outlive the
    page in a disk cache or the back button.
    """
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response

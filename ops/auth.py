"""Login throttling: django-axes for every login made over the web (admin, /tech/ login)."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses logins of a (username, client IP) pair that failed too often (django-axes).

    Logins without a web request (management commands, the test client's `login()`) have no
    client to throttle and pass through to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

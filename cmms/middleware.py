"""Refuse page input that the database cannot take before any view or form sees it."""

from django.http import HttpResponseBadRequest

from cmms.inputs import first_with_nul


class RefuseNulInputMiddleware:
    """A query parameter or form field of a page holding a NUL character is a 400.

    PostgreSQL text cannot hold NUL, so `/tech/?q=%00` reached the database and answered 500;
    one check here covers every page, search box and filter (technician, planner, admin,
    login). The API and the webhooks (csrf-exempt views) validate their own input and answer
    with the offending field in their own JSON format.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "csrf_exempt", False):
            return None
        name = first_with_nul(request.GET)
        if name is None and request.method == "POST":
            name = first_with_nul(request.POST)
        if name is None:
            return None
        return HttpResponseBadRequest(
            f"The parameter {name!r} contains a NUL character, which is not allowed.",
            content_type="text/plain; charset=utf-8",
        )

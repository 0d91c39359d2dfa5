from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare_accept(request, gateway_id):
    """The framework floor: read the body and answer 202, through the same middleware."""
    request.read()
    return JsonResponse({"accepted": 1}, status=202)

from accounts.api import views


def register(router):
    router.register("users", views.UserViewSet, basename="user")
    router.register("api-tokens", views.ApiTokenViewSet, basename="api-token")

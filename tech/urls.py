from django.urls import path

from tech import pwa, views

app_name = "tech"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("offline/pages.json", pwa.offline_pages, name="offline-pages"),
    path("requests/new/", views.request_work, name="request-work"),
    path("work-orders/<int:pk>/", views.work_order_detail, name="work-order"),
    path("work-orders/<int:pk>/approval/", views.client_approval, name="client-approval"),
    path("work-orders/<int:pk>/start/", views.work_order_start, name="start"),
    path("work-orders/<int:pk>/pause/", views.work_order_pause, name="pause"),
    path("work-orders/<int:pk>/resume/", views.work_order_resume, name="resume"),
    path("work-orders/<int:pk>/complete/", views.work_order_complete, name="complete"),
    path("work-orders/<int:pk>/steps/<int:step_id>/", views.step_record, name="step"),
    path(
        "work-orders/<int:pk>/steps/<int:step_id>/confirm/",
        views.safety_step_confirm,
        name="safety-confirm",
    ),
    path("work-orders/<int:pk>/labour/", views.labour_add, name="labour"),
    path("work-orders/<int:pk>/parts/", views.part_issue, name="parts"),
    path("work-orders/<int:pk>/parts/search/", views.part_search, name="part-search"),
    path("work-orders/<int:pk>/notes/", views.note_add, name="note"),
    path("work-orders/<int:pk>/photos/", views.photo_add, name="photo"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/checks/<int:check_id>/", views.round_result, name="round-result"),
    path("rounds/<int:pk>/complete/", views.round_complete, name="round-complete"),
    path("photos/<int:photo_id>/", views.photo_file, name="photo-file"),
    path("signatures/<int:signature_id>/", views.signature_file, name="signature-file"),
    path("assets/labels/", views.asset_labels, name="asset-labels"),
    path("assets/<int:pk>/", views.asset_detail, name="asset"),
    path("assets/<int:pk>/report/", views.asset_report_problem, name="report-problem"),
    path("assets/<int:pk>/label/", views.asset_label, name="asset-label"),
]

from django.urls import path, re_path

from reports import views

app_name = "reports"

MONTH = r"(?P<month>\d{4}-\d{2})"

urlpatterns = [
    path("", views.index, name="index"),
    re_path(rf"^customers/(?P<pk>\d+)/{MONTH}/$", views.report_page, name="report"),
    re_path(rf"^customers/(?P<pk>\d+)/{MONTH}\.pdf$", views.report_pdf, name="report-pdf"),
]

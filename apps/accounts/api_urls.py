from django.urls import path

from apps.accounts import views

urlpatterns = [path("whoami/", views.whoami, name="whoami")]

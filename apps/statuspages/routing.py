from django.urls import path

from apps.statuspages.live import status_socket

websocket_urlpatterns = [path("ws/status/<str:token>/", status_socket)]

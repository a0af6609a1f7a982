from django.urls import path

from apps.realtime.consumers import gateway

websocket_urlpatterns = [path("ws/realtime/", gateway)]

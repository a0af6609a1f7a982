import os

from django.urls import path

from apps.realtime.consumers import gateway

websocket_urlpatterns = [path("ws/realtime/", gateway)]

if os.environ.get("GATEWAY_BENCH_BASELINE") == "1":
    # Only for bench/bench_gateway.py: the stock Channels design it is compared against.
    from apps.realtime.baseline import StockGroupConsumer

    websocket_urlpatterns.append(path("ws/bench/stock/", StockGroupConsumer.as_asgi()))

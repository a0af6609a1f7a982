from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "apps.realtime"
    label = "realtime"
    verbose_name = "Realtime gateway"

    def ready(self) -> None:
        from apps.realtime import signals  # noqa: F401

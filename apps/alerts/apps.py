from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "apps.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from apps.alerts import caches, receivers  # noqa: F401 (caches connects its signals)

        receivers.connect()

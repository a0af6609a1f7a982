from django.apps import AppConfig


class StatusPagesConfig(AppConfig):
    name = "apps.statuspages"
    label = "statuspages"
    verbose_name = "Wedding status pages"

    def ready(self) -> None:
        from apps.statuspages import signals

        signals.connect()

from django.apps import AppConfig


class CachingConfig(AppConfig):
    name = "apps.caching"
    label = "caching"
    verbose_name = "Cache"

    def ready(self) -> None:
        from apps.caching import signals

        signals.connect()

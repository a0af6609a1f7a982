from django.apps import AppConfig


class WeddingsConfig(AppConfig):
    name = "apps.weddings"
    label = "weddings"

    def ready(self) -> None:
        from apps.weddings import signals  # noqa: F401  (registers the receivers)

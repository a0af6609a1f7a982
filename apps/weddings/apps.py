from django.apps import AppConfig


class WeddingsConfig(AppConfig):
    name = "apps.weddings"
    label = "weddings"

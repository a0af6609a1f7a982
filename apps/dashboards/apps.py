from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "apps.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        from apps.dashboards import push
        from apps.dashboards.live import connect_receiver

        connect_receiver()
        push.connect()

from django.apps import AppConfig


class ScalingConfig(AppConfig):
    name = "apps.scaling"
    label = "scaling"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from apps.scaling.context import bump_calendar_version, forget_emergency
        from apps.scaling.models import EmergencyCapacity
        from apps.weddings.models import Region, RegionMonth, Venue, Wedding

        # Any calendar change invalidates the cached forecast context at once.
        for model in (Wedding, Venue, Region, RegionMonth):
            post_save.connect(bump_calendar_version, sender=model, weak=False)
            post_delete.connect(bump_calendar_version, sender=model, weak=False)
        post_save.connect(forget_emergency, sender=EmergencyCapacity, weak=False)
        post_delete.connect(forget_emergency, sender=EmergencyCapacity, weak=False)

        from apps.monitoring.signals import samples_ingested
        from apps.scaling.observe import remember_samples

        samples_ingested.connect(remember_samples, weak=False, dispatch_uid="scaling-observe")

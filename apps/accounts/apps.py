from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.accounts import (
            logout,  # noqa: F401  (connects the logout receiver)
            token_cache,
        )
        from apps.accounts.groups import sync_groups

        token_cache.connect_receivers()

        # After every migrate, so new models' permissions reach the groups too.
        post_migrate.connect(sync_groups, sender=self, dispatch_uid="accounts.sync_groups")

"""`Authorization: Token <key>`: a staff member's API token or a supplier's gateway token."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from apps.accounts.roles import SupplierPrincipal


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        from apps.weddings.models import Supplier

        if key.startswith(Supplier.TOKEN_PREFIX):
            supplier = Supplier.authenticate(key)
            if supplier is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked supplier token.")
            return SupplierPrincipal(supplier), supplier
        return super().authenticate_credentials(key)

"""`Authorization: Token <key>`: a staff member's API token or a supplier's gateway token.

Here, not in apps.accounts, because it knows suppliers: accounts sits below the calendar."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from apps.accounts import token_cache
from apps.accounts.roles import SupplierPrincipal
from apps.weddings.models import Supplier


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        if key.startswith(Supplier.TOKEN_PREFIX):
            supplier = Supplier.authenticate(key)
            if supplier is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked supplier token.")
            return SupplierPrincipal(supplier), supplier
        # Staff tokens: a few seconds of memory instead of a query per request (see
        # token_cache for the revocation bound). Inactive users never enter it.
        known = token_cache.get(key)
        if known is None:
            known = super().authenticate_credentials(key)  # (user, token)
            token_cache.put(key, known)
        return known

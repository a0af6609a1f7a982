"""DRF permissions by role: operators read, admins write, suppliers see their own."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.accounts.roles import is_admin, is_operator


class StaffReadAdminWrite(BasePermission):
    """Operators (and admins) read; only admins write. Supplier tokens are refused."""

    message = "Operators may read; only admins may change this."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return is_operator(request.user)
        return is_admin(request.user)


class OperatorAction(BasePermission):
    """Operators may perform it (acknowledge an alert, trigger an emergency)."""

    message = "Only operations staff may do this."

    def has_permission(self, request, view) -> bool:
        return is_operator(request.user)


class AdminOnly(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class StaffOrSupplierRead(BasePermission):
    """Staff as StaffReadAdminWrite; a supplier token may read (views scope it to its own)."""

    message = "Suppliers may only read their own records; operators read; admins write."

    def has_permission(self, request, view) -> bool:
        if getattr(request.user, "supplier", None) is not None:
            return request.method in SAFE_METHODS
        return StaffReadAdminWrite().has_permission(request, view)

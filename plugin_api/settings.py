"""A plugin's stored settings: small JSON values per (plugin, key), cached for a few seconds.

``settings.get(session, "coupons", "expiry_days", 30)``; ``settings.put(...)`` inside a write
transaction. A plugin's settings schema (``register_settings_schemas``) validates what the back
office saves here.
"""
from siyu.core.settings import bump_catalog_revision, forget, get, get_all, put

__all__ = ["get", "get_all", "put", "forget", "bump_catalog_revision"]

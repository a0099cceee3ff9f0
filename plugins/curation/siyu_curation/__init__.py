"""Siyu curation: the shop's curated catalog, capped near thirty items (hard ceiling 50).

Enabled, it replaces the storefront listing (``catalog_products`` / ``catalog_sorts``) with
the main catalog in manual order, shows a few hero items, and advises which items to rotate.
"""

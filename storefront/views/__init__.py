"""One blueprint per storefront area."""

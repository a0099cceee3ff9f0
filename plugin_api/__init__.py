"""The public plugin API (web-free): everything a plugin needs, documented in docs/plugin-api.md."""

"""Flask pieces of the check-in plugin: storefront pages, back office, widgets, commands."""

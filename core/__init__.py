"""Siyu core: models, services, hook specifications and the plugin manager.

The core knows no web layer: it never imports ``siyu.storefront`` nor reads a request,
so its services work the same from the CLI, background jobs and tests.
"""
import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations: ``@hookimpl def on_order_paid(session, order): ...``
hookimpl = pluggy.HookimplMarker("siyu")
hookspec = pluggy.HookspecMarker("siyu")

__all__ = ["hookimpl", "hookspec", "__version__"]

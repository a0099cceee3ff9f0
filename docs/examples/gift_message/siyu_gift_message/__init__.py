"""Gift message: a Siyu plugin (entry point ``siyu: gift_message``, hooks in ``plugin.py``)."""

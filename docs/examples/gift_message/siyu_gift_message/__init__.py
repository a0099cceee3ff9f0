"""Gift message: a note for the recipient, written at checkout, shown on the order and to staff.

The plugin built in ``docs/writing-plugins.md`` (entry point ``siyu: gift_message``).
"""

"""Scene values that fit WeChat's parametric QR codes, and parsing its scan events.

WeChat permanent codes take a scene id 1–100000 or a scene string of 1–64 characters. A
scan by a non-follower arrives as ``subscribe`` with EventKey ``qrscene_<value>``, by a
follower as ``SCAN`` with the bare value. Scenes here are restricted to URL-safe characters
so the same value works in the short URL ``/q/<scene>``.
"""
from __future__ import annotations

import re

from siyu.plugin import lazy_gettext as _l

SCENE_ID_MIN = 1
SCENE_ID_MAX = 100_000
SCENE_STR_MAX = 64
SUBSCRIBE_PREFIX = "qrscene_"
_STRING = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,5}$")


def scene_problem(value: str) -> str | None:
    """Why ``value`` cannot be a scene (translatable), or ``None`` when it can."""
    if not value:
        return _l("Enter a scene value.")
    if len(value) > SCENE_STR_MAX:
        return _l("A scene string has at most %(n)d characters.", n=SCENE_STR_MAX)
    if not _STRING.match(value):
        return _l("Use only letters, digits, '-' and '_'.")
    if value.isdigit():
        if not _NUMBER.match(value) or not SCENE_ID_MIN <= int(value) <= SCENE_ID_MAX:
            return _l("A numeric scene is a permanent scene id from %(lo)d to %(hi)d, without leading zeros.",
                      lo=SCENE_ID_MIN, hi=SCENE_ID_MAX)
    elif value.lower().startswith(SUBSCRIBE_PREFIX):
        return _l("A scene may not start with 'qrscene_'.")
    return None


def is_valid_scene(value: str) -> bool:
    return isinstance(value, str) and scene_problem(value) is None


def scene_id_of(value: str) -> int | None:
    """The permanent scene id a (valid) scene stands for, or ``None`` for a scene string."""
    return int(value) if value.isdigit() else None


def parse_wechat_event(event: str | None, event_key: str | None) -> str | None:
    """The scene of a WeChat scan event, or ``None`` when it is not a valid channel scan.

    ``subscribe`` + ``qrscene_<v>`` (a new follower scanned) and ``SCAN`` + ``<v>`` (a
    follower scanned) both give ``<v>``; a plain follow (empty key) and other events give
    ``None``.
    """
    kind = (event or "").strip().lower()
    key = (event_key or "").strip()
    if kind == "subscribe":
        if not key.startswith(SUBSCRIBE_PREFIX):
            return None
        key = key[len(SUBSCRIBE_PREFIX):]
    elif kind != "scan":
        return None
    return key if is_valid_scene(key) else None

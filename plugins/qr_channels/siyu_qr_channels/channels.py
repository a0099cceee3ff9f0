"""Channel services: create and edit channels, find them by scene or WeChat event."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    lazy_gettext as _l, name_problem, NotFound, Product, to_int, ValidationError, write_transaction,
)
from siyu_qr_channels.models import KINDS, TARGETS, Channel
from siyu_qr_channels.scenes import SCENE_ID_MAX, parse_wechat_event, scene_id_of, scene_problem

EDITABLE = ("name", "kind", "target", "target_value", "notes", "active")
_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _clean(session: Session, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    values = {
        "name": str(data.get("name") or "").strip(),
        "kind": str(data.get("kind") or "store"),
        "target": str(data.get("target") or "home"),
        "target_value": str(data.get("target_value") or "").strip(),
        "notes": str(data.get("notes") or "").strip(),
        "active": bool(data.get("active", True)),
    }
    errors: dict[str, Any] = {}
    if not values["name"]:
        errors["name"] = _l("Enter a name.")
    elif len(values["name"]) > 100:
        errors["name"] = _l("Use at most 100 characters.")
    elif name_problem(values["name"]):
        errors["name"] = name_problem(values["name"])
    if values["kind"] not in KINDS:
        errors["kind"] = _l("Choose a kind.")
    if len(values["notes"]) > 1000:
        errors["notes"] = _l("Use at most 1000 characters.")
    target, ref = values["target"], values["target_value"]
    if target not in TARGETS:
        errors["target"] = _l("Choose where the code leads.")
    elif target == "product":
        product_id = to_int(ref, 1) if ref.isdigit() else None
        if product_id is None or session.get(Product, product_id) is None:
            errors["target_value"] = _l("Enter the number of an existing product.")
    elif target == "coupon":
        if not ref or len(ref) > 64 or not set(ref) <= _CODE_CHARS:
            errors["target_value"] = _l("Enter the coupon code (letters, digits, '-' and '_').")
    else:
        values["target_value"] = ""
    return values, errors


SCENE_LOCK = 0x51_52_43_48  # "QRCH": one advisory lock key for handing out scene ids


def _next_scene_id(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        # Owners adding channels at once wait here instead of colliding on max + 1.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCENE_LOCK})
    highest = session.scalar(select(func.max(Channel.scene_id))) or 0
    if highest < SCENE_ID_MAX:
        return highest + 1
    # Every id up to the ceiling has been handed out once: look for a gap.
    used = set(session.scalars(select(Channel.scene_id).where(Channel.scene_id.is_not(None))))
    free = next((i for i in range(1, SCENE_ID_MAX + 1) if i not in used), None)
    if free is None:
        raise ValidationError(_l("All 100000 permanent scene ids are in use; enter a scene string."),
                              fields={"scene": _l("no permanent scene id left")})
    return free


def create_channel(session: Session, data: Mapping[str, Any]) -> Channel:
    """Create a channel; a blank ``scene`` takes the next free permanent scene id."""
    values, errors = _clean(session, data)
    scene = str(data.get("scene") or "").strip()
    if scene:
        problem = scene_problem(scene)
        if problem is not None:
            errors["scene"] = problem
        elif session.scalar(select(Channel.id).where(Channel.scene == scene)) is not None:
            errors["scene"] = _l("Another channel already uses this scene.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    for _attempt in range(5):  # two owners adding channels at once may pick the same id
        try:
            with write_transaction(session):
                value = scene or str(_next_scene_id(session))
                channel = Channel(scene=value, scene_id=scene_id_of(value), **values)
                session.add(channel)
            return channel
        except IntegrityError:
            if scene:
                break
    raise ValidationError(_l("Another channel already uses this scene."),
                          fields={"scene": _l("Another channel already uses this scene.")})


def update_channel(session: Session, channel: Channel, data: Mapping[str, Any]) -> Channel:
    """Change what a channel is called and where it leads; its scene never changes."""
    values, errors = _clean(session, data)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    with write_transaction(session):
        fresh = session.get(Channel, channel.id, with_for_update=True)
        if fresh is None:
            raise NotFound(_l("Channel not found."))
        for key in EDITABLE:
            setattr(fresh, key, values[key])
    return fresh


def active_channel_by_scene(session: Session, scene: str) -> Channel | None:
    """The active channel for a scene; unknown, invalid or disabled scenes give ``None``."""
    if not isinstance(scene, str) or scene_problem(scene) is not None:
        return None
    return session.scalar(select(Channel).where(Channel.scene == scene, Channel.active.is_(True)))


def channel_for_wechat_event(session: Session, event: str | None, event_key: str | None) -> Channel | None:
    """The active channel a WeChat ``subscribe``/``SCAN`` event came through, if any."""
    scene = parse_wechat_event(event, event_key)
    return active_channel_by_scene(session, scene) if scene else None


def channel_names(session: Session) -> dict[int, Channel]:
    return {c.id: c for c in session.scalars(select(Channel))}

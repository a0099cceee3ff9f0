"""Channels: validation, scene ids handed out in order, immutable scenes, WeChat lookup."""
import pytest

from siyu.plugin import ValidationError
from siyu.plugin.testing import make_product
from siyu_qr_channels.channels import (
    active_channel_by_scene, channel_for_wechat_event, create_channel, update_channel,
)


def test_blank_scene_takes_the_next_permanent_id(db):
    a = create_channel(db, {"name": "Counter", "kind": "store"})
    b = create_channel(db, {"name": "Fair", "kind": "event"})
    assert (a.scene, a.scene_id, b.scene, b.scene_id) == ("1", 1, "2", 2)
    c = create_channel(db, {"name": "Poster", "kind": "poster", "scene": "spring-poster"})
    assert c.scene == "spring-poster" and c.scene_id is None
    assert create_channel(db, {"name": "Next", "kind": "staff"}).scene == "3"


def test_explicit_numeric_scene_moves_the_counter(db):
    create_channel(db, {"name": "Shop", "scene": "500"})
    assert create_channel(db, {"name": "Then", "kind": "store"}).scene == "501"


@pytest.mark.parametrize("data,field", [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "A", "kind": "billboard"}, "kind"),
    ({"name": "A", "target": "elsewhere"}, "target"),
    ({"name": "A", "target": "product", "target_value": "999"}, "target_value"),
    ({"name": "A", "target": "coupon", "target_value": ""}, "target_value"),
    ({"name": "A", "scene": "100001"}, "scene"),
    ({"name": "A", "scene": "x" * 65}, "scene"),
    ({"name": "A", "scene": "qrscene_1"}, "scene"),
    ({"name": "A", "scene": "门店"}, "scene"),
])
def test_bad_input_is_refused_with_the_field(db, data, field):
    with pytest.raises(ValidationError) as info:
        create_channel(db, data)
    assert field in info.value.fields


def test_duplicate_scene_is_refused(db):
    create_channel(db, {"name": "A", "scene": "fair"})
    with pytest.raises(ValidationError) as info:
        create_channel(db, {"name": "B", "scene": "fair"})
    assert "scene" in info.value.fields


def test_product_target_and_update_keeps_the_scene(db):
    product = make_product(db)
    channel = create_channel(db, {"name": "A", "target": "product", "target_value": str(product.id)})
    updated = update_channel(db, channel, {"name": "B", "kind": "partner", "target": "signup",
                                           "target_value": "ignored", "scene": "other", "active": False})
    assert (updated.name, updated.kind, updated.target, updated.target_value, updated.active) == \
        ("B", "partner", "signup", "", False)
    assert updated.scene == channel.scene


def test_lookup_ignores_disabled_unknown_and_invalid(db):
    live = create_channel(db, {"name": "Live", "scene": "live"})
    off = create_channel(db, {"name": "Off", "scene": "off"})
    update_channel(db, off, {"name": "Off", "active": False})
    assert active_channel_by_scene(db, "live").id == live.id
    assert active_channel_by_scene(db, "off") is None
    assert active_channel_by_scene(db, "nope") is None
    assert active_channel_by_scene(db, "../etc") is None


def test_wechat_events_resolve_to_the_channel(db, kernel):
    channel = create_channel(db, {"name": "Counter"})
    assert channel_for_wechat_event(db, "subscribe", f"qrscene_{channel.scene}").id == channel.id
    assert channel_for_wechat_event(db, "SCAN", channel.scene).id == channel.id
    assert channel_for_wechat_event(db, "subscribe", "") is None
    # adapters ask through the plugin's hook, without importing the plugin
    assert kernel.pm.hook.qr_channels_from_wechat_event(session=db, event="SCAN", event_key=channel.scene).id \
        == channel.id

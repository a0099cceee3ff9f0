"""Scene values fit WeChat's parametric codes; both scan event forms parse to the scene."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu_qr_channels.scenes import is_valid_scene, parse_wechat_event, scene_id_of


@pytest.mark.parametrize("scene", ["1", "42", "100000", "store-1", "A_b-9", "x" * 64, "0x1"])
def test_valid_scenes(scene):
    assert is_valid_scene(scene)


@pytest.mark.parametrize("scene", ["", "0", "100001", "007", "9999999", "x" * 65, "a b", "店铺",
                                   "a/b", "qrscene_1", "QRSCENE_x", "a?b", "a%20"])
def test_invalid_scenes(scene):
    assert not is_valid_scene(scene)


def test_scene_id_only_for_numbers():
    assert scene_id_of("100000") == 100000
    assert scene_id_of("store-1") is None


@pytest.mark.parametrize("event,key,expected", [
    ("subscribe", "qrscene_42", "42"),
    ("subscribe", "qrscene_store-1", "store-1"),
    ("SCAN", "42", "42"),
    ("scan", "store-1", "store-1"),
    ("subscribe", "", None),            # a plain follow, no code
    ("subscribe", "42", None),          # subscribe always carries the prefix
    ("SCAN", "qrscene_42", None),
    ("SCAN", "100001", None),           # beyond the permanent id range
    ("CLICK", "42", None),
    (None, None, None),
])
def test_parse_wechat_event(event, key, expected):
    assert parse_wechat_event(event, key) == expected


scenes = st.one_of(st.integers(1, 100000).map(str),
                   st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
                   .filter(lambda s: not s.isdigit() and not s.lower().startswith("qrscene_")))


@given(scenes)
def test_both_event_forms_give_the_same_scene(scene):
    assert is_valid_scene(scene)
    assert parse_wechat_event("subscribe", f"qrscene_{scene}") == scene
    assert parse_wechat_event("SCAN", scene) == scene

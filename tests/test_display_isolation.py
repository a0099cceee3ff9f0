"""Display isolation on pluggy's own call: wrappers and monitoring work, failures name the plugin."""
from __future__ import annotations

import logging

from markupsafe import Markup

from siyu.core import hookimpl
from siyu.core.cards import CardChoice, CardType, card_choices
from siyu.core.plugin_admin import read_choice_at_startup
from siyu.core.plugins import call_isolated, make_plugin_manager
from siyu.storefront import hookspecs as web_hookspecs


class GoodSlot:
    @hookimpl
    def storefront_slot(self, slot, context):
        return Markup("<p class='promo'>Spring tea is here</p>") if slot == "home_top" else None


class BrokenSlot:
    @hookimpl
    def storefront_slot(self, slot):
        raise RuntimeError("widget exploded")


class FramedSlots:
    """A wrapper sees the other implementations' markup and frames it."""

    @hookimpl(wrapper=True)
    def storefront_slot(self, slot):
        parts = yield
        return [Markup('<div class="framed">{}</div>').format(part) for part in parts]


class BrokenWrapper:
    @hookimpl(wrapper=True)
    def storefront_slot(self, slot):
        yield
        raise RuntimeError("wrapper exploded")


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "siyu.plugins"]


def test_a_wrapper_of_a_slot_frames_the_markup_on_the_page(client, register_plugin, caplog):
    register_plugin(GoodSlot(), name="good-slot")
    register_plugin(BrokenSlot(), name="broken-slot")
    register_plugin(FramedSlots(), name="framed")
    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        html = client.get("/").get_data(as_text=True)
    assert "<div class=\"framed\"><p class='promo'>Spring tea is here</p></div>" in html
    assert "generator object" not in html
    assert "plugin broken-slot failed in display hook storefront_slot; skipped" in messages(caplog)


def test_a_failing_wrapper_loses_the_slot_not_the_page(client, register_plugin, caplog):
    register_plugin(GoodSlot(), name="good-slot")
    register_plugin(BrokenWrapper(), name="broken-wrapper")
    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        response = client.get("/")
    assert response.status_code == 200 and "Spring tea is here" not in response.get_data(as_text=True)
    assert "plugin broken-wrapper failed in display hook storefront_slot; skipped" in messages(caplog)


def test_display_calls_are_monitored_as_any_hook_call():
    pm = make_plugin_manager(extra_plugins=[GoodSlot(), FramedSlots()], hookspecs=[web_hookspecs])
    seen = []
    pm.add_hookcall_monitoring(lambda name, impls, kwargs: seen.append((name, len(impls))), lambda *args: None)
    assert call_isolated(pm, "storefront_slot", slot="home_top", context={}) == [
        Markup("<div class=\"framed\"><p class='promo'>Spring tea is here</p></div>")]
    assert seen == [("storefront_slot", 2)]  # one pluggy call: both implementations, the wrapper included


def test_card_choices_of_a_broken_plugin_are_left_out_and_logged(kernel, db, register_plugin, caplog):
    def broken(session):
        raise RuntimeError("choices exploded")

    class Cards:
        @hookimpl
        def register_card_types(self, register):
            register(CardType(name="broken_card", label="Broken", render_member=lambda p, s: "", choices=broken))
            register(CardType(name="fine_card", label="Fine", render_member=lambda p, s: "",
                              choices=lambda session: [CardChoice("one", "One", {})]))

    register_plugin(Cards(), name="cards-plugin")
    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        found = card_choices(kernel, db)
    assert [(card.name, choice.key) for card, choice in found if card.name.endswith("_card")] == [("fine_card", "one")]
    assert "plugin cards-plugin failed in card type broken_card (choices); skipped" in messages(caplog)


def test_an_unreadable_plugin_choice_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="siyu.plugins"):
        assert read_choice_at_startup("postgresql://nobody@127.0.0.1:1/none") == ([], [])
    assert any("choice of plugins could not be read" in m for m in messages(caplog))

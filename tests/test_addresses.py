"""The address book's service: phones, the division chain, lengths, one default."""
import pytest
from conftest import fresh
from fulfilment_helpers import ADDRESS
from sqlalchemy import func, select

from siyu.core import addresses, regions
from siyu.core.errors import NotFound, ValidationError
from siyu.core.members import sign_up
from siyu.core.models import MemberAddress


def fields_of(values):
    with pytest.raises(ValidationError) as caught:
        addresses.validate({**ADDRESS, **values})
    return caught.value.fields


@pytest.mark.parametrize("raw, e164", [
    ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("+85291234567", "+85291234567"),      # Hong Kong mobile, E.164
    ("+44 7911 123456", "+447911123456"),  # UK mobile
])
def test_good_phones_are_stored_in_e164(raw, e164):
    assert addresses.validate({**ADDRESS, "phone": raw})["phone"] == e164


@pytest.mark.parametrize("raw", ["", "1381234567", "23812345678", "010-12345678", "+8601012345678",
                                 "+1 555", "phone", "1" * 40, "+86 138 1234 5678 9"])
def test_bad_phones_get_a_field_error(raw):
    assert "phone" in fields_of({"phone": raw})


def test_the_division_chain_is_checked_and_names_come_from_the_data():
    clean = addresses.validate({**ADDRESS, "province_code": "330000", "city_code": "330100",
                                "district_code": "330106", "province_name": "forged"})
    assert (clean["province_name"], clean["city_name"], clean["district_name"]) == ("浙江省", "杭州市", "西湖区")
    assert set(fields_of({"province_code": "990000"})) == {"province_code"}     # unknown province
    assert set(fields_of({"province_code": ""})) == {"province_code"}
    assert set(fields_of({"city_code": "440300"})) == {"city_code"}           # Shenzhen is not in Zhejiang
    assert set(fields_of({"district_code": ""})) == {"district_code"}         # missing district
    assert set(fields_of({"district_code": "110101"})) == {"district_code"}   # a Beijing district
    # A city without districts (东莞市) needs none.
    assert addresses.validate({**ADDRESS, "province_code": "440000", "city_code": "441900",
                               "district_code": ""})["district_name"] == ""


def test_lengths_and_invisible_characters():
    assert set(fields_of({"recipient": "x" * 51, "street": "y" * 201})) == {"recipient", "street"}
    assert set(fields_of({"recipient": "\u200b\x00 ", "street": " "})) == {"recipient", "street"}
    assert addresses.validate({**ADDRESS, "recipient": " 王\x07小明 "})["recipient"] == "王小明"


def test_the_data_is_dated_and_sourced():
    data = regions.divisions()
    assert data.date == "2025-12-31" and "MIT" in data.source
    assert len(data.provinces) == 34 and regions.province("110000").name == "北京市"


@pytest.fixture
def shopper(kernel, db):
    """A member with an empty address book."""
    return sign_up(kernel, db, email="new@example.com", password="password-123")


def test_one_default_which_moves_on_delete(kernel, db, shopper):
    member = shopper
    first = addresses.add_address(db, member, ADDRESS)
    second = addresses.add_address(db, member, {**ADDRESS, "recipient": "李四"})
    assert first.is_default and not second.is_default
    addresses.set_default(db, member, second.id)
    fresh(db)
    assert [a.id for a in addresses.list_addresses(db, member)] == [second.id, first.id]
    assert db.scalar(select(func.count()).where(MemberAddress.is_default.is_(True))) == 1
    addresses.delete_address(db, member, second.id)
    assert fresh(db).get(MemberAddress, first.id).is_default
    updated = addresses.update_address(db, member, first.id, {**ADDRESS, "street": "新地址 1 号"})
    assert updated.street == "新地址 1 号" and updated.is_default


def test_another_members_address_is_not_found_and_the_book_is_capped(kernel, db, shopper):
    member = shopper
    mine = addresses.add_address(db, member, ADDRESS)
    other = sign_up(kernel, db, email="o@example.com", password="password-123")
    for call in (lambda: addresses.get_address(db, other, mine.id),
                 lambda: addresses.delete_address(db, other, mine.id),
                 lambda: addresses.update_address(db, other, mine.id, ADDRESS),
                 lambda: addresses.set_default(db, other, "x")):
        with pytest.raises(NotFound):
            call()
    for _ in range(addresses.MAX_ADDRESSES - 1):
        addresses.add_address(db, member, ADDRESS)
    with pytest.raises(ValidationError):
        addresses.add_address(db, member, ADDRESS)


def test_data_rights_export_and_forget_the_address_book_and_deliveries(kernel, app, db, member):
    from conftest import add_to_cart, checkout, login, make_product

    from siyu.core.member_rights import anonymise_member, export_member
    from siyu.core.models import Order, OrderDelivery

    client = app.test_client()
    login(client)
    add_to_cart(client, make_product(db, "TEA", stock=5).id, 1)
    assert checkout(client).status_code == 302
    section = export_member(kernel, fresh(db), member.id)["fulfilment"]
    assert section["addresses"][0]["phone"] == "+8613812345678"
    assert section["deliveries"][0]["street"] == "文三路 90 号 501"
    anonymise_member(kernel, db, member.id)
    fresh(db)
    assert db.scalar(select(func.count(MemberAddress.id))) == 0
    delivery = db.scalar(select(OrderDelivery))
    assert (delivery.recipient, delivery.phone, delivery.street, delivery.city_name) == ("", "", "", "杭州市")
    assert db.scalar(select(Order.total)) == 1000, "the books stay"

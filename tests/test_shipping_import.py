"""Bulk shipping by import: good rows ship, the same file again changes nothing, bad rows are
reported by line with the reason while the good ones apply; CSV (UTF-8, GBK) and XLSX;
size, row and type limits."""
import io

import pytest
from backoffice_helpers import admin_csrf
from conftest import fresh
from openpyxl import Workbook
from shipping_helpers import EN, shipping_order, signed_in
from sqlalchemy import func, select

from siyu.core.errors import ValidationError
from siyu.core.models import Order, Shipment
from siyu.core.shipping_files import MAX_ROWS, read_rows
from siyu.core.shipping_import import import_rows


@pytest.fixture
def three(kernel, db, member):
    return [shipping_order(kernel, db, member, f"imp{i}")[0] for i in range(3)]


def upload(client, name, data):
    token = admin_csrf(client, "/admin/shipping/import")
    return client.post("/admin/shipping/import", headers=EN, content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), name)})


def shipments(db):
    return fresh(db).scalar(select(func.count(Shipment.id)))


def test_a_good_csv_ships_and_the_same_file_again_changes_nothing(app, db, three):
    a, b, c = three
    body = ("订单号,快递公司,快递单号\n"
            f"{a.number},sf,SF1000001\n"
            f"{b.number.lower()},顺丰速运,SF1000002\n"
            f"{c.number}, zto express ,ZT1000003\n").encode("utf-8-sig")
    agent = signed_in(app, db)
    first = upload(agent, "ship.csv", body)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and "3 shipped" in html and "0 refused" in html
    assert {o.status for o in fresh(db).scalars(select(Order))} == {"shipped"}
    assert db.scalar(select(Shipment.carrier_code).where(Shipment.order_id == c.id)) == "zto"
    again = upload(agent, "ship.csv", body).get_data(as_text=True)
    assert "0 shipped" in again and "3 unchanged" in again and "Already recorded" in again
    assert shipments(db) == 3


def test_bad_rows_are_reported_by_line_and_the_good_ones_apply(app, db, three):
    a, b, c = three
    body = ("order number,carrier,tracking number\n"
            f"{a.number},sf,SF2000001\n"
            "NOPE-404,sf,SF2000002\n"
            f"{b.number},pigeon post,PP2000003\n"
            f"{c.number},sf,\n"
            "\n"
            f"{c.number},sf,bad number!\n"
            f"{a.number},zto,ZT2000009\n").encode()
    agent = signed_in(app, db)
    html = upload(agent, "ship.csv", body).get_data(as_text=True)
    assert "1 shipped" in html and "5 refused" in html
    assert 'data-line="3"' in html and "No order has this number." in html
    assert "Unknown carrier" in html and "Missing: tracking number." in html
    assert 'data-line="7"' in html and "4 to 64 letters" in html  # line numbers count the blank line
    assert "This order has already been shipped." in html  # a second parcel number for a shipped order
    assert shipments(db) == 1 and fresh(db).get(Order, a.id).status == "shipped"
    assert fresh(db).get(Order, b.id).status == "paid"


def test_a_headerless_gbk_csv_and_an_xlsx_file(app, db, three):
    a, b, c = three
    agent = signed_in(app, db)
    gbk = f"{a.number},顺丰速运,SF3000001\n".encode("gb18030")
    assert "1 shipped" in upload(agent, "from-excel.csv", gbk).get_data(as_text=True)
    book = Workbook()
    sheet = book.active
    sheet.append(["订单号", "收件人", "快递公司", "快递单号"])
    sheet.append([b.number, "王小明", "SF Express", 773000000002])  # Excel kept the number as a number
    sheet.append([c.number, "王小明", "yto", "YT3000003"])
    out = io.BytesIO()
    book.save(out)
    html = upload(agent, "ship.xlsx", out.getvalue()).get_data(as_text=True)
    assert "2 shipped" in html
    assert db.scalar(select(Shipment.tracking_number).where(Shipment.order_id == b.id)) == "773000000002"


def test_other_files_are_refused_clearly(app, db, three):
    agent = signed_in(app, db)
    for name, data, message in (
            ("ship.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "Old Excel files (.xls) are not read"),
            ("ship.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file."),
            ("ship.xlsx", b"PK\x03\x04 broken", "could not be read"),
            ("ship.csv", b"", "The file is empty."),
            ("ship.csv", b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB")):
        response = upload(agent, name, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), name
    assert shipments(db) == 0


def test_too_many_rows_are_refused_before_anything_ships(kernel, db, three):
    body = "\n".join(f"{three[0].number},sf,SF{i:07d}" for i in range(MAX_ROWS + 2)).encode()
    with pytest.raises(ValidationError, match="At most"):
        read_rows("big.csv", body)
    rows = read_rows("ok.csv", f"{three[0].number},sf,SF4000001\n".encode())
    assert [r.outcome for r in import_rows(kernel, db, rows)] == ["shipped"]

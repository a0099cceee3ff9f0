"""Give strings the core also translates the core's Chinese wording (run by `make i18n-extract`).

Plugin catalogs are merged over the core's, so a different translation here would change the
core's pages too.
"""
from importlib.resources import files
from pathlib import Path

from babel.messages.pofile import read_po, write_po

MINE = Path(__file__).resolve().parent / "siyu_qr_channels" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"

TRANSLATIONS = Path(str(files("siyu.storefront") / "translations"))
with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
    core = read_po(f)
with MINE.open("rb") as f:
    mine = read_po(f, locale="zh_Hans_CN")
for message in mine:
    theirs = core.get(message.id) if message.id else None
    if theirs is not None and theirs.string and theirs.string != message.string:
        print(f"{message.id!r}: {message.string!r} -> {theirs.string!r}")
        message.string = theirs.string
with MINE.open("wb") as f:
    write_po(f, mine, width=100)

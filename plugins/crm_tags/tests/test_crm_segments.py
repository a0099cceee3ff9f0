"""Segments in SQL equal a plain-Python reading of the same definition, on random members."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from siyu.plugin import Member, write_transaction

from siyu_crm_tags import config, segments
from siyu_crm_tags.models import Level, MemberStats, MemberTag, Tag
from siyu_crm_tags.stats import band_up

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
TAGS, LEVELS, CHANNELS, DISTRIBUTORS = [1, 2, 3, 4], [1, 2], ["1", "2"], ["a", "b"]

member_st = st.fixed_dictionaries({
    "tags": st.sets(st.sampled_from(TAGS)),
    "level": st.sampled_from([None] + LEVELS),
    "days": st.one_of(st.none(), st.integers(0, 400)),
    "orders": st.integers(0, 12),
    "spend": st.integers(0, 400_000),
    "channel": st.sampled_from([None] + CHANNELS),
    "distributor": st.sampled_from([None] + DISTRIBUTORS),
    "active": st.booleans(),
})


def subset(values):
    return st.lists(st.sampled_from(values), max_size=3, unique=True)


definition_st = st.fixed_dictionaries({}, optional={
    "tags_any": subset(TAGS), "tags_all": subset(TAGS), "tags_none": subset(TAGS),
    "levels": subset([0] + LEVELS), "r_bands": subset(list(range(6))), "f_bands": subset(list(range(6))),
    "m_bands": subset(list(range(6))), "activity": subset(list(segments.ACTIVITIES)),
    "channels": subset(CHANNELS), "distributors": subset(DISTRIBUTORS),
})


def python_recency(days, recency_days):
    if days is None:
        return 0
    last = NOW - timedelta(days=days)
    return 5 - sum(1 for d in recency_days if last < NOW - timedelta(days=d))


def python_matches(m, d, cfg):
    """The definition read literally, one member at a time."""
    last = None if m["days"] is None else NOW - timedelta(days=m["days"])
    activity = "prospect" if last is None else (
        "active" if last >= NOW - timedelta(days=cfg.dormant_days) else "dormant")
    checks = [
        not d.get("tags_any") or bool(m["tags"] & set(d["tags_any"])),
        set(d.get("tags_all", [])) <= m["tags"],
        not (m["tags"] & set(d.get("tags_none", []))),
        not d.get("levels") or (m["level"] or 0) in d["levels"],
        not d.get("r_bands") or python_recency(m["days"], cfg.recency_days) in d["r_bands"],
        not d.get("f_bands") or band_up(m["orders"], cfg.frequency_orders) in d["f_bands"],
        not d.get("m_bands") or band_up(m["spend"], cfg.monetary_spend) in d["m_bands"],
        not d.get("activity") or activity in d["activity"],
        not d.get("channels") or m["channel"] in d["channels"],
        not d.get("distributors") or m["distributor"] in d["distributors"],
    ]
    return m["active"] and all(checks)


def seed_fixed(db):
    with write_transaction(db):
        for level_id in LEVELS:
            db.add(Level(id=level_id, name=f"L{level_id}", threshold=level_id * 1000, price_percent=100,
                         exclusive_skus=[], benefits=""))
        for tag_id in TAGS:
            db.add(Tag(id=tag_id, name=f"T{tag_id}"))


def load_members(db, members):
    with write_transaction(db):
        db.execute(delete(MemberTag))
        db.execute(delete(MemberStats))
        db.execute(delete(Member))
        for i, m in enumerate(members, start=1):
            db.add(Member(id=i, email=f"m{i}@x.cn", password_hash="x", active=m["active"], created_at=NOW))
        db.flush()
        cfg = config.default()
        for i, m in enumerate(members, start=1):
            db.add(MemberStats(
                member_id=i, orders_count=m["orders"], spend=m["spend"], level_id=m["level"],
                last_order_at=None if m["days"] is None else NOW - timedelta(days=m["days"]),
                f_band=band_up(m["orders"], cfg.frequency_orders), m_band=band_up(m["spend"], cfg.monetary_spend),
                channel=m["channel"], distributor=m["distributor"], updated_at=NOW))
            db.add_all(MemberTag(member_id=i, tag_id=t, source="manual", created_at=NOW) for t in m["tags"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(member_st, max_size=12), definition=definition_st)
def test_segment_sql_equals_python(db, members, definition):
    if db.get(Tag, 1) is None:
        seed_fixed(db)
    load_members(db, members)
    cfg = config.default()
    clean = segments.clean(definition)
    expected = [i for i, m in enumerate(members, start=1) if python_matches(m, clean, cfg)]
    assert segments.member_ids(db, clean, cfg, NOW) == expected
    assert segments.count(db, clean, cfg, NOW) == len(expected)
    rows = [member.id for batch in segments.batches(db, clean, cfg, size=5, now=NOW) for member, _ in batch]
    assert rows == expected


def test_clean_refuses_bad_input():
    import pytest

    from siyu.plugin import ValidationError

    with pytest.raises(ValidationError):
        segments.clean({"tags_any": ["1; drop table"]})
    with pytest.raises(ValidationError):
        segments.clean({"activity": ["sleepy"]})
    assert segments.clean({"tags_any": ["2", "1", "1"], "levels": [""]}) == {"tags_any": [1, 2]}

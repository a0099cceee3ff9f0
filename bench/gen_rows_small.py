"""SQL for ``bench/generate.py``: the small tables before the load, derived tables after it.

The derived tables are what the plugins keep current on events (member stats, the daily
scan rollup, channel attribution, check-in totals), computed here from the loaded rows the
way the events would have left them.
"""

SMALL = """
INSERT INTO products (id, sku, title_zh, title_en, description_zh, description_en, price, currency, stock,
                      active, position, created_at, updated_at)
SELECT i, 'BENCH-' || lpad(i::text, 3, '0'), '好物 ' || i, 'Good thing ' || i, '', '', 1800 + 1700 * i, 'CNY',
       1000000, true, i, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM generate_series(1, 30) i;
SELECT setval(pg_get_serial_sequence('products', 'id'), 30);

INSERT INTO crm_tag_groups (id, name, position) SELECT i, '分组 ' || i, i FROM generate_series(1, 10) i;
SELECT setval(pg_get_serial_sequence('crm_tag_groups', 'id'), 10);
INSERT INTO crm_tags (id, group_id, name, rule, created_at)
SELECT i, 1 + i % 10, '标签 ' || i, NULL, now() AT TIME ZONE 'UTC' FROM generate_series(1, {tags}) i;
SELECT setval(pg_get_serial_sequence('crm_tags', 'id'), {tags});
INSERT INTO crm_levels (id, name, threshold, price_percent, exclusive_skus, benefits) VALUES
  (1, '银卡', 20000, 100, '[]', ''), (2, '金卡', 100000, 98, '[]', ''), (3, '钻石', 300000, 95, '[]', '');
SELECT setval(pg_get_serial_sequence('crm_levels', 'id'), 3);

INSERT INTO qr_channels_channels (id, name, kind, target, target_value, notes, active, scene, scene_id, created_at)
SELECT i, '渠道 ' || i, (ARRAY['store','event','poster','partner','staff'])[1 + i % 5], 'home', '', '', true,
       i::text, i, now() AT TIME ZONE 'UTC' - interval '400 days' FROM generate_series(1, {channels}) i;
SELECT setval(pg_get_serial_sequence('qr_channels_channels', 'id'), {channels});
"""

DERIVED = """
INSERT INTO qr_channels_member_attribution (member_id, first_channel_id, last_channel_id, signed_up_at)
SELECT id, 1 + id % 200, 1 + (id * 7) % 200, created_at FROM members WHERE id % 3 <> 0;

INSERT INTO qr_channels_daily_stats (channel_id, day, scans, bot_scans, uniques)
SELECT channel_id, (created_at AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Shanghai')::date,
       count(*) FILTER (WHERE device <> 'bot'), count(*) FILTER (WHERE device = 'bot'),
       count(DISTINCT visitor_id) FILTER (WHERE device <> 'bot')
FROM qr_channels_scans GROUP BY 1, 2;

INSERT INTO qr_channels_order_attribution (order_id, member_id, first_channel_id, last_channel_id, placed_at,
                                           paid_at, paid_seq, revenue)
SELECT o.id, o.member_id, a.first_channel_id, a.last_channel_id, o.placed_at, o.paid_at,
       CASE WHEN o.paid_at IS NULL THEN NULL
            ELSE row_number() OVER (PARTITION BY o.member_id, o.paid_at IS NULL ORDER BY o.paid_at) END,
       CASE WHEN o.paid_at IS NULL THEN 0 ELSE o.total - o.refunded_amount END
FROM orders o JOIN qr_channels_member_attribution a ON a.member_id = o.member_id;

INSERT INTO checkin_members (member_id, current_streak, best_streak, total, last_date, last_at)
SELECT DISTINCT ON (member_id) member_id, streak, max(streak) OVER w, count(*) OVER w, local_date, at
FROM checkin_checkins WINDOW w AS (PARTITION BY member_id)
ORDER BY member_id, local_date DESC;

INSERT INTO crm_member_stats (member_id, orders_count, spend, first_order_at, last_order_at, f_band, m_band,
                              points, points_earned, level_id, channel, distributor, checkin_streak, updated_at)
SELECT m.id, coalesce(o.n, 0), coalesce(o.spend, 0), o.first_at, o.last_at,
       (coalesce(o.n, 0) >= 1)::int + (coalesce(o.n, 0) >= 2)::int + (coalesce(o.n, 0) >= 3)::int
         + (coalesce(o.n, 0) >= 5)::int + (coalesce(o.n, 0) >= 10)::int,
       (coalesce(o.spend, 0) >= 1)::int + (coalesce(o.spend, 0) >= 20000)::int
         + (coalesce(o.spend, 0) >= 50000)::int + (coalesce(o.spend, 0) >= 100000)::int
         + (coalesce(o.spend, 0) >= 300000)::int,
       coalesce(o.spend, 0) / 100, coalesce(o.spend, 0) / 100,
       CASE WHEN o.spend >= 300000 THEN 3 WHEN o.spend >= 100000 THEN 2 WHEN o.spend >= 20000 THEN 1 END,
       a.first_channel_id::text, b.distributor_id::text, coalesce(c.current_streak, 0), now() AT TIME ZONE 'UTC'
FROM members m
LEFT JOIN (SELECT member_id, count(*) AS n, sum(total - refunded_amount) AS spend, min(paid_at) AS first_at,
                  max(paid_at) AS last_at
           FROM orders WHERE status IN ('paid', 'partially_refunded') GROUP BY member_id) o ON o.member_id = m.id
LEFT JOIN qr_channels_member_attribution a ON a.member_id = m.id
LEFT JOIN distribution_bindings b ON b.member_id = m.id
LEFT JOIN checkin_members c ON c.member_id = m.id
"""

# Every serial id column continues after the rows loaded with explicit ids.
SEQUENCES = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.table_name, c.column_name FROM information_schema.columns c
           WHERE c.table_schema = 'public' AND c.column_default LIKE 'nextval(%' LOOP
    EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), coalesce((SELECT max(%I) FROM %I), 0) + 1, false)',
                   r.table_name, r.column_name, r.column_name, r.table_name);
  END LOOP;
END $$
"""

SELECT
  item,
  sum(qty) AS total_qty,
  count_if(qty > 3) AS big_orders,
  sum(CASE WHEN qty > 3 THEN 1 ELSE 0 END) AS big_too,
  avg(CAST(price AS DECIMAL(10, 2))) AS avg_price,
  sum(qty) / count(*) AS qty_per_order,
  max(CAST(price AS DECIMAL(10, 2))) / 3 AS a_third,
  1.5 AS literal,
  max(regexp_extract(note, '(\d+)', 1)) AS digits,
  max(date_trunc('month', from_iso8601_date(sold))) AS first_month,
  max(date_diff('month', from_iso8601_date(sold), DATE '2024-03-01')) AS months_to_march,
  max(split_part(note, ',', 3)) AS third_part,
  avg(qty) AS avg_qty,
  sum(qty) * 1e7 AS big_double,
  avg(qty) / 1e4 AS small_double,
  max(date_parse(sold, '%Y-%m-%d')) AS sold_at,
  max(concat(item, note)) AS item_note,
  max(length(note)) AS note_length,
  min(-7 / 2) AS minus_half,
  min(CAST(2.5e0 AS INTEGER)) AS rounded,
  max(CAST(avg_of AS VARCHAR)) AS double_text
FROM ${database}.sales
CROSS JOIN (SELECT 2.5e0 AS avg_of) AS d
GROUP BY item

-- The customers of one country (matched case-insensitively), ranked by what they spent.
SELECT
  rank() OVER (ORDER BY spent DESC) AS rank,
  customer_id,
  name,
  orders,
  spent,
  first_order,
  last_order
FROM ${database}.customer_totals
WHERE lower(country) = lower(${country})

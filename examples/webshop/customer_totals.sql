-- Every customer with a completed order: how many, what they came to, the first and the last.
SELECT
  c.customer_id,
  c.name,
  c.country,
  count(*) AS orders,
  round(sum(o.amount), 2) AS spent,
  min(o.ordered_on) AS first_order,
  max(o.ordered_on) AS last_order
FROM ${database}.customers AS c
JOIN ${database}.orders AS o ON o.customer_id = c.customer_id
WHERE o.status = 'completed'
GROUP BY c.customer_id, c.name, c.country

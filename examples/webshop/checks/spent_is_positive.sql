-- A customer in a country's list has completed orders: what they spent is above zero.
SELECT customer_id, name, orders, spent
FROM ${database}.country_customers
WHERE spent <= 0 OR orders < 1

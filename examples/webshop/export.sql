SELECT rank, customer_id, name, orders, spent, first_order, last_order
FROM ${database}.country_customers
ORDER BY rank, customer_id

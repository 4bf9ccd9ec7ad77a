-- The countries with customers who completed an order, and how many there are.
SELECT country, count(*) AS customers
FROM ${database}.customer_totals
GROUP BY country
ORDER BY country

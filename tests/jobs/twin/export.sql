SELECT * FROM ${database}.facts ORDER BY item

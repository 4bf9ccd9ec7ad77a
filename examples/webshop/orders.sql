-- orders.csv: one line per order, with a header. Amounts in euros; status is completed,
-- cancelled or refunded.
CREATE EXTERNAL TABLE ${database}.${table} (
  order_id INT,
  customer_id INT,
  ordered_on STRING,
  amount DOUBLE,
  status STRING
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

-- customers.csv: names are quoted when they hold a comma.
CREATE EXTERNAL TABLE ${database}.${table} (
  customer_id INT,
  name STRING,
  country STRING
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

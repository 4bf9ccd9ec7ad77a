CREATE EXTERNAL TABLE ${database}.${table} (
  id INT,
  item STRING,
  qty INT,
  price STRING,
  sold STRING,
  note STRING
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

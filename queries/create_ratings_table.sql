-- Ratings are half stars (0.5 ... 5.0): DOUBLE, not INT, or every 3.5 would read as NULL.
CREATE EXTERNAL TABLE ${database}.${table} (
  userId INT,
  movieId INT,
  rating DOUBLE,
  `timestamp` BIGINT
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

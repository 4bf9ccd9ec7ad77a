-- Ratings are half stars (0.5 ... 5.0): DOUBLE, not INT, or every 3.5 would read as NULL.
-- '\u0000' as the escape character: see movies.sql.
CREATE EXTERNAL TABLE ${database}.${table} (
  userId INT,
  movieId INT,
  rating DOUBLE,
  `timestamp` BIGINT
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

-- movies.csv as GroupLens publishes it: a header line, titles quoted when they hold a comma,
-- quotes inside titles doubled. OpenCSVSerde reads that; LazySimpleSerDe splits "A, The (1995)".
CREATE EXTERNAL TABLE ${database}.${table} (
  movieId INT,
  title STRING,
  genres STRING
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

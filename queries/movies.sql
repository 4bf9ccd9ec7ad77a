-- movies.csv as GroupLens publishes it: a header line, titles quoted when they hold a comma,
-- quotes inside titles doubled. OpenCSVSerde reads that; LazySimpleSerDe splits "A, The (1995)".
-- Its default escape character, the backslash, would drop backslashes from titles ('a\b' reads
-- as 'ab'): '\u0000' turns escaping off, so every character arrives as written.
-- elt adds a last column, elt_extra, that catches fields beyond these (see the README).
CREATE EXTERNAL TABLE ${database}.${table} (
  movieId INT,
  title STRING,
  genres STRING
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')

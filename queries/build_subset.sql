-- The films of one genre with their average rating. Genres are matched as whole names,
-- case-insensitively; films are grouped by movieId, so two films with one title stay two rows.
-- The year is the trailing (YYYY) or the first year of a trailing (YYYY-YYYY), else NULL.
CREATE TABLE ${database}.${table}
WITH (format = 'PARQUET', external_location = ${location})
AS
SELECT
  m.movieId AS movie_id,
  trim(regexp_replace(m.title, '\s*\(\d{4}(-\d{4})?\)\s*$', '')) AS title,
  try_cast(regexp_extract(m.title, '\((\d{4})(-\d{4})?\)\s*$', 1) AS INTEGER) AS year,
  round(avg(r.rating), 4) AS avg_rating,
  count(*) AS num_ratings
FROM ${database}.movies AS m
JOIN ${database}.ratings AS r ON r.movieId = m.movieId
WHERE contains(split(lower(m.genres), '|'), lower(${genre}))
GROUP BY m.movieId, m.title

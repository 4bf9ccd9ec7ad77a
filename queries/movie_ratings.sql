-- Every rated film with its title and year parsed, its genres and its average rating: the one
-- query of a run that reads the raw CSV files; each genre's subset is then cut from it.
-- Films are grouped by movieId, so two films with one title stay two rows. The year is the
-- trailing (YYYY) or the first year of a trailing (YYYY-YYYY), else NULL.
-- The mean is rounded half up to 4 decimals, computed so that a tie stays a tie: round(avg())
-- would round the double nearest to 3.49375 (just below it) down to 3.4937. Sums of half stars
-- are exact in a DOUBLE, so the average is exact to the last digit.
SELECT
  m.movieId AS movie_id,
  trim(regexp_replace(m.title, '\s*\(\d{4}(-\d{4})?\)\s*$', '')) AS title,
  try_cast(regexp_extract(m.title, '\((\d{4})(-\d{4})?\)\s*$', 1) AS INTEGER) AS year,
  m.genres AS genres,
  floor((20000 * sum(r.rating) + count(*)) / (2 * count(*))) / 1e4 AS avg_rating,
  count(*) AS num_ratings
FROM ${database}.movies AS m
JOIN ${database}.ratings AS r ON r.movieId = m.movieId
GROUP BY m.movieId, m.title, m.genres

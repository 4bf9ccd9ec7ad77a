-- Every rated film with its title and year parsed, its genres and its average rating: the one
-- query of a run that reads the raw CSV files; each genre's subset is then cut from it.
-- Ratings are grouped by movieId, so two films with one title stay two rows. The year is the
-- trailing (YYYY) or the first year of a trailing (YYYY-YYYY), else NULL.
-- The mean is rounded half up to 4 decimals, computed so that a tie stays a tie: round(avg())
-- would round the double nearest to 3.49375 (just below it) down to 3.4937. Sums of half stars
-- are exact in a DOUBLE, so the average is exact to the last digit.
SELECT
  m.movieId AS movie_id,
  trim(regexp_replace(m.title, '\s*\(\d{4}(-\d{4})?\)\s*$', '')) AS title,
  try_cast(regexp_extract(m.title, '\((\d{4})(-\d{4})?\)\s*$', 1) AS INTEGER) AS year,
  m.genres AS genres,
  floor((20000 * r.total + r.ratings) / (2 * r.ratings)) / 1e4 AS avg_rating,
  r.ratings AS num_ratings
FROM ${database}.movies AS m
JOIN (
  -- summed per film first: grouping 25 million ratings by an integer is much cheaper than
  -- by the film's id, title and genres after the join
  SELECT movieId, sum(rating) AS total, count(*) AS ratings
  FROM ${database}.ratings
  GROUP BY movieId
) AS r ON r.movieId = m.movieId

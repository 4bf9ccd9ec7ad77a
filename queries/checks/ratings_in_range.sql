-- MovieLens ratings are half stars from 0.5 to 5: an average outside that range, or a film
-- with no rating counted, means the raw data or the model is wrong. Each row is a failure.
SELECT movie_id, title, avg_rating, num_ratings
FROM ${database}.subset
WHERE avg_rating NOT BETWEEN 0.5 AND 5 OR num_ratings < 1

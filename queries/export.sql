-- The rows of the final CSV file, in the order of the output contract.
SELECT movie_id, title, year, avg_rating, num_ratings
FROM ${database}.subset
ORDER BY year DESC NULLS LAST, title, movie_id

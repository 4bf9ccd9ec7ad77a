-- Every genre in the data with its number of films.
SELECT genre, count(*) AS films
FROM ${database}.movies
CROSS JOIN UNNEST(split(genres, '|')) AS t (genre)
GROUP BY genre
ORDER BY genre

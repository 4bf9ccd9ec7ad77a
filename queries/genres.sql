-- The genres there are, with their number of rated films (the films a subset can hold).
SELECT genre, count(*) AS films
FROM ${database}.movie_ratings
CROSS JOIN UNNEST(split(genres, '|')) AS t (genre)
GROUP BY genre
ORDER BY genre

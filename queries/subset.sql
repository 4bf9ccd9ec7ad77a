-- The films of one genre. Genres are matched as whole names, case-insensitively: 'Sci-Fi' is in
-- 'Drama|Sci-Fi', not in 'Sci-Fi-Fantasy', and a title that holds 'Sci-Fi' does not count.
SELECT movie_id, title, year, avg_rating, num_ratings
FROM ${database}.movie_ratings
WHERE contains(split(lower(genres), '|'), lower(${genre}))

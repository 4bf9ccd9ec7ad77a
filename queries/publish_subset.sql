-- Points the subset's name at its newly built data in one statement: readers see the old
-- version until this runs and the new one after it, never a missing or half-built table.
CREATE OR REPLACE VIEW ${database}.${view} AS
SELECT movie_id, title, year, avg_rating, num_ratings
FROM ${database}.${table}

"""The baseline for elt: ONE hand-written DuckDB statement doing the whole job.

    python bench/handwritten.py [--checked] MOVIES_CSV RATINGS_CSV GENRE OUT_CSV

Same input files, same output contract as elt (README, "The output"): films whose genre list
holds GENRE (whole names, case-insensitive), grouped by movieId, title without its trailing
(YYYY) or (YYYY-YYYY), that year, mean rating rounded to 4 decimals, number of ratings, ordered by
year desc (no year last), title, movie id; one CSV with a header.

DuckDB refuses a short, long or mistyped row in the columns a query reads. `--checked` also does
what elt does to every raw row: every field is read and a missing one (NULL) fails the query.
"""

import sys

import duckdb


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def main() -> None:
    checked = sys.argv[1] == "--checked"
    movies, ratings, genre, out = sys.argv[1 + checked : 5 + checked]
    every_field = "userId IS NULL OR movieId IS NULL OR rating IS NULL OR timestamp IS NULL"
    guard = f"WHERE CASE WHEN {every_field} THEN error('malformed row') ELSE TRUE END"
    duckdb.execute(f"""
    COPY (
      WITH movies AS (
        SELECT * FROM read_csv({lit(movies)}, header = true, quote = '"', escape = '"',
          columns = {{'movieId': 'INTEGER', 'title': 'VARCHAR', 'genres': 'VARCHAR'}})
      ), ratings AS (
        SELECT * FROM read_csv({lit(ratings)}, header = true,
          columns = {{'userId': 'INTEGER', 'movieId': 'INTEGER', 'rating': 'DOUBLE',
                     'timestamp': 'BIGINT'}})
        {guard if checked else ""}
      )
      SELECT m.movieId AS movie_id,
             trim(regexp_replace(m.title, '\\s*\\(\\d{{4}}(-\\d{{4}})?\\)\\s*$', '')) AS title,
             try_cast(regexp_extract(m.title, '\\((\\d{{4}})(-\\d{{4}})?\\)\\s*$', 1) AS INTEGER)
               AS year,
             round(avg(r.rating), 4) AS avg_rating,
             count(*) AS num_ratings
      FROM movies AS m JOIN ratings AS r ON r.movieId = m.movieId
      WHERE list_contains(string_split(lower(m.genres), '|'), lower({lit(genre)}))
      GROUP BY m.movieId, m.title
      ORDER BY year DESC NULLS LAST, title, movie_id
    ) TO {lit(out)} (HEADER)
    """)


if __name__ == "__main__":
    main()

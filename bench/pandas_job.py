"""The pandas baseline for elt: a straightforward script doing the same job.

    bench/data/venv-pandas/bin/python bench/pandas_job.py MOVIES_CSV RATINGS_CSV GENRE OUT_CSV

read_csv, merge, groupby, to_csv; the output contract is docs/DESIGN.md's (same as elt's).
"""

import sys
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


def main() -> None:
    movies_path, ratings_path, genre, out = sys.argv[1:5]
    # keep_default_na=False: a film titled "NA" or "None" is a title, not a missing value.
    movies = pd.read_csv(movies_path, keep_default_na=False)
    ratings = pd.read_csv(ratings_path)

    wanted = genre.lower()
    in_genre = movies["genres"].str.lower().str.split("|").apply(lambda names: wanted in names)
    films = movies[in_genre]

    joined = films.merge(ratings, on="movieId")
    df = joined.groupby(["movieId", "title"], as_index=False).agg(
        total=("rating", "sum"), num_ratings=("rating", "count")
    )
    year = r"\((\d{4})(?:-\d{4})?\)\s*$"
    df["year"] = pd.to_numeric(df["title"].str.extract(year)[0]).astype("Int64")
    df["title"] = df["title"].str.replace(r"\s*\(\d{4}(-\d{4})?\)\s*$", "", regex=True).str.strip()
    # The exact mean, rounded half up (as the tests' oracle does): a sum of half stars is exact
    # in a float, but total / n is not, and rounding that float can miss a tie such as 3.49375.
    step = Decimal("0.0001")
    df["avg_rating"] = [
        float((Decimal(t) / n).quantize(step, ROUND_HALF_UP))
        for t, n in zip(df["total"], df["num_ratings"], strict=True)
    ]
    df = df.rename(columns={"movieId": "movie_id"})
    df = df.sort_values(
        ["year", "title", "movie_id"], ascending=[False, True, True], na_position="last"
    )
    df[["movie_id", "title", "year", "avg_rating", "num_ratings"]].to_csv(out, index=False)


if __name__ == "__main__":
    main()

"""Lakes with awkward data, and the output contract computed independently of elt."""

from __future__ import annotations

import csv
import gzip
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

MOVIES_HEADER = ["movieId", "title", "genres"]
RATINGS_HEADER = ["userId", "movieId", "rating", "timestamp"]

# Every awkward case of docs/DESIGN.md's input format, with the row each must give (or not).
AWKWARD_MOVIES = [
    (1, "American President, The (1995)", "Comedy|Drama|Romance|Sci-Fi"),
    (2, 'Dr. "Strangelove" Returns (1964)', "Comedy|Sci-Fi|War"),
    (3, "Babylon 5", "Sci-Fi|Drama"),
    (4, "Battlestar Galactica (2003-2009)", "Drama|Sci-Fi|War"),
    (5, "Stranger Things (2016) ", "Drama|Fantasy|Sci-Fi"),
    (6, "Amélie Poulain en Orbite (2001)", "Comedy|Sci-Fi"),
    (7, "攻殻機動隊 (1995)", "Animation|Sci-Fi"),
    (8, "Sci-Fi Boys (2006)", "Documentary"),
    (9, "Alien (1979)", "Horror|Sci-Fi"),
    (10, "Alien (1979)", "Sci-Fi|IMAX"),
    (11, "Never Rated (2010)", "Sci-Fi"),
    (12, "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)", "Action|Drama"),
    (13, "Nothing To See (2015)", "(no genres listed)"),
    (14, "Lower Case Genre (1999)", "sci-fi|comedy"),
    (15, "Science Fiction Fan (2012)", "Sci-Fi-Fantasy|Comedy"),
]
AWKWARD_RATINGS = [  # (userId, movieId, rating); movie 99 does not exist, movie 11 has none
    (1, 1, 4.5),
    (2, 1, 3.0),
    (1, 2, 0.5),
    (1, 3, 5.0),
    (2, 3, 4.5),
    (3, 3, 4.5),
    (1, 4, 3.5),
    (1, 5, 2.5),
    (2, 5, 3.0),
    (1, 6, 4.0),
    (1, 7, 1.5),
    (1, 8, 5.0),
    (1, 9, 4.0),
    (2, 9, 3.5),
    (1, 10, 1.0),
    (1, 12, 4.0),
    (1, 13, 3.0),
    (1, 14, 2.0),
    (1, 15, 5.0),
    (1, 99, 5.0),
    (2, 99, 0.5),
]


def write_csv(path: Path, header: list[str], rows, gz: bool = False) -> None:
    """Write GroupLens-style CSV: quotes only where needed, inner quotes doubled."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)


def make_lake(root: Path, movies, ratings, source_prefix: str = "movielens") -> Path:
    """A lake whose ratings are split over a plain file and a .gz file, each with a header."""
    raw = root / source_prefix
    write_csv(raw / "movies" / "movies.csv", MOVIES_HEADER, movies)
    rows = [(u, m, f"{r:.1f}", 1_000_000_000 + i) for i, (u, m, r) in enumerate(ratings)]
    half = len(rows) // 2
    write_csv(raw / "ratings" / "ratings-1.csv", RATINGS_HEADER, rows[:half])
    write_csv(raw / "ratings" / "part-2" / "ratings-2.csv.gz", RATINGS_HEADER, rows[half:], gz=True)
    return root


def read_raw(folder: Path) -> list[list[str]]:
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
        rows += list(csv.reader(io.StringIO(text)))[1:]
    return rows


def expected_subset(lake: Path, genre: str, source_prefix: str = "movielens") -> list[dict]:
    """The output contract computed independently, in plain Python, from the raw files."""
    ratings: dict[int, list[Decimal]] = {}
    for _, movie_id, rating, _ in read_raw(lake / source_prefix / "ratings"):
        ratings.setdefault(int(movie_id), []).append(Decimal(rating))
    rows = []
    for movie_id, title, genres in read_raw(lake / source_prefix / "movies"):
        movie_id = int(movie_id)
        if genre.lower() not in [g.lower() for g in genres.split("|")] or movie_id not in ratings:
            continue
        match = re.search(r"\((\d{4})(-\d{4})?\)\s*$", title)
        values = ratings[movie_id]
        rows.append(
            {
                "movie_id": movie_id,
                "title": (title[: match.start()] if match else title).strip(),
                "year": int(match.group(1)) if match else None,
                "avg_rating": (sum(values) / len(values)).quantize(
                    Decimal("0.0001"), ROUND_HALF_UP
                ),
                "num_ratings": len(values),
            }
        )
    rows.sort(key=lambda r: (r["year"] is None, -(r["year"] or 0), r["title"], r["movie_id"]))
    return rows


def csv_bytes(rows) -> bytes:
    """The one CSV form of an export (see the README): minimal RFC 4180 quoting, `\n` line
    ends, NULL (None) an empty field. Python's csv writes it for data with no empty strings."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        ["" if v is None else v for v in row] for row in rows
    )
    return buffer.getvalue().encode("utf-8")


def read_output(path: Path) -> list[dict]:
    """The final CSV as typed rows, checking its header on the way."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == ["movie_id", "title", "year", "avg_rating", "num_ratings"]
        return [
            {
                "movie_id": int(m),
                "title": t,
                "year": int(y) if y else None,
                "avg_rating": Decimal(a),
                "num_ratings": int(n),
            }
            for m, t, y, a, n in reader
        ]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under a folder with its bytes, to prove that nothing changed; but for the
    record of the settings a job passed its checks with (validated.json), a cache of facts
    that stay true, which any command that checks the job may add to."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "validated.json"
    }

"""Tests for elt_cli.sample_data: a deterministic, awkward MovieLens-format data set."""

from __future__ import annotations

import csv
import dataclasses
import re
from collections import Counter
from pathlib import Path

import pytest

from elt_cli.sample_data import SampleSummary, generate

GENRES = {
    "Action",
    "Adventure",
    "Animation",
    "Children",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "IMAX",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
}
HALF_STARS = {f"{x / 2:.1f}" for x in range(1, 11)}
YEAR_AT_END = re.compile(r"\((\d{4})(-\d{4})?\)\s*$")
SIZES = {"default": {}, "small": {"movies": 100, "ratings": 1000}}


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@dataclasses.dataclass
class Data:
    summary: SampleSummary
    movies: list[dict[str, str]]
    ratings: list[dict[str, str]]
    movie_bytes: bytes

    def scifi(self) -> list[dict[str, str]]:
        return [m for m in self.movies if "Sci-Fi" in m["genres"].split("|")]


@pytest.fixture(scope="module", params=list(SIZES))
def data(request, tmp_path_factory) -> Data:
    dest = tmp_path_factory.mktemp(request.param)
    summary = generate(dest, **SIZES[request.param])
    movies, ratings = (read_csv(p) for p in summary.paths)
    assert movies[0] == ["movieId", "title", "genres"]
    assert ratings[0] == ["userId", "movieId", "rating", "timestamp"]
    return Data(
        summary,
        [dict(zip(movies[0], row, strict=True)) for row in movies[1:]],
        [dict(zip(ratings[0], row, strict=True)) for row in ratings[1:]],
        summary.paths[0].read_bytes(),
    )


def test_summary_and_counts(data: Data, tmp_path: Path) -> None:
    s = data.summary
    assert s.seed == 42 and s.movies == len(data.movies) and s.ratings == len(data.ratings)
    assert (s.movies, s.ratings) in {(9_742, 100_836), (100, 1000)}
    assert s.paths[0].name == "movies.csv" and s.paths[0].parent.name == "movies"
    assert s.paths[1].name == "ratings.csv" and s.paths[1].parent.name == "ratings"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.seed = 1  # type: ignore[misc]


def test_movie_ids_ascending_with_gaps(data: Data) -> None:
    ids = [int(m["movieId"]) for m in data.movies]
    assert ids == sorted(set(ids)), "ids must be unique and ascending"
    assert ids[0] == 1 and ids[-1] > len(ids), "ids must have gaps"


def test_genres_are_movielens_genres(data: Data) -> None:
    for m in data.movies:
        parts = m["genres"].split("|")
        assert m["genres"] == "(no genres listed)" or set(parts) <= GENRES, m
        assert len(parts) == len(set(parts)), m
    if data.summary.movies == 9_742:
        assert 300 <= len(data.scifi()) <= 1_100


def test_titles_mostly_name_and_year(data: Data) -> None:
    with_year = [m for m in data.movies if YEAR_AT_END.search(m["title"])]
    assert len(with_year) >= 0.9 * len(data.movies)
    years = [int(YEAR_AT_END.search(m["title"]).group(1)) for m in with_year]
    assert 1900 <= min(years) and max(years) <= 2024


def _count(movies: list[dict[str, str]], pred) -> int:
    return sum(1 for m in movies if pred(m["title"], m["genres"]))


AWKWARD = {
    "comma in title": lambda t, g: "," in t,
    "double quotes in title": lambda t, g: '"' in t,
    "no year": lambda t, g: not YEAR_AT_END.search(t),
    "year range": lambda t, g: re.search(r"\(\d{4}-\d{4}\)$", t) is not None,
    "trailing space": lambda t, g: t.endswith(") ") and YEAR_AT_END.search(t) is not None,
    "non-ASCII": lambda t, g: any(ord(c) > 127 for c in t),
    "Sci-Fi text, not genre": lambda t, g: "Sci-Fi" in t and "Sci-Fi" not in g.split("|"),
    "Sci-Fi|IMAX": lambda t, g: g.endswith("Sci-Fi|IMAX"),
    "(no genres listed)": lambda t, g: g == "(no genres listed)",
}


@pytest.mark.parametrize("case", list(AWKWARD))
def test_awkward_case_present_several_times(data: Data, case: str) -> None:
    assert _count(data.movies, AWKWARD[case]) >= 2, case


def test_awkward_exact_titles(data: Data) -> None:
    titles = {m["title"]: m["genres"] for m in data.movies}
    assert "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)" in titles
    assert "Léon: The Professional (1994)" in titles
    assert "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)" in titles
    assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t) for t in titles)
    assert titles["Sci-Fi Boys (2006)"] == "Documentary"
    assert "Stranger Things (2016) " in titles and "Babylon 5" in titles
    assert 'Dr. "Strangelove" Returns (1964)' in titles


def test_quoting_on_disk_is_movielens_style(data: Data) -> None:
    text = data.movie_bytes.decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    assert ',"American President, The (1995)",' in text
    assert ',"Dr. ""Strangelove"" Returns (1964)",' in text
    assert ",Stranger Things (2016) ,Drama" in text  # no quotes needed for a trailing space
    assert ",Babylon 5,Sci-Fi\n" in text
    assert ",Léon: The Professional (1994)," in text  # UTF-8, unquoted


def test_same_title_two_scifi_films(data: Data) -> None:
    ids_by_title: dict[str, set[str]] = {}
    for m in data.scifi():
        ids_by_title.setdefault(m["title"], set()).add(m["movieId"])
    assert len([t for t, ids in ids_by_title.items() if len(ids) >= 2]) >= 2


def test_ratings_values(data: Data) -> None:
    users = max(10, data.summary.ratings // 150)
    for r in data.ratings:
        assert r["rating"] in HALF_STARS, r
        assert 820_454_400 <= int(r["timestamp"]) < 1_704_067_200, r  # 1996 .. 2023
        assert 1 <= int(r["userId"]) <= users, r
        assert int(r["movieId"]) > 0, r
    assert len({r["userId"] for r in data.ratings}) == users
    assert len({r["rating"] for r in data.ratings}) == 10
    user_ids = [int(r["userId"]) for r in data.ratings]
    assert user_ids == sorted(user_ids), "ratings grouped by user, like MovieLens"


def test_unknown_movie_ids_and_unrated_scifi(data: Data) -> None:
    known = {m["movieId"] for m in data.movies}
    rated = {r["movieId"] for r in data.ratings}
    assert sum(1 for r in data.ratings if r["movieId"] not in known) >= 3
    assert len([m for m in data.scifi() if m["movieId"] not in rated]) >= 3
    assert len([m for m in data.scifi() if m["movieId"] in rated]) >= 3


def test_popularity_is_skewed(data: Data) -> None:
    counts = sorted(Counter(r["movieId"] for r in data.ratings).values(), reverse=True)
    assert counts[0] >= 5 * counts[len(counts) // 2]
    if data.summary.ratings == 100_836:
        assert counts[-1] == 1 and counts[0] >= 100


def test_deterministic_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=7, movies=300, ratings=5000)
    b = generate(tmp_path / "b", seed=7, movies=300, ratings=5000)
    c = generate(tmp_path / "c", seed=8, movies=300, ratings=5000)
    for pa, pb, pc in zip(a.paths, b.paths, c.paths, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
        assert pa.read_bytes() != pc.read_bytes()


def test_rerun_replaces_files_and_keeps_others(tmp_path: Path) -> None:
    (tmp_path / "movies").mkdir()
    (tmp_path / "movies" / "movies.csv").write_text("stale\n")
    (tmp_path / "movies" / "keep.txt").write_text("mine")
    (tmp_path / "other.txt").write_text("mine too")
    s = generate(tmp_path, movies=100, ratings=1000)
    generate(tmp_path, movies=100, ratings=1000)
    assert read_csv(s.paths[0])[0] == ["movieId", "title", "genres"]
    assert (tmp_path / "movies" / "keep.txt").read_text() == "mine"
    assert (tmp_path / "other.txt").read_text() == "mine too"
    assert sorted(p.name for p in (tmp_path / "movies").iterdir()) == ["keep.txt", "movies.csv"]
    assert [p.name for p in (tmp_path / "ratings").iterdir()] == ["ratings.csv"]


def test_tiny_and_empty_sizes(tmp_path: Path) -> None:
    s = generate(tmp_path, movies=5, ratings=0)
    assert len(read_csv(s.paths[0])) == 6
    assert read_csv(s.paths[1]) == [["userId", "movieId", "rating", "timestamp"]]
    with pytest.raises(ValueError):
        generate(tmp_path, ratings=-1)


def test_force_replaces_the_raw_files_and_nothing_else(elt, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert elt("--lake", lake, "sample-data", "--movies", "200", "--ratings", "500").exit_code == 0
    (lake / "movielens/ratings/extra.csv").write_text("userId,movieId,rating,timestamp\n")
    first = (lake / "movielens/ratings/ratings.csv").read_bytes()
    refused = elt("--lake", lake, "sample-data", "--movies", "200", "--ratings", "600")
    assert refused.exit_code == 2 and (lake / "movielens/ratings/ratings.csv").read_bytes() == first
    forced = elt("--lake", lake, "sample-data", "--movies", "200", "--ratings", "600", "--force")
    assert forced.exit_code == 0, forced.output
    assert (lake / "movielens/ratings/ratings.csv").read_bytes().count(b"\n") == 601
    assert (lake / "movielens/ratings/extra.csv").exists()

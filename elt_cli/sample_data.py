"""Deterministic MovieLens-format sample data (movies.csv + ratings.csv)."""

from __future__ import annotations

import csv
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# fmt: off
# MovieLens genres with their ml-latest-small frequencies (used as weights).
GENRE_WEIGHTS = {
    "Action": 1828, "Adventure": 1263, "Animation": 611, "Children": 664,
    "Comedy": 3756, "Crime": 1199, "Documentary": 440, "Drama": 4361,
    "Fantasy": 779, "Film-Noir": 87, "Horror": 978, "Musical": 334,
    "Mystery": 573, "Romance": 1596, "Sci-Fi": 980, "Thriller": 1894,
    "War": 382, "Western": 167, "IMAX": 158,
}
GENRES = list(GENRE_WEIGHTS)  # output order (IMAX last, like MovieLens)
NO_GENRES = "(no genres listed)"

# (title, genres, rated?) -- awkward cases, each kind present several times.
SPECIALS = [
    ("American President, The (1995)", "Comedy|Drama|Romance", True),
    ("Good, the Bad and the Ugly, The (1966)", "Action|Adventure|Western", True),
    ("Lost World, The (1925)", "Adventure|Sci-Fi", True),
    ('Dr. "Strangelove" Returns (1964)', "Comedy|War", True),
    ('"Great Performances" Cats (1998)', "Musical", True),
    ('Jack "The Ripper" Stories (1988)', "Crime|Horror", True),
    ("Babylon 5", "Sci-Fi", True),
    ("Black Mirror", "Drama|Sci-Fi|Thriller", True),
    ("Cosmos", "Documentary", True),
    ("Planet Earth (2006-2007)", "Documentary", True),
    ("Fawlty Towers (1975-1979)", "Comedy", True),
    ("Firefly Chronicles (2002-2003)", "Adventure|Sci-Fi", True),
    ("Stranger Things (2016) ", "Drama|Fantasy|Horror", True),
    ("Night Shift (2014) ", "Drama", True),
    ("Quiet Orbit (2011) ", "Sci-Fi", True),
    ("Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Comedy|Romance", True),
    ("Léon: The Professional (1994)", "Action|Crime|Drama|Thriller", True),
    ("Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)", "Action|Drama|Romance", True),
    ("千と千尋の神隠し (2001)", "Adventure|Animation|Fantasy", True),
    ("Sci-Fi Boys (2006)", "Documentary", True),
    ("Sci-Fi Nights (1999)", "Comedy", True),
    ("My Sci-Fi Summer (2012)", "Drama|Romance", True),
    ("Gravity Well (2013)", "Sci-Fi|IMAX", True),
    ("Interstellar Drift (2014)", "Adventure|Sci-Fi|IMAX", True),
    ("Pirates of the Pacific (2017)", NO_GENRES, True),
    ("Untitled Project (2019)", NO_GENRES, True),
    ("War of the Worlds (2005)", "Action|Sci-Fi", True),
    ("War of the Worlds (2005)", "Sci-Fi|Thriller", True),
    ("Solaris (2002)", "Drama|Romance|Sci-Fi", True),
    ("Solaris (2002)", "Drama|Sci-Fi", True),
    ("Nobody Watched This (1987)", "Sci-Fi", False),
    ("Dark Moon Rising (2003)", "Horror|Sci-Fi", False),
    ("Forgotten Orbit, The (1971)", "Adventure|Sci-Fi", False),
]

ADJ = ("Silent Dark Last Lost Golden Broken Hidden Secret Wild Little Endless "
       "Crimson Frozen Burning Lonely Strange Eternal Midnight Savage Blue").split()
NOUN = ("Night River Dream Kingdom Road Heart City Shadow Star Summer Storm "
        "Garden Stranger Empire Island Game Witness Journey Mirror Winter").split()
NAME = "Jack Anna Max Rosa Harry Lola Victor Mia Frank Nina".split()

START_TS, END_TS = 820454400, 1703980799  # 1996-01-01 .. 2023-12-30
RATING_CUM = [(14, 0.5), (42, 1.0), (60, 1.5), (135, 2.0), (190, 2.5),
              (390, 3.0), (520, 3.5), (786, 4.0), (871, 4.5), (1000, 5.0)]
# fmt: on


@dataclass(frozen=True)
class SampleSummary:
    movies: int
    ratings: int
    paths: tuple[Path, Path]  # (movies.csv, ratings.csv)
    seed: int
    seconds: tuple[float, float] = (0.0, 0.0)  # making each

    @property
    def movies_path(self) -> Path:
        return self.paths[0]

    @property
    def ratings_path(self) -> Path:
        return self.paths[1]


def _title(rng: random.Random) -> str:
    a, n, n2 = rng.choice(ADJ), rng.choice(NOUN), rng.choice(NOUN)
    base = rng.choice(
        [
            f"{a} {n}",
            f"{n} of the {n2}",
            f"{rng.choice(NAME)}'s {n}",
            f"{a} {n}, The",
            f"{n}, A",
            f"{a} {n} {rng.randint(2, 4)}",
        ]
    )
    return f"{base} ({rng.randint(1902, 2018)})"


def _genres(rng: random.Random) -> str:
    if rng.random() < 0.004:
        return NO_GENRES
    k = rng.choices([1, 2, 3, 4, 5], weights=[36, 32, 21, 8, 3])[0]
    picked: set[str] = set()
    while len(picked) < k:
        picked.update(rng.choices(GENRES, weights=list(GENRE_WEIGHTS.values())))
    return "|".join(g for g in GENRES if g in picked)


def _movies(n: int, rng: random.Random) -> tuple[list[tuple[int, str, str]], list[int], list[int]]:
    """Return (rows, rating lookup table of movieIds, unknown movieIds)."""
    specials = SPECIALS[: max(n, 0)]
    slots = dict(zip(sorted(rng.sample(range(n), len(specials))), specials, strict=True))
    rows: list[tuple[int, str, str]] = []
    rated: list[int] = []
    weights: list[float] = []
    ghosts: list[int] = []
    mid = 0
    for pos in range(n):
        step = 1 if pos == 0 or rng.random() < 0.9 else rng.randint(2, 40)
        if step > 1 and len(ghosts) < 50:
            ghosts.append(mid + 1)  # an id inside a gap: never a movie
        mid += step
        title, genres, ok = slots.get(pos) or (_title(rng), _genres(rng), True)
        rows.append((mid, title, genres))
        if ok:  # popularity is log-normal: a few hits, a long tail of rarely rated films
            rated.append(mid)
            weights.append(rng.lognormvariate(0, 1.1))
    ghosts += range(mid + 1, mid + 11)
    # Ratings pick uniformly from this weighted sample, so popular films come up more often.
    lookup = rng.choices(rated, weights, k=max(1 << 17, 8 * len(rated))) if rated else ghosts
    return rows, lookup, ghosts


def _write_movies(path: Path, rows: list[tuple[int, str, str]]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(["movieId", "title", "genres"])
            w.writerows(rows)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_ratings(path: Path, n: int, seed: int, lookup: list[int], ghosts: list[int]) -> None:
    import duckdb

    from elt_cli.templates import sql_string

    users = max(10, n // 150)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rating = " ".join(f"WHEN h < {c} THEN {v}" for c, v in RATING_CUM)
    # Row i draws from hash(i, seed, k), never random(); a JOIN does not keep row order in
    # DuckDB, so ORDER BY i is what makes the file byte-identical run after run.
    sql = f"""
    COPY (
      SELECT userId,
             CASE WHEN i % 211 = 5 THEN {ghosts}[(1 + hash(i, {seed}, 2) % {len(ghosts)})::BIGINT]
                  ELSE pool.movieId END AS movieId,
             (CASE {rating} END)::DECIMAL(2,1) AS rating,
             least({START_TS} + hash(userId, {seed}, 3) % {END_TS - START_TS}
                   + hash(i, {seed}, 4) % {3 * 365 * 86400}, {END_TS}) AS "timestamp"
      FROM (SELECT i, 1 + i * {users} // {max(n, 1)} AS userId, hash(i, {seed}, 5) % 1000 AS h,
                   1 + hash(i, {seed}, 1) % {len(lookup)} AS k
            FROM range({n}) t(i)) r
      JOIN pool USING (k)
      ORDER BY i
    ) TO {sql_string(str(tmp))} (FORMAT CSV, HEADER, DELIMITER ',')"""
    try:
        spill_dir = tempfile.TemporaryDirectory(prefix=".spill-", dir=path.parent)
        with spill_dir as spill, duckdb.connect() as con:
            # DuckDB spills here if the sort outgrows memory
            con.execute(
                "SET memory_limit = '512MB'; SET enable_progress_bar = false; "
                f"SET temp_directory = {sql_string(spill)}"
            )
            con.execute(
                "CREATE TABLE pool AS SELECT unnest($1::BIGINT[]) AS movieId, "
                "generate_subscripts($1::BIGINT[], 1) AS k",
                [lookup],
            )
            con.execute(sql)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def generate(
    dest: Path,
    *,
    seed: int = 42,
    ratings: int = 100_836,
    movies: int = 9_742,
    paths: tuple[Path, Path] | None = None,
) -> SampleSummary:
    """Write dest/movies/movies.csv and dest/ratings/ratings.csv (or the two `paths`); same
    inputs, same bytes."""
    dest, seed = Path(dest), int(seed)
    if ratings < 0 or movies < 0:
        raise ValueError("ratings and movies must be >= 0")
    started = time.monotonic()
    rows, lookup, ghosts = _movies(movies, random.Random(seed))
    m_path, r_path = paths or (dest / "movies" / "movies.csv", dest / "ratings" / "ratings.csv")
    m_path.parent.mkdir(parents=True, exist_ok=True)
    r_path.parent.mkdir(parents=True, exist_ok=True)
    _write_movies(m_path, rows)
    written = time.monotonic()
    _write_ratings(r_path, ratings, seed, lookup, ghosts)
    seconds = (written - started, time.monotonic() - written)
    return SampleSummary(movies, ratings, (m_path, r_path), seed, seconds)


def write_sample_data(
    settings,
    spec,
    reporter,
    *,
    seed: int,
    ratings: int,
    movies: int,
    force: bool,
    dry_run: bool = False,
) -> str:
    """`elt sample-data`: the job's sample data into the lake (a local folder, or uploaded to
    S3): MovieLens-format files made here, or the files of the job's sample folder."""
    from elt_cli.errors import BadInput
    from elt_cli.lock import held, lock_for
    from elt_cli.plan import source_locations
    from elt_cli.storage import open_storage

    locations = source_locations(spec, settings)
    storage = open_storage(settings, settings.layout_for(locations.values()).is_owned)
    if not spec.sample:
        raise BadInput(f"job {spec.name} has no sample data (a [sample] table in its job.toml)")
    present = [loc for loc in locations.values() if storage.list_files(loc)]
    if present and not force:
        raise BadInput(
            f"raw data is already there ({', '.join(present)}): keeping it; use --force to "
            "replace the sample files"
        )
    local = not settings.lake.startswith("s3://")
    # replacing raw files while a job reads them would change its input halfway: hold the lock
    lock = lock_for(settings, storage) if present and not dry_run else None
    with held(lock, settings.wait_lock), tempfile.TemporaryDirectory(prefix="elt-sample-") as tmp:
        if spec.sample.get("generator") == "movielens":
            if set(locations) != {"movies", "ratings"}:
                raise BadInput("the movielens generator writes a job's movies and ratings sources")
            what = f"{movies:,} films and {ratings:,} ratings"
            targets = [locations["movies"] + "movies.csv", locations["ratings"] + "ratings.csv"]
            # a local lake gets the files written in place (each atomically); S3 an upload
            paths = (Path(targets[0]), Path(targets[1])) if local else None
            copies: list[tuple[Path | None, str]] = [(None, t) for t in targets]
            # (source, rows, seconds) of each target, once made
            made_as: list[tuple[str, int | None, float]] = []
        else:
            folder = spec.folder / spec.sample["folder"]
            found = [
                (name, path)
                for name in locations
                for path in sorted((folder / name).rglob("*"))
                if path.is_file()
            ]
            copies = [
                (path, locations[name] + path.relative_to(folder / name).as_posix())
                for name, path in found
            ]
            made_as = [(name, None, 0.0) for name, _ in found]
            what = f"{len(copies)} file(s) of the job's sample data"
        if dry_run:
            for _, target in copies:
                reporter.planned("storage", f"write {target}")
            return f"would write {what}"
        reporter.step_started("sample-data", what)
        if spec.sample.get("generator") == "movielens":
            made = generate(Path(tmp), seed=seed, ratings=ratings, movies=movies, paths=paths)
            copies = (
                [(None, t) for t in targets]
                if local
                else [(path, t) for path, t in zip(made.paths, targets, strict=True)]
            )
            made_as = list(zip(("movies", "ratings"), (movies, ratings), made.seconds, strict=True))
        for (path, target), (source, rows, seconds) in zip(copies, made_as, strict=True):
            started = time.monotonic()
            if path is None:
                pass  # written in place
            elif local:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            else:
                storage.put_file(path, target)
            seconds += time.monotonic() - started
            reporter.output(target, rows, source, seconds)
        reporter.step_finished("sample-data")
    return f"wrote {what} under {settings.lake}"

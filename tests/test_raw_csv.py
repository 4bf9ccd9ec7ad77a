"""Raw CSV files read as Athena's OpenCSVSerDe reads them, on both engines: an empty field, the
missing-value markers a source declares, blank lines, line breaks inside quotes; and Glue
keeping the SerDe's settings as the DDL wrote them.
(https://docs.aws.amazon.com/athena/latest/ug/csv-serde.html)"""

from __future__ import annotations

import json
import shutil

import pytest
import sqlglot
from support import FINAL, last_line
from support.data import (
    AWKWARD_MOVIES,
    AWKWARD_RATINGS,
    make_lake,
    read_output,
    write_csv,
)
from support.processes import replay_on_duckdb

from elt_cli.errors import StepFailed
from elt_cli.templates import packaged_queries

# -- 9. an empty field ----------------------------------------------------------------------------


def test_an_empty_field_in_a_string_column_is_the_empty_string(elt, tmp_path):
    """OpenCSVSerDe reads an empty field of a STRING column as '' (not NULL, which elt's guard
    would refuse as a malformed row): the film with no title is in the file, its title ""."""
    movies = [*AWKWARD_MOVIES, (16, "", "Sci-Fi")]
    lake = make_lake(tmp_path / "lake", movies, [*AWKWARD_RATINGS, (3, 16, 4.0)])
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert "16,,,4.0,1\n" not in (lake / FINAL).read_text()
    assert '16,"",,4.0,1\n' in (lake / FINAL).read_text()  # "" is the empty string, not NULL


# -- 10. missing values -------------------------------------------------------------------------

WEATHER_JOB = {
    "job.toml": """
name = "weather"
[defaults]
source_prefix = "weather"
[[sources]]
name = "readings"
sql = "readings.sql"
missing = ["NA", ""]
[[models]]
name = "stations"
sql = "stations.sql"
[[exports]]
model = "stations"
sql = "export.sql"
path = "{source_prefix}/stations.csv"
""",
    "readings.sql": """
CREATE EXTERNAL TABLE ${database}.${table} (
  station STRING,
  day STRING,
  temp DOUBLE,
  rain INT
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'
WITH SERDEPROPERTIES ('separatorChar' = ',', 'quoteChar' = '"', 'escapeChar' = '\\u0000')
LOCATION ${location}
TBLPROPERTIES ('skip.header.line.count' = '1')
""",
    "stations.sql": """
SELECT
  station,
  count(*) AS days,
  count(temp) AS measured,
  avg(temp) AS avg_temp,
  sum(rain) AS rain
FROM ${database}.readings
GROUP BY station
""",
    "export.sql": "SELECT * FROM ${database}.stations ORDER BY station\n",
}
# Two files, a quoted comma, NA and empty fields in number columns.
READINGS = {
    "a.csv": (
        "station,day,temp,rain\n"
        '"Oslo, Blindern",2024-01-01,-3.5,NA\n'
        '"Oslo, Blindern",2024-01-02,NA,2\n'
        "Bergen,2024-01-01,4.0,\n"
    ),
    "b.csv": 'station,day,temp,rain\nBergen,2024-01-02,"5.5",10\n',
}
STATIONS = (
    "station,days,measured,avg_temp,rain\n"
    "Bergen,2,2,4.75,10\n"  # the empty rain reads as NULL: sum() of 10 and NULL
    '"Oslo, Blindern",2,1,-3.5,2\n'  # the NA temperature reads as NULL: count(temp) is 1
)


@pytest.fixture
def weather(tmp_path):
    folder = tmp_path / "weather-job"
    folder.mkdir()
    for name, text in WEATHER_JOB.items():
        (folder / name).write_text(text.lstrip())
    lake = tmp_path / "lake"
    for name, text in READINGS.items():
        path = lake / "weather" / "readings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder, lake


def test_missing_values_read_as_null_in_any_column(elt, weather):
    job, lake = weather
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 0, result.output
    assert (lake / "weather" / "stations.csv").read_text() == STATIONS


def test_a_value_that_is_neither_of_its_type_nor_missing_is_malformed(elt, weather):
    job, lake = weather
    bad = lake / "weather" / "readings" / "c.csv"
    bad.write_text("station,day,temp,rain\nBergen,2024-01-03,four,1\n")
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: stations failed: 1 malformed row(s) in the raw data: 1 in {bad} (column "
        "temp: 'four' is neither of type DOUBLE nor a missing value); fix the file, or give "
        "--skip-bad-rows to skip and count them"
    )
    result = elt("--queries", job, "--lake", lake, "run", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert (lake / "weather" / "stations.csv").read_text() == STATIONS


def test_bad_rows_of_several_kinds_in_one_file_are_counted_together(elt, weather):
    """A short and a long row (which DuckDB's reader sets aside) and a value neither of its
    type nor missing (which the SQL refuses), in one file: one error of the step, counting
    all three, not the reader's two under the name of elt's counting query."""
    job, lake = weather
    bad = lake / "weather" / "readings" / "c.csv"
    bad.write_text(
        "station,day,temp,rain\nBergen,2024-01-03\nBergen,2024-01-04,1.0,2,9\n"
        "Bergen,2024-01-05,four,1\n"
    )
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: stations failed: 3 malformed row(s) in the raw data: 2 in {bad} (line 2: 2 "
        f"fields where the table has 4 ('Bergen,2024-01-03')), 1 in {bad} (column temp: "
        "'four' is neither of type DOUBLE nor a missing value); fix the file, or give "
        "--skip-bad-rows to skip and count them"
    )


def test_skipped_rows_of_several_kinds_are_told_in_one_note_with_their_total(elt, weather):
    """With --skip-bad-rows, a mistyped number in a column without markers (which DuckDB's
    reader sets aside), a blank line (elt's reader) and a field neither of its type nor
    missing in a column with markers (which the SQL refuses), in two files: one note for the
    query, with the total and the first bad row's file and line, as for one kind."""
    job, lake = weather
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('["NA", ""]', '{ rain = ["NA", ""] }', 1))
    readings = lake / "weather" / "readings"
    shutil.rmtree(readings)
    readings.mkdir()
    a, b = readings / "a.csv", readings / "b.csv"
    a.write_text(
        "station,day,temp,rain\nOslo,2024-01-01,-3.5,NA\nOslo,2024-01-02,oops,2\n"
        "Bergen,2024-01-01,4.0,lots\nBergen,2024-01-02,5.5,10\n\n"
    )
    b.write_text("station,day,temp,rain\nBergen,2024-01-03,1.0,x\n")
    result = elt("--queries", job, "--lake", lake, "--json", "run", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["notes"] == [
        f"stations: skipped 4 malformed row(s), first {a} line 3, column temp: 'oops' is not "
        "a DOUBLE ('Oslo,2024-01-02,oops,2')"
    ]
    assert (lake / "weather" / "stations.csv").read_text() == (
        "station,days,measured,avg_temp,rain\nBergen,1,1,5.5,10\nOslo,1,1,-3.5,\n"
    )


def test_the_local_engine_counts_its_readers_rejects_only_when_asked(elt, weather):
    """Engine.counting_rejects, the seam steps.read_raw counts with: within it the rows
    DuckDB's reader sets aside are given to the caller, not refused; without it they are
    refused, naming the first."""
    from elt_cli.engines.base import BadRows, Statement
    from elt_cli.engines.local import LocalEngine

    job, lake = weather
    bad = lake / "weather" / "readings" / "c.csv"
    bad.write_text("station,day,temp,rain\nBergen,2024-01-03\nBergen,2024-01-04,1.0,2\n")
    for step in ("ensure-db", "create-tables"):
        assert elt("--queries", job, "--lake", lake, step).exit_code == 0
    count = Statement("count", "SELECT count(*) FROM weather_elt.readings", reads=("readings",))
    engine = LocalEngine(lake)
    try:
        with engine.counting_rejects() as rejected:
            assert engine.query(count).rows == [(5,)]
        short = "line 2: 2 fields where the table has 4 ('Bergen,2024-01-03')"
        assert rejected == [BadRows(str(bad), 1, short, 2)]
    finally:
        engine.close()
    engine = LocalEngine(lake)
    try:
        with pytest.raises(StepFailed) as refused:
            engine.query(count)
    finally:
        engine.close()
    assert str(refused.value) == (
        f"count failed: 1 malformed row(s) in the raw data, first {bad} {short}; fix the file, "
        "or give --skip-bad-rows to skip and count them"
    )


def test_without_missing_an_na_is_a_malformed_row(elt, weather):
    """Without `missing`, Athena's behaviour: NA is not a DOUBLE."""
    job, lake = weather
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('missing = ["NA", ""]\n', ""))
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 1
    assert last_line(result).startswith(
        "Error: stations failed: 3 malformed row(s) in the raw data, first "
        f"{lake}/weather/readings/a.csv line 2, column rain: 'NA' is not an INTEGER"
    )


def test_missing_values_per_column(elt, weather):
    job, lake = weather
    toml = job / "job.toml"
    toml.write_text(
        toml.read_text().replace(
            'missing = ["NA", ""]', 'missing = { temp = ["NA"], rain = ["NA", ""] }'
        )
    )
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 0, result.output
    assert (lake / "weather" / "stations.csv").read_text() == STATIONS


@pytest.mark.parametrize(
    "value, message",
    [
        ('"NA"', 'missing must be a list of texts, e.g. ["NA", ""]'),
        ('{ tmp = ["NA"] }', "unknown column 'tmp' of readings; did you mean 'temp'?"),
        ("{ temp = [1] }", 'missing.temp must be a list of texts, e.g. ["NA", ""]'),
    ],
)
def test_a_wrong_missing_is_refused_naming_its_line(elt, weather, value, message):
    job, lake = weather
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('["NA", ""]', value, 1))
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result) == f"Error: {toml}:7: {message}"


def test_missing_on_a_column_elt_cannot_convert_from_text_is_refused_naming_its_line(elt, weather):
    job, _ = weather
    (job / "readings.sql").write_text(
        (job / "readings.sql").read_text().replace("day STRING", "day DATE")
    )
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('["NA", ""]', '{ day = ["NA"] }', 1))
    result = elt("--queries", job, "check")
    assert result.exit_code == 2
    assert last_line(result) == (
        f"Error: {toml}:7: missing values need a column elt can convert from text (STRING, "
        "BOOLEAN, INT, BIGINT, DOUBLE); day is DATE: declare it STRING and convert it in the model"
    )


def test_missing_values_on_athena_compute_what_the_local_engine_does(elt, aws, weather, tmp_path):
    """Athena is sent a table whose columns with markers are STRING, and every read converts
    them: the SQL moto received, run on DuckDB, gives the local engine's rows."""
    job, lake = weather
    for path in sorted((lake / "weather").rglob("*.csv")):
        aws.put(str(path.relative_to(lake)), path.read_bytes())
    aws.results = [("SELECT *", [["station", "days", "measured", "avg_temp", "rain"]])]
    result = elt("--queries", job, "--lake", "s3://lake", "run")
    assert result.exit_code == 0, result.output
    sent = aws.queries()
    (ddl,) = [q for q in sent if q.startswith("CREATE EXTERNAL TABLE")]
    assert "  temp STRING,\n  rain STRING,\n" in ddl
    (ctas,) = [q for q in sent if q.startswith("CREATE TABLE")]
    assert 'TRY_CAST("temp" AS DOUBLE)' in ctas and "IN ('NA', '')" in ctas
    local = tmp_path / "replay"
    shutil.copytree(lake, local)
    assert elt("--queries", job, "--lake", local, "create-tables").exit_code == 1  # no db yet
    assert elt("--queries", job, "--lake", local, "ensure-db").exit_code == 0
    assert elt("--queries", job, "--lake", local, "create-tables").exit_code == 0
    select = sqlglot.parse_one(ctas, read="athena").expression.sql("athena")
    rows = replay_on_duckdb([select], local, "weather_elt", tmp_path / "scratch")
    assert sorted(rows) == sorted([
        ("Bergen", 2, 2, 4.75, 10), ("Oslo, Blindern", 2, 1, -3.5, 2)
    ])  # fmt: skip


# -- 11. blank lines and line breaks inside quotes -----------------------------------------------


def test_a_blank_line_is_a_malformed_row_as_on_athena(elt, tmp_path):
    """OpenCSVSerDe reads a blank line as a row of NULLs, which elt's guard refuses (or skips
    and counts); DuckDB would skip it silently."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    ratings = lake / "movielens/ratings/ratings-1.csv"
    ratings.write_text(ratings.read_text() + "\n")  # the file ends with \n\n
    lines = ratings.read_text().count("\n")
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert last_line(result) == (
        f"Error: movie_ratings failed: 1 malformed row(s) in the raw data, first {ratings} "
        f"line {lines}: a blank line (Athena reads it as a row of NULLs); fix the file, or give "
        "--skip-bad-rows to skip and count them"
    )
    result = elt("--lake", lake, "--json", "run", "--genre", "Sci-Fi", "--skip-bad-rows")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["notes"] == [
        f"movie_ratings: skipped 1 malformed row(s), first {ratings} line {lines}: a blank "
        "line (Athena reads it as a row of NULLs)"
    ]


@pytest.mark.parametrize(
    "extra, text",
    [
        ("movies/extra.csv", 'movieId,title,genres\n20,"Two\nLines (2001)",Sci-Fi\n'),
        # a mistyped field to DuckDB's reader, which runs beside the look: the look's finding,
        # the cause, is told first
        ("ratings/extra.csv", 'userId,movieId,rating,timestamp\n1,"9\n1",4.0,1700000000\n'),
    ],
)
def test_a_line_break_inside_a_quoted_field_is_refused(elt, tmp_path, extra, text):
    """OpenCSVSerDe does not support embedded line breaks: Athena splits the row there. Never
    a run that passes locally and differs on Athena: refused, even with --skip-bad-rows, and
    said so even where the query over the file fails for it (a quoted movie id)."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    extra = lake / "movielens" / extra
    extra.write_text(text)
    for args in ([], ["--skip-bad-rows"]):
        result = elt("--lake", lake, "run", "--genre", "Sci-Fi", *args)
        assert result.exit_code == 1
        assert last_line(result) == (
            f"Error: movie_ratings failed: {extra} line 2: a quoted field holds a line break, "
            "which Athena's OpenCSVSerDe does not support (it splits the row there): remove "
            "the line break from the file (1 in all)"
        )
    assert not (lake / FINAL).exists()


def test_a_mistyped_field_in_a_column_no_query_reads_is_refused_as_on_athena(
    elt, tmp_path, s3_lake
):
    """Athena's guard checks every field of a raw row, the ones a query does not use too; DuckDB
    converts only the columns a query uses, so the local engine makes it convert them all: a
    text timestamp (movie_ratings reads movieId and rating only) is refused with its line, for
    one genre and for several (their shared scan)."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    bad = lake / "movielens/ratings/bad.csv"
    bad.write_text("userId,movieId,rating,timestamp\n7,1,4.0,yesterday\n")
    for genres in (["Sci-Fi"], ["Sci-Fi", "Comedy"]):
        result = elt("--lake", lake, "run", *[x for g in genres for x in ("--genre", g)])
        assert result.exit_code == 1, result.output
        assert last_line(result) == (
            f"Error: movie_ratings failed: 1 malformed row(s) in the raw data, first {bad} line "
            "2, column timestamp: 'yesterday' is not a BIGINT ('7,1,4.0,yesterday'); fix the "
            "file, or give --skip-bad-rows to skip and count them"
        )
    athena = elt("--lake", s3_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert athena.exit_code == 0, athena.output
    guard = athena.output[athena.output.index("CREATE TABLE movielens_elt.movie_ratings") :]
    assert '"timestamp" IS NULL' in guard and '"userId" IS NULL' in guard


def test_the_local_engine_leaves_the_row_guard_to_its_csv_reader(elt, tmp_path, s3_lake):
    """DuckDB's reader refuses a short, long or mistyped row itself, naming file and line, so
    the local engine's SQL has no per-row guard (it cost a second at 25 million ratings); the
    SQL for Athena keeps it, and so does a column with missing markers, whose fields the reader
    reads as text."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    local = elt("--lake", lake, "--dry-run", "run", "--genre", "Sci-Fi")
    athena = elt("--lake", s3_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert local.exit_code == 0, local.output
    assert "malformed row in <" not in local.output
    assert athena.exit_code == 0, athena.output
    assert "'elt: malformed row in <'" in athena.output
    job = tmp_path / "weather"
    job.mkdir()
    for name, text in WEATHER_JOB.items():
        (job / name).write_text(text)
    write_csv(tmp_path / "wlake/weather/readings/r.csv", ["station", "day", "temp", "rain"],
              [("Oslo", "1", "NA", "2")])  # fmt: skip
    weather = elt("--lake", tmp_path / "wlake", "--queries", job, "--dry-run", "run")
    assert weather.exit_code == 0, weather.output
    assert "malformed row in <" in weather.output  # temp's fields: a marker or a DOUBLE


def test_a_file_found_clean_is_checked_again_once_it_changes(elt, tmp_path):
    """A raw file found clean is not read again while it is unchanged (clean-files.json); a
    blank line written into it later is found, though the file keeps its size."""
    lake = make_lake(tmp_path / "lake", AWKWARD_MOVIES, AWKWARD_RATINGS)
    ratings = lake / "movielens/ratings/ratings-1.csv"
    assert elt("--lake", lake, "run", "--genre", "Sci-Fi").exit_code == 0
    memo = json.loads((lake / "_elt/movielens_elt/clean-files.json").read_text())
    assert str(ratings) in memo
    text = ratings.read_text()
    first = text.index("\n", text.index("\n") + 1)  # the end of the first rating
    changed = text[:first] + "\n\n" + text[first + 2 :]  # its last character becomes a blank line
    assert len(changed) == len(text)
    ratings.write_text(changed)
    result = elt("--lake", lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert "a blank line (Athena reads it as a row of NULLs)" in last_line(result)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 16])
def test_the_fast_look_at_a_file_never_misses_what_the_line_by_line_one_finds(tmp_path, chunk):
    """rawfiles' C-speed look at a file says it is clean only when reading it line by line finds
    neither blank lines nor lines ending inside quotes: random files of the characters that
    matter, gzip or not, with chunks that cut lines anywhere."""
    import gzip
    import random

    from elt_cli.engines import rawfiles

    rng = random.Random(chunk)
    pieces = [b"a", b"aa", b",", b'"', b"\n", b"\n", b"\r\n", b"\r", b"\x01"]
    clean = 0
    for i in range(1500):
        text = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        path = tmp_path / (f"f{i}.csv.gz" if i % 7 == 0 else f"f{i}.csv")
        path.write_bytes(gzip.compress(text) if i % 7 == 0 else text)
        exact = rawfiles._scan_lines(str(path), '"')
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rawfiles, "CHUNK", chunk)
            if rawfiles._clean(str(path), '"'):
                clean += 1
                assert exact == rawfiles.Lines(), (text, exact)
    assert clean > 50  # the fast look does answer


# -- 12. the SerDe's settings, read back from Glue ------------------------------------------------


def test_create_tables_reads_the_serde_settings_back_from_glue(elt, s3_lake, aws, monkeypatch):
    """A silent difference between the DDL and what Glue keeps (an escape character that
    arrived as a backslash) would change every title with a backslash: create-tables fails."""
    from support import moto_athena

    original = moto_athena.AthenaRules._external_table

    def backslash(glue, tree, sql, started):
        original(glue, tree, sql, started)
        made, table = started.effect, tree.this.this

        def effect():
            made()
            stored = glue.get_table(table.db, table.name).as_dict()
            stored["StorageDescriptor"]["SerdeInfo"]["Parameters"]["escapeChar"] = "\\"
            glue.update_table(table.db, table.name, {k: stored[k] for k in (
                "Name", "TableType", "Parameters", "StorageDescriptor"
            )})  # fmt: skip

        if made:
            started.effect = effect

    monkeypatch.setattr(moto_athena.AthenaRules, "_external_table", staticmethod(backslash))
    assert elt("--lake", s3_lake, "ensure-db").exit_code == 0
    result = elt("--lake", s3_lake, "create-tables")
    assert result.exit_code == 1
    assert last_line(result) == (
        "Error: create-tables failed: Glue holds escapeChar = '\\\\' for movielens_elt.movies "
        "where its DDL says '\\x00': Athena would read its files otherwise than the job says; "
        "check how the DDL writes that value"
    )


# -- 13., 14. small things -------------------------------------------------------------------------


def test_a_parameter_without_a_values_query_runs(elt, tmp_path, awkward_lake):
    job = tmp_path / "job"
    shutil.copytree(packaged_queries(), job)
    toml = job / "job.toml"
    toml.write_text(toml.read_text().replace('values = "genres.sql"', ""))
    result = elt("--queries", job, "--lake", awkward_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    assert read_output(awkward_lake / FINAL)


def test_dry_run_with_debug_shows_the_duckdb_sql_the_local_engine_runs(elt, awkward_lake):
    result = elt("--lake", awkward_lake, "--dry-run", "--debug", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 0, result.output
    plan = result.stdout.split("\n\n")
    at = plan.index(next(p for p in plan if p.startswith("-- build-subset\nCREATE TABLE")))
    local = plan[at + 1]
    assert local.startswith("-- the same, as the local engine runs it (DuckDB):\nSELECT\n")
    assert 'CAST(SUM("ratings"."rating") AS DOUBLE)' in local or "SUM(" in local
    plain = elt("--lake", awkward_lake, "--dry-run", "run", "--genre", "Sci-Fi")
    assert "as the local engine runs it" not in plain.stdout


def test_select_star_of_a_raw_table_gives_its_declared_columns(elt, weather):
    """As on Athena: the hidden "$path" is there when named, not in `SELECT *`."""
    job, lake = weather
    (job / "stations.sql").write_text('SELECT *, "$path" AS file FROM ${database}.readings\n')
    (job / "export.sql").write_text("SELECT * FROM ${database}.stations ORDER BY day, station\n")
    result = elt("--queries", job, "--lake", lake, "run")
    assert result.exit_code == 0, result.output
    lines = (lake / "weather" / "stations.csv").read_text().splitlines()
    assert lines[0] == "station,day,temp,rain,file"
    assert lines[1] == f"Bergen,2024-01-01,4.0,,{lake}/weather/readings/a.csv"
    (job / "stations.sql").write_text("SELECT * FROM ${database}.readings\n")
    assert elt("--queries", job, "--lake", lake, "run").exit_code == 0
    assert (lake / "weather" / "stations.csv").read_text().splitlines()[0] == (
        "station,day,temp,rain"
    )


def test_ctrl_c_while_the_look_goes_on_stops_it_at_once(elt, awkward_lake, monkeypatch):
    """The look at the raw files runs in a thread beside the query: Ctrl-C, in the query or
    after it while the look still reads a large file, stops the look at its next chunk instead
    of waiting for the whole file."""
    import os
    import signal
    import threading
    import time

    from elt_cli.engines import rawfiles
    from elt_cli.engines.local import LocalEngine
    from elt_cli.statements import Statement

    assert elt("--lake", awkward_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    (awkward_lake / "_elt/movielens_elt/clean-files.json").unlink()  # look at them again
    told = []

    def slow_look(files, quote, stop):  # a large file: ten seconds, unless stopped
        told.append(stop.wait(10))
        raise rawfiles.Stopped

    monkeypatch.setattr(rawfiles, "check", slow_look)
    engine = LocalEngine(awkward_lake)
    statement = Statement("count", "SELECT count(*) FROM movielens_elt.ratings", reads=("ratings",))
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.query(statement)
    finally:
        engine.close()
    assert time.monotonic() - started < 5
    assert told == [True]

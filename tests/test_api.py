"""The Python API: what the commands do, from Python, with the same results and exceptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.data import expected_subset, read_output

from elt_cli import Elt
from elt_cli.errors import EXIT_USAGE, BadInput, StepFailed, TemplateError

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_python_block_runs_as_written(elt, tmp_path, capsys):
    """The first ```python block of the README's "Python API", on a lake `elt sample-data`
    made, writes the Sci-Fi file."""
    assert elt("--lake", "lake", "sample-data").exit_code == 0  # tmp_path is the cwd
    section = README.read_text().split("## Python API", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
    final = tmp_path / "lake/movielens/sci_fi/sci_fi-movies.csv"
    assert capsys.readouterr().out == f"['{final}']\n1\n"
    assert read_output(final) == expected_subset(tmp_path / "lake", "Sci-Fi")


def test_the_api_and_the_command_line_give_the_same_document(elt, awkward_lake, tmp_path):
    import json
    import shutil

    other = tmp_path / "other"
    shutil.copytree(awkward_lake, other)
    api = Elt(lake=awkward_lake).run(genre="Sci-Fi").document()
    cli = json.loads(elt("--lake", other, "--json", "run", "--genre", "Sci-Fi").stdout)
    assert [Path(f).relative_to(awkward_lake) for f in api["result"]] == [
        Path(f).relative_to(other) for f in cli["result"]
    ]
    assert [s["step"] for s in api["steps"]] == [s["step"] for s in cli["steps"]]
    assert set(api) == set(cli)


def test_every_command_is_a_method(awkward_lake, tmp_path):
    elt = Elt(lake=awkward_lake)
    assert elt.ensure_db().value == "database movielens_elt was missing: created"
    elt.create_tables()
    elt.build(genre=["Sci-Fi", "Comedy"])
    elt.export(genre="Sci-Fi")
    (final,) = elt.move(genre="Sci-Fi").value
    assert read_output(Path(final)) == expected_subset(awkward_lake, "Sci-Fi")
    assert ("Sci-Fi", 9) in elt.values("genre").value
    assert elt.check().value.startswith("job movielens in ")
    assert elt.config().value["lake"] == {"value": str(awkward_lake), "source": "argument"}
    assert elt.config().value["database"]["source"] == "job"


def test_errors_are_the_projects_exceptions_with_their_exit_codes(awkward_lake, tmp_path):
    elt = Elt(lake=awkward_lake)
    with pytest.raises(BadInput) as error:
        elt.run(genre="Sci-fy")
    assert error.value.exit_code == EXIT_USAGE
    assert str(error.value) == "no films with genre 'Sci-fy'. Did you mean 'Sci-Fi'?"
    with pytest.raises(BadInput, match="the job has no parameter 'genres'"):
        elt.run(genres="Sci-Fi")
    with pytest.raises(TemplateError, match="does not exist"):
        Elt(tmp_path / "no-job")
    bad = awkward_lake / "movielens/ratings/bad.csv"
    bad.write_text("userId,movieId,rating,timestamp\n5,9,four,2\n")
    with pytest.raises(StepFailed) as failed:  # naming the file
        elt.run(genre="Sci-Fi")
    assert str(bad) in str(failed.value) and failed.value.exit_code == 1

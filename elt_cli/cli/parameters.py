"""The job's parameters as options of the commands that take them: `--genre`, repeatable where
the parameter repeats, and `--param NAME=VALUE` for any. They are known only once the global
options have said which job it is, so a JobCommand adds them when it makes its context."""

from __future__ import annotations

import difflib
from typing import Any

import click

from elt_cli.errors import BadInput
from elt_cli.job import JobSpec


class JobParameterOption(click.Option):
    """An option that stands for one of the job's parameters (or `--param`)."""


class JobCommand(click.Command):
    def make_context(self, info_name, args, parent=None, **extra):
        from elt_cli.cli.app import App

        app = parent.obj if parent is not None else None
        if isinstance(app, App):
            own = [p for p in self.params if not isinstance(p, JobParameterOption)]
            self.params = [*parameter_options(app.spec), *own]
        return super().make_context(info_name, args, parent=parent, **extra)


def parameter_options(spec: JobSpec) -> list[click.Option]:
    options: list[click.Option] = []
    for p in spec.parameters.values():
        example = f" (e.g. {p.example})" if p.example and "e.g." not in p.help else ""
        options.append(
            JobParameterOption(
                [p.option, f"param_{p.name}"],
                multiple=True,
                metavar=p.name.upper(),
                help=p.help + example + ("" if p.repeat else " Give it once."),
            )
        )
    options.append(
        JobParameterOption(
            ["--param", "param_pairs"],
            multiple=True,
            metavar="NAME=VALUE",
            help="Any of the job's parameters, as NAME=VALUE; repeat for several.",
        )
    )
    return options


def given_values(spec: JobSpec, kwargs: dict[str, Any]) -> dict[str, list[str]]:
    """The parameter values on the command line, {name: values} (taken out of `kwargs`)."""
    given = {p: list(kwargs.pop(f"param_{p}", ()) or ()) for p in spec.parameters}
    for pair in kwargs.pop("param_pairs", ()) or ():
        name, sep, value = pair.partition("=")
        if not sep or name not in spec.parameters:
            known = ", ".join(spec.parameters) or "none"
            close = difflib.get_close_matches(name, list(spec.parameters), n=1)
            hint = f"; did you mean {close[0]}={value}?" if sep and close else ""
            raise BadInput(
                f"--param {pair!r}: give NAME=VALUE with a NAME of the job's ({known}){hint}"
            )
        given[name].append(value)
    return given


def skip_bad_rows_option(f):
    return click.option(
        "--skip-bad-rows",
        is_flag=True,
        help="Skip and count malformed raw rows instead of failing.",
    )(f)

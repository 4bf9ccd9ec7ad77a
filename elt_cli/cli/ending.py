"""How a command ends: the exit code and the one line on stderr (docs/DESIGN.md's contract),
for every way out, signals included."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from elt_cli import jobhelp, signals
from elt_cli.config import DEFAULT_CONFIG
from elt_cli.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    BadInput,
    EltError,
    Terminated,
)


def outcome(exc: BaseException | None, hint: bool = True) -> tuple[int, str | None]:
    """The exit code and one-line message for how a command ended; `hint`: say how to see the
    traceback of an unexpected error."""
    if exc is None:
        return EXIT_OK, None
    if isinstance(exc, click.exceptions.Abort) and isinstance(exc.__cause__, KeyboardInterrupt):
        exc = exc.__cause__  # click's main wraps Ctrl-C, and its message, in an Abort
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code, None
    if isinstance(exc, click.ClickException):
        more = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            more = f" (see `{exc.ctx.command_path} --help`)"
        return exc.exit_code, exc.format_message() + more
    if isinstance(exc, EltError):
        return exc.exit_code, str(exc)
    if isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort, Terminated)):
        code, word = (
            (EXIT_TERMINATED, "terminated")
            if isinstance(exc, Terminated)
            else (EXIT_INTERRUPTED, "interrupted")
        )
        return code, word + (f"; {exc}" if str(exc) else "")  # what next, where api.Elt says it
    more = " (run with --debug for the traceback)" if hint else ""
    return EXIT_FAILED, f"unexpected {type(exc).__name__}: {exc}{more}"


class EltGroup(click.Group):
    """Turns every ending into one line on stderr and the exit code of the contract; the
    command's output (cli/app.py) is flushed on every way out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_templates: dict[str, str] = {}  # each command's docstring, as written

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in step order, as they are defined

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:  # after --queries (eager), so the help is that job's
            option.is_eager = False
        return option

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.use_job(ctx.params.get("queries"))
        super().format_help(ctx, formatter)

    def use_job(self, folder: Path | None) -> None:
        """elt's help and each command's in the words of the job in `folder` (jobhelp.py);
        `genres` only for a job with a genre parameter."""
        from elt_cli.templates import packaged_queries

        found = jobhelp.fields(folder or packaged_queries())
        for name, command in [("", self), *self.commands.items()]:
            template = self.help_templates.setdefault(name, command.help or "")
            command.help = jobhelp.render(template, found)
        self.commands["genres"].hidden = "genre" not in found["parameters"].split(", ")

    def invoke(self, ctx: click.Context) -> Any:
        error: BaseException | None = None
        try:
            return super().invoke(ctx)
        except BaseException as exc:
            error = exc
            raise
        finally:
            flush = getattr(ctx.obj, "flush", None)  # the App (cli/app.py), once it is made
            if flush is not None:
                flush(ctx.invoked_subcommand, error)

    def main(self, args=None, prog_name=None, **extra):  # type: ignore[override]
        extra.pop("standalone_mode", None)
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or os.environ.get("ELT_DEBUG", "") not in ("", "0", "false")
        restore_signals = signals.install()
        try:
            code = super().main(argv, prog_name or "elt", standalone_mode=False, **extra)
            code = code if isinstance(code, int) else EXIT_OK
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help())  # a bare `elt`: the help, once
            code = exc.exit_code
        except click.NoSuchOption as exc:
            code, message = outcome(_global_option_misplaced(self, exc, argv) or exc)
            _error(message)
        except click.BadParameter as exc:
            code, message = outcome(_bad_value(exc) or exc)
            _error(message)
        except Exception as exc:
            if debug and not isinstance(exc, click.ClickException):
                _traceback()
            code, message = outcome(exc, hint=not debug)
            _error(message)
        except (KeyboardInterrupt, Terminated) as exc:
            code, message = outcome(exc)
            _error(message)
        finally:
            restore_signals()
        sys.exit(code)


def _error(message: str | None) -> None:
    click.echo(for_terminal(f"Error: {message}"), err=True)


def for_terminal(text: str) -> str:
    """A message for stderr: at a terminal, wrapped between words to its width, a backquoted
    command kept whole (the terminal would break anywhere); elsewhere one line, for logs."""
    if not sys.stderr.isatty():
        return text
    import shutil
    import textwrap

    glued = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", "\0"), text)  # no break
    width = shutil.get_terminal_size().columns - 1
    wrapped = textwrap.fill(glued, width, break_long_words=False, break_on_hyphens=False)
    return wrapped.replace("\0", " ")


def _global_option_misplaced(
    group: click.Group, exc: click.NoSuchOption, argv: list[str]
) -> BadInput | None:
    """`elt run --genre Sci-Fi --lake x`: say where a global option goes, with the command
    line it gives."""
    options = {o: p for p in group.params for o in p.opts + p.secondary_opts}
    if exc.option_name not in options or exc.ctx is None or exc.ctx.parent is None:
        return None
    command = exc.ctx.info_name or ""
    at = argv.index(command)
    before, after, moved = argv[:at], [], []
    rest = iter(argv[at + 1 :])
    for word in rest:
        name = word.split("=", 1)[0]
        if name in options:
            option = options[name]
            given = [word]
            if "=" not in word and not (isinstance(option, click.Option) and option.is_flag):
                given.append(next(rest, ""))
            said = any(before[i : i + len(given)] == given for i in range(len(before)))
            moved += [] if said else given  # given twice, the same: once is enough
        else:
            after.append(word)
    line = shlex.join(["elt", *before, *moved, command, *after])
    return BadInput(
        f"{exc.option_name} is an option of elt itself: put it before the command: {line}"
    )


def _bad_value(exc: click.BadParameter) -> BadInput | None:
    """A bad setting named by where it came from: `ELT_TIMEOUT=abc: ...`, `elt.toml: timeout
    = "fast" ...`, not a flag nobody gave."""
    param, ctx = exc.param, exc.ctx
    if param is None or ctx is None or not param.name:
        return None
    source = ctx.get_parameter_source(param.name)
    value: Any
    if source == click.core.ParameterSource.ENVIRONMENT:
        value = os.environ.get(str(param.envvar), "")
        where = f"{param.envvar}={value}"
    elif source == click.core.ParameterSource.DEFAULT_MAP:
        value = (ctx.default_map or {}).get(param.name)
        where = f"{ctx.meta.get('config_file', DEFAULT_CONFIG)}: {param.name} = {json.dumps(value)}"
    else:
        return None
    try:
        float(value)
        reason = re.sub(r"^\S+ (is not)", r"\1", exc.message).rstrip(".")
    except (TypeError, ValueError):
        reason = (
            "is not a number"
            if isinstance(param.type, click.FloatRange)
            else re.sub(r"^'[^']*' ", "", exc.message)  # the value is named already
        )
    return BadInput(f"{where} {reason}")


def _traceback() -> None:
    """rich's traceback at a terminal; Python's plain one in a log file or a pipe."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print_exception()
    else:
        import traceback

        traceback.print_exc(file=sys.stderr)

"""`elt check`: a job checked as far as it can be without running it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from elt_cli.job import JobSpec


def check_job(spec: JobSpec, settings) -> str:
    """Loading the job checked job.toml, every file's placeholders and tables and the order of
    the models (see job.load_job); here everything Athena would refuse is refused
    (validate.py), then every statement is rendered with the parameters' examples, as Athena
    would be sent it, and translated for the local engine. Raises TemplateError naming the
    file; returns what the job is."""
    from elt_cli.engines.local import LocalEngine
    from elt_cli.plan import Plan
    from elt_cli.validate import check_job as refuse_what_athena_would

    refuse_what_athena_would(spec)
    job = Plan(spec, settings)
    with tempfile.TemporaryDirectory(prefix="elt-check-") as folder:
        engine = LocalEngine(Path(folder))
        try:
            engine.check_templates(job.sample_statements)
            untwinned = engine.untwinned(job.sample_statements)
        finally:
            engine.close()
    order = " -> ".join(
        ", ".join(m.name + (f" (per {m.per})" if m.per else "") for m in level)
        for level in spec.levels()
    )
    parameters = ", ".join(
        p.option + (" (repeatable)" if p.repeat else "") for p in spec.parameters.values()
    )
    return (
        f"job {spec.name} in {spec.folder}: OK\n"
        f"  sources:    {', '.join(spec.sources)}\n"
        f"  parameters: {parameters or 'none'}\n"
        f"  models:     {order}\n"
        f"  exports:    {', '.join(e.path for e in spec.exports) or 'none'}"
        + "".join(f"\n  Athena only: {f} (the local engine has no twin for it)" for f in untwinned)
    )

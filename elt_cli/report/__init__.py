"""Progress as events: core code reports them to a Reporter, which records them (record.py);
the CLI picks a display. PlainReporter writes one timestamped line per event (cron mail,
Airflow task logs); RichReporter keeps a live display at a terminal and ends with a summary
table. Both end with the same closing line: `Done in 1.7 s: 2 files written (980 + 3,756
rows), 9 queries, 0 failed`."""

from elt_cli.report.live import RichReporter
from elt_cli.report.plain import PlainReporter
from elt_cli.report.record import Reporter, human_bytes

__all__ = ["PlainReporter", "Reporter", "RichReporter", "human_bytes"]

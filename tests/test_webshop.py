"""The second example job, examples/webshop, end to end on both engines: its own data (orders
and customers), a parameter that is not a genre (--country), two models in a chain. Its
output is checked against an independent Python reading of the same CSV files."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from support.data import csv_bytes, snapshot
from support.processes import replay_on_duckdb

WEBSHOP = Path(__file__).parent.parent / "examples" / "webshop"
HEADER = ["rank", "customer_id", "name", "orders", "spent", "first_order", "last_order"]
COUNTRY = "Côte d'Ivoire"  # a quote and a letter outside a-z: escaped, and slugged
FINAL = "webshop/reports/{}/customers.csv"


def rows_of(name: str) -> list[dict]:
    with (WEBSHOP / "data" / name / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def expected(country: str) -> list[list[str]]:
    """The customers of a country (any case) with a completed order, ranked by what they
    spent (equal amounts share a rank), as the CSV file holds them."""
    customers = {int(c["customer_id"]): c for c in rows_of("customers")}
    totals: dict[int, dict] = {}
    for order in rows_of("orders"):
        if order["status"] != "completed" or int(order["customer_id"]) not in customers:
            continue
        total = totals.setdefault(int(order["customer_id"]), {"orders": 0, "spent": Decimal(0)})
        total["orders"] += 1
        total["spent"] += Decimal(order["amount"])
        total["dates"] = sorted([*total.get("dates", []), order["ordered_on"]])
    mine = [
        (cid, t)
        for cid, t in totals.items()
        if customers[cid]["country"].lower() == country.lower()
    ]
    rows = []
    for cid, t in mine:
        rank = 1 + sum(other["spent"] > t["spent"] for _, other in mine)
        name = customers[cid]["name"]
        rows.append([rank, cid, name, t["orders"], t["spent"], t["dates"][0], t["dates"][-1]])
    rows.sort(key=lambda r: (r[0], r[1]))
    return [HEADER] + [[str(v) for v in r] for r in rows]


def read_final(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    # spent is a DOUBLE: 1201.27 may print as 1201.27 or 1201.2700000000002 before rounding
    return [rows[0]] + [
        [*r[:4], str(Decimal(r[4]).quantize(Decimal("0.01"))), *r[5:]] for r in rows[1:]
    ]


@pytest.fixture
def shop(elt, tmp_path) -> Path:
    lake = tmp_path / "shop"
    result = elt("--queries", WEBSHOP, "--lake", lake, "sample-data")
    assert result.exit_code == 0, result.output
    return lake


def test_the_webshop_job_runs_locally_for_any_country(elt, shop):
    result = elt("--queries", WEBSHOP, "--lake", shop, "run", "--country", "germany",
                 "--country", COUNTRY)  # fmt: skip
    assert result.exit_code == 0, result.output
    germany, ivory = shop / FINAL.format("germany"), shop / FINAL.format("c_te_d_ivoire")
    assert result.stdout.split() == [str(germany), str(ivory)]
    assert read_final(germany) == expected("Germany") and len(expected("Germany")) > 3
    assert read_final(ivory) == expected(COUNTRY)


def test_param_name_value_is_the_same_as_the_parameters_option(elt, shop):
    assert elt("--queries", WEBSHOP, "--lake", shop, "run", "--country", "Spain").exit_code == 0
    first = (shop / FINAL.format("spain")).read_bytes()
    (shop / FINAL.format("spain")).unlink()
    result = elt("--queries", WEBSHOP, "--lake", shop, "run", "--param", "country=Spain")
    assert result.exit_code == 0, result.output
    assert (shop / FINAL.format("spain")).read_bytes() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "country"], "Error: --param 'country': give NAME=VALUE with a NAME of the "
         "job's (country)"),
        (["--param", "genre=Sci-Fi"], "Error: --param 'genre=Sci-Fi': give NAME=VALUE with a NAME "
         "of the job's (country)"),
        ([], "Error: give at least one --country, e.g. --country Germany"),
        (["--country", "Germny"], "Error: no customers with country 'Germny'. Did you mean "
         "'Germany'?"),
    ],
)  # fmt: skip
def test_a_wrong_parameter_is_refused_saying_what_to_give(elt, shop, args, message):
    assert elt("--queries", WEBSHOP, "--lake", shop, "run", "--country", "France").exit_code == 0
    before = {k: v for k, v in snapshot(shop).items() if "run.json" not in k}
    result = elt("--queries", WEBSHOP, "--lake", shop, "run", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == message
    assert {k: v for k, v in snapshot(shop).items() if "run.json" not in k} == before


def test_values_lists_the_countries_with_their_customers(elt, shop):
    """As the data spells them, with their customers who completed an order."""
    result = elt("--queries", WEBSHOP, "--lake", shop, "values", "country")
    assert result.exit_code == 0, result.output
    buyers = {o["customer_id"] for o in rows_of("orders") if o["status"] == "completed"}
    counts = Counter(c["country"] for c in rows_of("customers") if c["customer_id"] in buyers)
    assert result.stdout.splitlines() == [f"{c}\t{n}" for c, n in sorted(counts.items())]
    assert f"{len(counts)} countries in the data" in result.stderr


def test_a_new_country_builds_only_its_own_table(elt, shop):
    base = ["--queries", WEBSHOP, "--lake", shop, "run"]
    assert elt(*base, "--country", "France").exit_code == 0
    result = elt(*base, "--country", "France", "--country", "Spain")
    assert result.exit_code == 0, result.output
    built = [
        line.split("build-subset: ", 1)[1].split(" SUCCEEDED")[0]
        for line in result.stderr.splitlines()
        if "build-subset: " in line and " SUCCEEDED" in line
    ]
    # its checks run on its new version, then it is published (README, "Checks")
    assert built == ["country_customers [Spain]", "audit [Spain]", "publish [Spain]"]
    assert "customer_totals skipped, SQL and inputs unchanged" in result.stderr
    assert "build-subset: France skipped" in result.stderr
    assert read_final(shop / FINAL.format("spain")) == expected("Spain")


def test_the_webshop_job_on_athena(elt, aws, shop, tmp_path):
    """The same job on moto: the calls Athena receives, the file in the lake, and the SQL it
    was sent run verbatim on DuckDB over the same data giving the expected rows."""
    for path in sorted(p for p in (shop / "webshop").rglob("*") if p.is_file()):
        aws.put(str(path.relative_to(shop)), path.read_bytes())
    germany = expected("Germany")
    aws.results = [
        ("SELECT country", [["country", "customers"], ["Germany", str(len(germany) - 1)]]),
        ("SELECT rank", germany),
    ]
    result = elt("--queries", WEBSHOP, "--lake", "s3://lake", "run", "--country", "Germany")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"s3://lake/{FINAL.format('germany')}\n"
    assert aws.get(FINAL.format("germany")) == csv_bytes(germany)
    sent = aws.queries()
    ctas = [q for q in sent if q.startswith("CREATE TABLE")]
    assert [q.split()[2].split("__")[0] for q in ctas] == [
        "webshop_elt.customer_totals",
        "webshop_elt.customers_germany",
    ]
    assert "FROM webshop_elt.orders" in ctas[0] and "FROM webshop_elt.customers" in ctas[0]
    assert "webshop_elt.orders" not in ctas[1] and "LOWER('Germany')" in ctas[1]
    published = [q.split()[2].split(".")[1] for q in ctas]
    assert aws.glue_tables("webshop_elt") == sorted(
        ["customer_totals", "customers", "customers_germany", "orders", *published]
    )
    # what Athena was sent computes the expected rows
    local = tmp_path / "local"
    shutil.copytree(shop / "webshop", local / "webshop")
    assert elt("--queries", WEBSHOP, "--lake", local, "ensure-db").exit_code == 0
    assert elt("--queries", WEBSHOP, "--lake", local, "create-tables").exit_code == 0
    built = [q for q in sent if q.startswith(("CREATE TABLE", "CREATE OR REPLACE VIEW"))]
    rows = replay_on_duckdb([*built, sent[-1]], local, "webshop_elt", tmp_path / "built")
    assert [[str(v) for v in r] for r in rows] == [
        [*r[:4], str(float(r[4])), *r[5:]] for r in germany[1:]
    ]


def test_dry_run_and_json_work_for_the_webshop_job(elt, shop):
    before = snapshot(shop)
    planned = elt("--queries", WEBSHOP, "--lake", shop, "--dry-run", "run", "--country", "Spain")
    assert planned.exit_code == 0, planned.output
    assert snapshot(shop) == before
    assert "CREATE TABLE webshop_elt.customer_totals__v" in planned.stdout
    assert "CREATE TABLE webshop_elt.customers_spain__v" in planned.stdout
    assert f"-- would move {shop}/export/customers_spain/customers_spain.csv to " in planned.stdout
    ran = elt("--queries", WEBSHOP, "--lake", shop, "--json", "run", "--country", "Spain")
    document = json.loads(ran.stdout)
    assert document["result"] == [str(shop / FINAL.format("spain"))]
    assert [o["rows"] for o in document["outputs"]] == [len(expected("Spain")) - 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--param", "contry=France"], "Error: --param 'contry=France': give NAME=VALUE "
         "with a NAME of the job's (country); did you mean country=France?"),
        (["sample-data", "--force", "--ratings", "5"], "Error: --ratings: job webshop has sample "
         "files of its own, not the MovieLens generator; give no size"),
        (["genres"], "Error: job webshop has no genre parameter; `elt values NAME` lists the "
         "values of one of its parameters (country)"),
    ],
)  # fmt: skip
def test_what_another_job_does_not_have_is_answered_for_it(elt, shop, args, message):
    before = snapshot(shop)
    result = elt("--queries", WEBSHOP, "--lake", shop, *args)
    assert (result.exit_code, result.stderr.strip().splitlines()[-1]) == (2, message)
    assert snapshot(shop) == before


def test_replacing_the_sample_data_waits_for_the_lakes_lock(elt, shop):
    """`sample-data --force` rewrites raw files: not under a run that reads them."""
    from elt_cli.lock import LocalLock

    lock = LocalLock(shop / "_elt/webshop_elt/lock", "a run")
    lock.acquire(0)
    try:
        result = elt("--queries", WEBSHOP, "--lake", shop, "sample-data", "--force")
        assert result.exit_code == 1
        assert "is locked by " in result.stderr.strip().splitlines()[-1]
    finally:
        lock.release()
    assert elt("--queries", WEBSHOP, "--lake", shop, "sample-data", "--force").exit_code == 0


def test_models_run_in_the_order_their_sql_reads_them_not_the_files(elt, shop, tmp_path):
    """job.toml lists country_customers before customer_totals, which it reads: elt builds
    customer_totals first all the same, and says so."""
    job = tmp_path / "reordered"
    shutil.copytree(WEBSHOP, job)
    toml = (job / "job.toml").read_text()
    totals = '[[models]]\nname = "customer_totals"\nsql = "customer_totals.sql"\n\n'
    assert totals in toml
    toml = toml.replace(totals, "").replace("[[exports]]", totals + "[[exports]]")
    assert toml.index('name = "country_customers"') < toml.index('name = "customer_totals"')
    (job / "job.toml").write_text(toml)
    check = elt("--queries", job, "check")
    assert check.exit_code == 0, check.output
    assert "  models:     customer_totals -> country_customers (per country)" in check.stdout
    result = elt("--queries", job, "--lake", shop, "run", "--country", "Germany")
    assert result.exit_code == 0, result.output
    assert read_final(shop / FINAL.format("germany")) == expected("Germany")


def test_a_null_value_is_no_value_one_can_list_or_give(elt, tmp_path, shop):
    """A customer whose country is missing (NA, read as NULL): `elt values` leaves it out,
    and `--country None` is no country in the data (it was listed, and accepted, as 'None')."""
    job = tmp_path / "job"
    shutil.copytree(WEBSHOP, job)
    toml = (job / "job.toml").read_text()
    toml = toml.replace(
        'name = "customers"\nsql = "customers.sql"',
        'name = "customers"\nsql = "customers.sql"\nmissing = ["NA"]',
    )
    (job / "job.toml").write_text(toml)  # fmt: skip
    customers = shop / "webshop" / "customers" / "customers.csv"
    lines = customers.read_text().splitlines()
    lines[1] = ",".join([*lines[1].split(",")[:-1], "NA"])  # the first customer's country
    customers.write_text("\n".join(lines) + "\n")
    result = elt("--queries", job, "--lake", shop, "values", "country")
    assert result.exit_code == 0, result.output
    listed = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert listed and "None" not in listed and "" not in listed
    result = elt("--queries", job, "--lake", shop, "run", "--country", "None")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1].startswith("Error: no customers with country 'None'")

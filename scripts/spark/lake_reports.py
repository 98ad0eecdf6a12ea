"""The three ShopEase reports computed by Spark over a lake that shopease wrote (`shopease lake`,
`shopease run`): it shows the lake is Spark-readable as it is, and scripts/spark.sh checks that
the CSV this prints is byte for byte what `shopease report ... --format csv` prints.

Spark reads <lake>/events/<dataset>/date=YYYY-MM-DD/*.parquet unchanged (Hive partitions; the
writer's hidden ".part-*.tmp" files are skipped by Spark as by DuckDB): money is DECIMAL(18,3),
event times are UTC timestamps. The queries are batch_reports.py's REPORTS_SQL (the Spark
translation of lakesql/views); the inventory view keeps one record per (sku, event_id) as
lakesql's inventory_records does, because the lake keeps the duplicates the gateway passes on.
Ratios are computed here from the exact integer sums with the same float operations as package
reports, so that they print alike.

Usage: python scripts/spark/lake_reports.py --lake LAKE --out DIR [--as-of YYYY-MM-DD]
Writes DIR/monthly-revenue.csv, DIR/top-products.csv, DIR/inventory-turnover.csv.
"""

import argparse
import calendar
import csv
import datetime as dt
import os
import sys
import time

# PySpark hands timestamps to Python in the process's local zone: make it UTC, as the lake is.
os.environ["TZ"] = "UTC"
time.tzset()

from pyspark.sql import SparkSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch_reports import REPORTS_SQL  # noqa: E402  (the same queries as the batch benchmark)

INVENTORY_RECORDS = """
    SELECT * FROM (
        SELECT *, row_number() OVER (PARTITION BY sku, event_id ORDER BY kafka_partition, kafka_offset) AS copy
        FROM inventory_all)
    WHERE event_id = '' OR copy = 1"""

EMPTY_INVENTORY = """
    SELECT CAST(NULL AS STRING) AS sku, CAST(NULL AS STRING) AS type, CAST(NULL AS BIGINT) AS units,
           CAST(NULL AS DECIMAL(18, 3)) AS cost, CAST(NULL AS TIMESTAMP) AS event_time,
           CAST(NULL AS STRING) AS event_id WHERE false"""


def thousandths(d):
    """An exact Decimal with at most three decimals as integer thousandths."""
    v = d * 1000
    if v != int(v):
        raise ValueError(f"{d} is not exact money")
    return int(v)


def money(m):
    """event.Money.String(): at least two decimals, a third only when it is not zero."""
    if m is None:
        return ""
    sign, u = ("-", -m) if m < 0 else ("", m)
    whole, frac = divmod(u, 1000)
    s = f"{sign}{whole}.{frac // 100}{frac // 10 % 10}"
    return s + (str(frac % 10) if frac % 10 else "")


def ratio(f):
    return "" if f is None else f"{f:.2f}"


def round_div(m, n):
    """reports.roundDiv: m / n rounded half away from zero to a whole cent, in thousandths."""
    neg, v = m < 0, abs(m)
    q = (v + 10 * n // 2) // (10 * n)
    return -q * 10 if neg else q * 10


def previous_month(t):
    first = t.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def monthly_revenue(spark, last_month):
    rows, prev = [], None
    for r in spark.sql(REPORTS_SQL["monthly_revenue"]).collect():
        if r["month"] > last_month:
            continue
        net = thousandths(r["net"])
        change = pct = None
        if prev is not None:
            change = net - prev
            if prev != 0:
                pct = float(change) / float(abs(prev)) * 100
        rows.append([r["month"], money(thousandths(r["gross"])), money(thousandths(r["refunds"])),
                     money(thousandths(r["returns"])), money(net), r["orders"], money(change), ratio(pct)])
        prev = net
    return rows


def top_products(spark, month):
    return [[month, r["rank"], r["product_id"], r["units"], money(thousandths(r["gross"]))]
            for r in spark.sql(REPORTS_SQL["top_products"].format(month=month)).collect()]


def inventory_turnover(spark, last_day, last_month):
    rows = []
    q = REPORTS_SQL["inventory_turnover"].format(last_day=last_day, last_month=last_month)
    for r in spark.sql(q).collect():
        sold, days, units = r["units_sold"], r["closing_days"], r["closing_units_sum"]
        cogs = None if r["cogs"] is None else thousandths(r["cogs"])
        value = thousandths(r["closing_value_sum"])
        avg = avg_value = 0
        turnover = value_turnover = doi = None
        if days > 0:  # reports.TurnoverRow.derive
            avg = float(units) / float(days)
            avg_value = round_div(value, days)
            if units > 0:
                turnover = float(sold) * float(days) / float(units)
                if turnover > 0:
                    y, m = map(int, r["month"].split("-"))
                    doi = float(calendar.monthrange(y, m)[1]) / turnover
            if cogs is not None and value > 0:
                value_turnover = float(cogs) * float(days) / float(value)
        rows.append([r["month"], r["product_id"], sold, money(cogs), days, f"{avg:.2f}", money(avg_value),
                     ratio(turnover), ratio(value_turnover), ratio(doi)])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", required=True, help="lake root written by shopease (--lake-dir)")
    ap.add_argument("--out", required=True, help="folder for the three CSV files")
    ap.add_argument("--as-of", default="", help="YYYY-MM-DD (default: the newest transaction event time)")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    spark = (SparkSession.builder.master(args.master).appName("shopease-lake-reports")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "8")
             .config("spark.driver.bindAddress", "127.0.0.1")  # loopback only, as every server here
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")

    events = os.path.join(args.lake, "events")
    spark.read.parquet(os.path.join(events, "transactions")).createOrReplaceTempView("transactions")
    inventory = os.path.join(events, "inventory")
    if os.path.isdir(inventory):
        spark.read.parquet(inventory).createOrReplaceTempView("inventory_all")
        spark.sql(INVENTORY_RECORDS).createOrReplaceTempView("inventory")
    else:
        spark.sql(EMPTY_INVENTORY).createOrReplaceTempView("inventory")

    if args.as_of:
        as_of = dt.datetime.strptime(args.as_of, "%Y-%m-%d")
    else:
        as_of = spark.sql("SELECT max(event_time) AS t FROM transactions").first()["t"]
    last_day, last_month = as_of.strftime("%Y-%m-%d"), as_of.strftime("%Y-%m")

    os.makedirs(args.out, exist_ok=True)
    write(os.path.join(args.out, "monthly-revenue.csv"),
          ["month", "gross", "refunds", "returns", "net", "orders", "net_change", "net_change_pct"],
          monthly_revenue(spark, last_month))
    write(os.path.join(args.out, "top-products.csv"), ["month", "rank", "product_id", "units", "gross"],
          top_products(spark, previous_month(as_of)))
    write(os.path.join(args.out, "inventory-turnover.csv"),
          ["month", "product_id", "units_sold", "cogs", "closing_days", "avg_on_hand", "avg_inventory_value",
           "turnover", "value_turnover", "days_of_inventory"],
          inventory_turnover(spark, last_day, last_month))
    n = spark.sql("SELECT count(*) AS n FROM transactions").first()["n"]
    print(f"spark read {n} transaction lines from {args.lake}; reports as of {as_of} in {args.out}")
    spark.stop()


if __name__ == "__main__":
    main()

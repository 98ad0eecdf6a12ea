"""The ShopEase historical batch job in PySpark: generated files -> cleaned -> Parquet lake -> the
three reports. It is the baseline of issue 12's "batch vs Spark" benchmark (bench/cmd/batchbench
runs it beside `shopease` on the same files and checks that both give the same report numbers).

It applies the same rules as replay and the gateways (docs/formats.md, event/reasons.go): a row
that does not parse (wrong field count, bad JSON, a typed field that does not parse, an unknown
type) is dropped, then the gateways' rules (missing ids, time outside [2000, 2100), quantity or
price out of range, rating outside 1..5, text too long), then transaction lines are deduplicated by
line id, inventory records by event id and reviews by review id. User ids are replaced by a keyed
SHA-256 (Spark has no HMAC; the pseudonyms differ from shopease's, the counts do not). The clean
datasets are written to LAKE/events/<dataset>/date=YYYY-MM-DD/ as Parquet, read back, and the
reports are computed from them with the rules of lakesql/views (top products of the last complete
month before the as-of time, monthly revenue, inventory turnover).

Usage: python scripts/spark/batch_reports.py --in HISTORY --lake LAKE --out reports.json
"""

import argparse
import json
import os
import time

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, StringType, StructField, StructType

MONEY = DecimalType(18, 3)
MIN_TIME, MAX_TIME = "2000-01-01 00:00:00", "2100-01-01 00:00:00"
MAX_UNITS = 10_000_000
MAX_TITLE, MAX_TEXT = 200, 10_000
MONEY_RE = r"^-?[0-9]+(\.[0-9]{1,3})?$"
INT_RE = r"^[+-]?[0-9]+$"


def strings(*names):
    return StructType([StructField(n, StringType()) for n in names] + [StructField("_corrupt_record", StringType())])


def files(root, dataset):
    d = os.path.join(root, dataset)
    return sorted(os.path.join(d, f) for f in os.listdir(d) if not f.startswith("."))


def rfc3339(col):
    # Replay parses RFC 3339 times; anything else is bad_field.
    return F.to_timestamp(col, "yyyy-MM-dd'T'HH:mm:ss[.SSSSSSSSS]XXX")


def in_range(col):
    return (col >= F.lit(MIN_TIME).cast("timestamp")) & (col < F.lit(MAX_TIME).cast("timestamp"))


def pseudonym(col, key):
    return F.sha2(F.concat(F.lit(key), col), 256)


def csv(spark, paths, schema):
    # PERMISSIVE with a corrupt-record column: a row with too few or too many fields lands there.
    df = spark.read.csv(paths, schema=schema, header=True, mode="PERMISSIVE", columnNameOfCorruptRecord="_corrupt_record")
    return df.where(F.col("_corrupt_record").isNull()).drop("_corrupt_record")


def ndjson(spark, paths, schema):
    df = spark.read.json(paths, schema=schema, mode="PERMISSIVE", columnNameOfCorruptRecord="_corrupt_record")
    return df.where(F.col("_corrupt_record").isNull()).drop("_corrupt_record")


def clean_transactions(spark, root, key):
    cols = ["line_id", "order_id", "type", "user_id", "product_id", "description", "quantity", "unit_price", "currency", "country", "time"]
    df = csv(spark, files(root, "transactions"), strings(*cols))
    df = df.where(F.col("quantity").rlike(INT_RE) & F.col("unit_price").rlike(MONEY_RE) & rfc3339(F.col("time")).isNotNull())
    df = (df.withColumn("event_time", rfc3339(F.col("time")))
            .withColumn("quantity", F.col("quantity").cast("long"))
            .withColumn("unit_price", F.col("unit_price").cast(MONEY)))
    df = df.where(F.col("type").isin("purchase", "refund", "return"))
    df = df.where(
        (F.coalesce(F.col("order_id"), F.lit("")) != "") & (F.coalesce(F.col("user_id"), F.lit("")) != "")
        & (F.coalesce(F.col("product_id"), F.lit("")) != "") & in_range(F.col("event_time"))
        & (F.col("quantity") > 0) & (F.col("unit_price") > 0))
    df = df.dropDuplicates(["line_id"])
    sign = F.when(F.col("type") == "purchase", F.lit(1)).otherwise(F.lit(-1))
    return df.select(
        "line_id", "order_id", "type", pseudonym(F.col("user_id"), key).alias("user_id"), "product_id",
        "description", "quantity", "unit_price", (F.col("unit_price") * F.col("quantity") * sign).cast(MONEY).alias("amount"),
        "currency", "country", "event_time", F.to_date("event_time").alias("date"))


def standard_money(col):
    return F.regexp_replace(col, r"[\s$£€,]", "")


def clean_inventory(spark, root):
    cols = ["event_id", "type", "sku", "name", "category", "price", "cost", "quantity", "time"]
    df = csv(spark, files(root, "inventory"), strings(*cols))
    df = df.where(rfc3339(F.col("time")).isNotNull()).withColumn("event_time", rfc3339(F.col("time")))
    df = (df.withColumn("sku", F.upper(F.trim(F.coalesce(F.col("sku"), F.lit("")))))
            .withColumn("type", F.regexp_replace(F.lower(F.trim(F.col("type"))), "[ -]", "_")))
    # StandardUnits: trim, drop a final ".", a trailing unit word and thousands separators.
    units = F.regexp_replace(F.trim(F.regexp_replace(F.regexp_replace(F.trim(F.coalesce(F.col("quantity"), F.lit(""))), r"\.$", ""), "[A-Za-z]+$", "")), ",", "")
    price, cost = standard_money(F.coalesce(F.col("price"), F.lit(""))), standard_money(F.coalesce(F.col("cost"), F.lit("")))
    df = df.withColumn("units_text", units).withColumn("price_text", price).withColumn("cost_text", cost)
    stock = F.col("type") != "product_info"
    ok_units = ~stock | (F.col("units_text").rlike(INT_RE) & (F.col("units_text").cast("long") >= 0) & (F.col("units_text").cast("long") <= MAX_UNITS))
    ok_money = lambda c: (F.col(c) == "") | (F.col(c).rlike(MONEY_RE) & (F.col(c).cast(MONEY) >= 0))
    df = df.where((F.col("sku") != "") & F.col("type").isin("stock_report", "restock", "product_info")
                  & in_range(F.col("event_time")) & ok_units & ok_money("price_text") & ok_money("cost_text"))
    df = df.dropDuplicates(["event_id"])
    return df.select(
        "event_id", "type", "sku", F.trim(F.regexp_replace(F.col("name"), r"\s+", " ")).alias("name"), "category",
        F.when(F.col("price_text") != "", F.col("price_text").cast(MONEY)).alias("price"),
        F.when(F.col("cost_text") != "", F.col("cost_text").cast(MONEY)).alias("cost"),
        F.when(stock, F.col("units_text").cast("long")).alias("units"), "event_time", F.to_date("event_time").alias("date"))


def clean_activity(spark, root, key):
    cols = ["event_id", "user_id", "session_id", "type", "product_id", "page", "referrer", "query", "time"]
    df = ndjson(spark, files(root, "activity"), strings(*cols))
    df = df.where(rfc3339(F.col("time")).isNotNull()).withColumn("event_time", rfc3339(F.col("time")))
    names_product = F.col("type").isin("product_view", "add_to_cart", "remove_from_cart")
    df = df.where((F.coalesce(F.col("user_id"), F.lit("")) != "")
                  & ~(names_product & (F.coalesce(F.col("product_id"), F.lit("")) == ""))
                  & F.col("type").isin("page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "checkout_start")
                  & in_range(F.col("event_time")))
    return df.select("event_id", pseudonym(F.col("user_id"), key).alias("user_id"), "session_id", "type", "product_id",
                     "page", "referrer", "query", "event_time", F.to_date("event_time").alias("date"))


def clean_feedback(spark, root, key):
    schema = StructType([StructField(n, StringType()) for n in ["review_id", "user_id", "product_id", "title", "text", "time"]]
                        + [StructField("rating", StringType()), StructField("_corrupt_record", StringType())])
    df = ndjson(spark, files(root, "feedback"), schema)
    df = df.where(rfc3339(F.col("time")).isNotNull() & F.col("rating").rlike(INT_RE)).withColumn("event_time", rfc3339(F.col("time")))
    df = df.withColumn("rating", F.col("rating").cast("int"))
    df = df.where((F.coalesce(F.col("user_id"), F.lit("")) != "") & (F.coalesce(F.col("product_id"), F.lit("")) != "")
                  & F.col("rating").between(1, 5) & in_range(F.col("event_time"))
                  & (F.char_length(F.coalesce(F.col("title"), F.lit(""))) <= MAX_TITLE)
                  & (F.char_length(F.coalesce(F.col("text"), F.lit(""))) <= MAX_TEXT))
    df = df.dropDuplicates(["review_id"])
    return df.select("review_id", pseudonym(F.col("user_id"), key).alias("user_id"), "product_id", "rating", "title", "text",
                     "event_time", F.to_date("event_time").alias("date"))


REPORTS_SQL = {
    # lakesql/views/32_monthly_revenue.sql
    "monthly_revenue": """
        SELECT date_format(event_time, 'yyyy-MM') AS month,
               CAST(coalesce(sum(amount) FILTER (WHERE type = 'purchase'), 0) AS DECIMAL(18, 3)) AS gross,
               CAST(coalesce(sum(amount) FILTER (WHERE type = 'refund'), 0) AS DECIMAL(18, 3)) AS refunds,
               CAST(coalesce(sum(amount) FILTER (WHERE type = 'return'), 0) AS DECIMAL(18, 3)) AS returns,
               CAST(sum(amount) AS DECIMAL(18, 3)) AS net,
               count(DISTINCT order_id) FILTER (WHERE type = 'purchase') AS orders,
               count(*) FILTER (WHERE type = 'purchase') AS purchase_lines,
               count(*) FILTER (WHERE type = 'refund') AS refund_lines,
               count(*) FILTER (WHERE type = 'return') AS return_lines,
               CAST(coalesce(sum(quantity) FILTER (WHERE type = 'purchase'), 0) AS BIGINT) AS units_sold
        FROM transactions GROUP BY 1 ORDER BY 1""",
    # lakesql/views/33_top_products.sql and 34_top_products_last_month.sql
    "top_products": """
        SELECT rank, product_id, units, gross FROM (
            SELECT row_number() OVER (ORDER BY units DESC, product_id) AS rank, product_id, units, gross
            FROM (SELECT product_id, CAST(sum(quantity) AS BIGINT) AS units, CAST(sum(amount) AS DECIMAL(18, 3)) AS gross
                  FROM transactions
                  WHERE type = 'purchase' AND date_format(event_time, 'yyyy-MM') = '{month}'
                  GROUP BY product_id)
            WHERE units > 0)
        WHERE rank <= 10 ORDER BY rank""",
    # lakesql/views/35_inventory_turnover_at.sql: closing level of a day = units of its last
    # stock_report by (event time, event id), carried forward; value at the cost in force that day
    # (the last product_info cost at or before it, else the current cost).
    "inventory_turnover": """
        WITH rec AS (
            SELECT sku, type, units, cost, event_time, event_id, CAST(event_time AS DATE) AS day
            FROM inventory WHERE CAST(event_time AS DATE) <= DATE '{last_day}'
        ), current_cost AS (
            SELECT sku, max_by(cost, struct(event_time, event_id)) AS unit_cost
            FROM inventory WHERE type = 'product_info' AND cost IS NOT NULL GROUP BY sku
        ), level_days AS (
            SELECT sku, day, max_by(units, struct(event_time, event_id)) AS level
            FROM rec WHERE type = 'stock_report' GROUP BY sku, day
        ), cost_days AS (
            SELECT sku, day, max_by(cost, struct(event_time, event_id)) AS cost
            FROM rec WHERE type = 'product_info' AND cost IS NOT NULL GROUP BY sku, day
        ), series AS (
            SELECT sku, explode(sequence(first_day, DATE '{last_day}', INTERVAL 1 DAY)) AS day
            FROM (SELECT sku, min(day) AS first_day FROM rec GROUP BY sku)
        ), daily AS (
            SELECT s.sku, s.day,
                   last(l.level, true) OVER w AS level,
                   last(c.cost, true) OVER w AS cost
            FROM series s
            LEFT JOIN level_days l ON l.sku = s.sku AND l.day = s.day
            LEFT JOIN cost_days c ON c.sku = s.sku AND c.day = s.day
            WINDOW w AS (PARTITION BY s.sku ORDER BY s.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        ), closing AS (
            SELECT d.sku, date_format(d.day, 'yyyy-MM') AS month, count(*) AS days,
                   CAST(sum(d.level) AS BIGINT) AS units_sum,
                   CAST(coalesce(sum(d.level * coalesce(d.cost, cc.unit_cost)), 0) AS DECIMAL(18, 3)) AS value_sum
            FROM daily d LEFT JOIN current_cost cc ON cc.sku = d.sku
            WHERE d.level IS NOT NULL
            GROUP BY d.sku, date_format(d.day, 'yyyy-MM')
        ), months AS (
            SELECT DISTINCT date_format(event_time, 'yyyy-MM') AS month FROM transactions
            WHERE date_format(event_time, 'yyyy-MM') <= '{last_month}'
        ), products AS (
            SELECT product_id FROM transactions UNION SELECT sku FROM inventory
        ), sold AS (
            SELECT product_id, date_format(event_time, 'yyyy-MM') AS month, CAST(sum(quantity) AS BIGINT) AS units_sold
            FROM transactions WHERE type = 'purchase' GROUP BY 1, 2
        )
        SELECT p.product_id, m.month,
               coalesce(s.units_sold, 0) AS units_sold,
               cc.unit_cost,
               CAST(cc.unit_cost * coalesce(s.units_sold, 0) AS DECIMAL(18, 3)) AS cogs,
               coalesce(c.days, 0) AS closing_days,
               coalesce(c.units_sum, 0) AS closing_units_sum,
               CAST(coalesce(c.value_sum, 0) AS DECIMAL(18, 3)) AS closing_value_sum
        FROM months m CROSS JOIN products p
        LEFT JOIN sold s ON s.product_id = p.product_id AND s.month = m.month
        LEFT JOIN current_cost cc ON cc.sku = p.product_id
        LEFT JOIN closing c ON c.sku = p.product_id AND c.month = m.month
        ORDER BY m.month, p.product_id""",
}


def plain(row):
    out = {}
    for k, v in row.asDict().items():
        out[k] = format(v, "f") if hasattr(v, "as_tuple") else v  # Decimal -> exact text
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--in", dest="src", required=True, help="generated history (shopease generate --out)")
    ap.add_argument("--lake", required=True, help="output Parquet lake")
    ap.add_argument("--out", required=True, help="reports JSON")
    ap.add_argument("--key", default="demo-key", help="pseudonymization secret")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()

    t0 = time.time()
    spark = (SparkSession.builder.master(args.master).appName("shopease-batch")
             .config("spark.driver.bindAddress", "127.0.0.1")  # loopback only, as every server here
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.shuffle.partitions", "8")  # 200 by default: far too many for 2 cores
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.ansi.enabled", "false")  # Spark 4 defaults to ANSI: a bad cast would fail the job, not give NULL (the rows are filtered)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")

    cleaners = {
        "transactions": lambda: clean_transactions(spark, args.src, args.key),
        "inventory": lambda: clean_inventory(spark, args.src),
        "activity": lambda: clean_activity(spark, args.src, args.key),
        "feedback": lambda: clean_feedback(spark, args.src, args.key),
    }
    for name, clean in cleaners.items():
        clean().write.mode("overwrite").partitionBy("date").parquet(os.path.join(args.lake, "events", name))
    t_lake = time.time()

    for name in ["transactions", "inventory"]:
        spark.read.parquet(os.path.join(args.lake, "events", name)).createOrReplaceTempView(name)
    as_of = spark.sql("SELECT max(event_time) AS t FROM transactions").first()["t"]
    last_day, last_month = as_of.strftime("%Y-%m-%d"), as_of.strftime("%Y-%m")
    prev = spark.sql(f"SELECT date_format(add_months(trunc(TIMESTAMP '{as_of:%Y-%m-%d %H:%M:%S}', 'MM'), -1), 'yyyy-MM') AS m").first()["m"]
    reports = {
        "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "monthly_revenue": [plain(r) for r in spark.sql(REPORTS_SQL["monthly_revenue"]).collect()],
        "top_products": {"month": prev, "products": [plain(r) for r in spark.sql(REPORTS_SQL["top_products"].format(month=prev)).collect()]},
        "inventory_turnover": [plain(r) for r in spark.sql(REPORTS_SQL["inventory_turnover"].format(last_day=last_day, last_month=last_month)).collect()],
        "rows": {name: spark.read.parquet(os.path.join(args.lake, "events", name)).count() for name in cleaners},
        "seconds": {"lake": round(t_lake - t0, 2), "total": round(time.time() - t0, 2)},
    }
    with open(args.out, "w") as f:
        json.dump(reports, f, indent=1)
    spark.stop()


if __name__ == "__main__":
    main()

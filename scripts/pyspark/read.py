"""Reads directories with Spark, as `spark.read.format(FORMAT).load(DIR)` (CSV with
`header=true`), and prints each one's rows as JSON (Spark's `toJSON`), sorted:

    python read.py FORMAT=DIR [FORMAT=DIR ...]

prints, for each argument, a line `== FORMAT=DIR` and then one row per line. A directory a
streaming file sink wrote has `_spark_metadata`: Spark then reads the files its log lists, and
only those. The session time zone is UTC, so timestamps print as `2026-01-01T00:00:00.000Z`.
"""
import sys

from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master("local[1]")
    .appName("stream-file-sink-check")
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
for arg in sys.argv[1:]:
    fmt, path = arg.split("=", 1)
    reader = spark.read.format(fmt)
    if fmt == "csv":
        reader = reader.option("header", "true")
    rows = sorted(reader.load(path).toJSON().collect())
    print("== " + arg, flush=True)
    for row in rows:
        print(row, flush=True)
spark.stop()

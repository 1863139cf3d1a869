"""Spark's side of `kafka_etl bench`: the same stages over the same topic, in Spark Structured
Streaming with its Kafka connector, one JSON line per stage (as `kafka_etl bench` prints).

    pip install pyspark==4.2.0
    mvn -q -B -f examples/kafka_etl/spark-pom.xml dependency:copy-dependencies \
        -DoutputDirectory=.kafka/spark-jars
    python3 examples/kafka_etl/spark_bench.py --bootstrap 127.0.0.1:19092 --topic bids [-w 2]

Stages: `read` (the Kafka source into the noop sink), `q1` (from_json, then Nexmark q1's
projection), `window` (from_json, 10-second windows per auction, count and max price, append).
Each runs with `Trigger.AvailableNow` and `maxOffsetsPerTrigger` as ours; the figures exclude
Spark's start-up. CPU seconds are the JVM's (/proc/<pid>/stat), the broker being another
process.
"""

import argparse
import glob
import json
import os
import shutil
import tempfile
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

BID = StructType(
    [
        StructField("auction", LongType()),
        StructField("bidder", LongType()),
        StructField("price", LongType()),
        StructField("channel", StringType()),
        StructField("date_time", TimestampType()),
    ]
)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("-w", "--workers", type=int, default=1)
    ap.add_argument("--stage", action="append", default=[])
    ap.add_argument("--max-offsets-per-trigger", type=int, default=500_000)
    ap.add_argument("--jars", default=os.path.join(os.path.dirname(__file__), "../../.kafka/spark-jars"))
    args = ap.parse_args()
    import pyspark

    bundled = {os.path.basename(j).rsplit("-", 1)[0] for j in glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "*.jar"))}
    jars = [j for j in sorted(glob.glob(os.path.join(args.jars, "*.jar"))) if os.path.basename(j).rsplit("-", 1)[0] not in bundled]
    spark = (
        SparkSession.builder.master(f"local[{args.workers}]")
        .config("spark.jars", ",".join(jars))
        .config("spark.sql.shuffle.partitions", str(args.workers))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for stage in args.stage or ["read", "q1", "window"]:
        source = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", args.bootstrap)
            .option("subscribe", args.topic)
            .option("startingOffsets", "earliest")
            .option("maxOffsetsPerTrigger", args.max_offsets_per_trigger)
            .load()
        )
        if stage == "read":
            df, mode = source, "append"
        else:
            bids = source.select(F.from_json(F.col("value").cast("string"), BID).alias("b")).select("b.*")
            if stage == "q1":
                df = bids.select("auction", "bidder", (F.col("price") * 908 / 1000).cast("long").alias("price"), "date_time")
            else:
                df = (
                    bids.withWatermark("date_time", "1 second")
                    .groupBy(F.window("date_time", "10 seconds"), "auction")
                    .agg(F.count("*").alias("bids"), F.max("price").alias("max_price"))
                )
            mode = "append"
        checkpoint = tempfile.mkdtemp(prefix="spark-kafka-bench-")
        cpu0, t0 = cpu_seconds(pid), time.time()
        query = (
            df.writeStream.format("noop")
            .outputMode(mode)
            .option("checkpointLocation", checkpoint)
            .trigger(availableNow=True)
            .start()
        )
        query.awaitTermination()
        elapsed, cpu = time.time() - t0, cpu_seconds(pid) - cpu0
        events = sum(p["numInputRows"] for p in query.recentProgress)
        shutil.rmtree(checkpoint, ignore_errors=True)
        print(json.dumps({
            "engine": "spark", "stage": stage, "workers": args.workers, "events": events,
            "elapsed_s": round(elapsed, 3), "cpu_s": round(cpu, 2),
            "events_per_s": round(events / elapsed), "events_per_s_per_core": round(events / max(cpu, 0.01)),
        }), flush=True)
    spark.stop()


if __name__ == "__main__":
    main()

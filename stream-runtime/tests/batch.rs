//! Batch queries through the builder: `read` over bounded sources, `collect`, `show`, `write`,
//! on 1 and 2 workers, against naive computations and hand-worked results; and what a batch
//! query refuses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use stream_runtime::prelude::*;
use stream_runtime::sink::{BatchInfo, BatchWriter, PartitionedSink, Sink};
use stream_runtime::source::nexmark::{Bid, Nexmark, NexmarkConfig};
use stream_runtime::{JoinType, Result};

#[derive(Record)]
struct Sale {
    shop: String,
    item: i64,
    price: i64,
    #[event_time]
    ts: Timestamp,
}

fn sale(shop: &str, item: i64, price: i64, secs: i64) -> Sale {
    Sale {
        shop: shop.into(),
        item,
        price,
        ts: Timestamp(secs * 1000),
    }
}

/// Out of event-time order on purpose: a stream with a watermark would drop the last rows.
fn sales() -> Vec<Sale> {
    vec![
        sale("a", 1, 10, 100),
        sale("b", 2, 20, 105),
        sale("a", 2, 30, 112),
        sale("a", 1, 5, 230),
        sale("b", 3, 7, 231),
        // Long after the previous rows' windows, then two rows far behind them.
        sale("b", 2, 1, 900),
        sale("a", 1, 100, 101),
        sale("b", 3, 50, 104),
    ]
}

#[derive(Record)]
struct ShopTotal {
    shop: String,
    n: i64,
    total: i64,
}

#[derive(Record)]
struct WindowTotal {
    start: i64,
    shop: String,
    n: i64,
    total: i64,
}

fn sessions() -> [Session; 2] {
    [Session::local(), Session::with_workers(2)]
}

#[test]
fn projections_and_filters_collect_every_row_in_order() {
    for session in sessions() {
        let rows = session
            .collect(
                read(sales())
                    .filter(|s: &Sale| s.price >= 10)
                    .map(|s| ShopTotal {
                        shop: s.shop,
                        n: s.item,
                        total: s.price * 2,
                    }),
            )
            .unwrap();
        let mut want: Vec<ShopTotal> = sales()
            .into_iter()
            .filter(|s| s.price >= 10)
            .map(|s| ShopTotal {
                shop: s.shop,
                n: s.item,
                total: s.price * 2,
            })
            .collect();
        want.sort();
        assert_eq!(rows, want);
    }
}

#[test]
fn an_aggregation_gives_its_final_table_and_a_watermark_drops_nothing() {
    for session in sessions() {
        let rows = session
            .collect(
                read(sales())
                    .with_watermark(|s: &Sale| s.ts, "10 seconds")
                    .group_by_key(|s: &Sale| s.shop.clone())
                    .agg(
                        |a| (a.count(), a.sum(|s: &Sale| s.price)),
                        |shop, (n, total)| ShopTotal { shop, n, total },
                    ),
            )
            .unwrap();
        let as_tuples: Vec<_> = rows
            .iter()
            .map(|r| (r.shop.as_str(), r.n, r.total))
            .collect();
        // a: 10 + 30 + 5 + 100; b: 20 + 7 + 1 + 50.
        assert_eq!(as_tuples, vec![("a", 4, 145), ("b", 4, 78)]);
    }
}

#[test]
fn windows_and_session_windows_close_at_the_end_of_the_input() {
    for session in sessions() {
        let windows = session
            .collect(
                read(sales())
                    .with_watermark_on("ts", |s: &Sale| s.ts, "1 second")
                    .group_by_window_on(
                        WindowSpec::tumbling("1 minute").unwrap(),
                        "ts",
                        |s: &Sale| s.ts,
                        |s: &Sale| s.shop.clone(),
                    )
                    .agg(
                        |a| (a.count(), a.sum(|s: &Sale| s.price)),
                        |w, shop, (n, total)| WindowTotal {
                            start: w.start.millis() / 1000,
                            shop,
                            n,
                            total,
                        },
                    ),
            )
            .unwrap();
        let got: Vec<_> = windows
            .iter()
            .map(|r| (r.start, r.shop.as_str(), r.n, r.total))
            .collect();
        // Minutes [60, 120): a 10+30+100, b 20+50; [180, 240): a 5, b 7; [900, 960): b 1.
        assert_eq!(
            got,
            vec![
                (60, "a", 3, 140),
                (60, "b", 2, 70),
                (180, "a", 1, 5),
                (180, "b", 1, 7),
                (900, "b", 1, 1),
            ]
        );
        let sessions = session
            .collect(
                read(sales())
                    .group_by_session(
                        SessionGap::fixed("10 seconds").unwrap(),
                        |s: &Sale| s.ts,
                        |s: &Sale| s.shop.clone(),
                    )
                    .agg(
                        |a| (a.count(), a.sum(|s: &Sale| s.price)),
                        |w, shop, (n, total)| WindowTotal {
                            start: w.start.millis() / 1000,
                            shop,
                            n,
                            total,
                        },
                    ),
            )
            .unwrap();
        let got: Vec<_> = sessions
            .iter()
            .map(|r| (r.start, r.shop.as_str(), r.n, r.total))
            .collect();
        // a: 100, 101 (then 112 is 11 s after 101: a new session); b: 104, 105.
        assert_eq!(
            got,
            vec![
                (100, "a", 2, 110),
                (104, "b", 2, 70),
                (112, "a", 1, 30),
                (230, "a", 1, 5),
                (231, "b", 1, 7),
                (900, "b", 1, 1)
            ]
        );
    }
}

#[test]
fn order_by_and_limit_cut_the_result() {
    for session in sessions() {
        let rows = session
            .collect(
                read(sales())
                    .order_by(|s: &Sale| std::cmp::Reverse(s.price))
                    .limit(3),
            )
            .unwrap();
        let prices: Vec<i64> = rows.iter().map(|s| s.price).collect();
        assert_eq!(prices, vec![100, 50, 30]);
        // A limit without order: some 2 rows of the input.
        let some = session.collect(read(sales()).limit(2)).unwrap();
        assert_eq!(some.len(), 2);
        assert!(some.iter().all(|s| sales().contains(s)));
    }
}

#[derive(Record)]
struct Shop {
    name: String,
    city: String,
}

#[derive(Record)]
struct SaleIn {
    shop: String,
    price: i64,
    city: Option<String>,
}

fn shops() -> Vec<Shop> {
    vec![
        Shop {
            name: "a".into(),
            city: "Paris".into(),
        },
        Shop {
            name: "c".into(),
            city: "Lyon".into(),
        },
    ]
}

#[test]
fn two_bounded_inputs_join_in_every_supported_kind() {
    for session in sessions() {
        let join = |how: JoinType| {
            let cities = read(shops()).filter(|s: &Shop| !s.city.is_empty());
            session
                .collect(read(sales()).join_static(
                    cities,
                    |s: &Sale| s.shop.clone(),
                    |s: &Shop| s.name.clone(),
                    how,
                    |s, shop| SaleIn {
                        shop: s.shop.clone(),
                        price: s.price,
                        city: shop.map(|c| c.city.clone()),
                    },
                ))
                .unwrap()
        };
        let inner = join(JoinType::Inner);
        assert_eq!(inner.len(), 4);
        assert!(inner
            .iter()
            .all(|r| r.shop == "a" && r.city.as_deref() == Some("Paris")));
        let outer = join(JoinType::LeftOuter);
        assert_eq!(outer.len(), 8);
        assert_eq!(outer.iter().filter(|r| r.city.is_none()).count(), 4);
        assert_eq!(join(JoinType::LeftSemi).len(), 4);
        let anti = join(JoinType::LeftAnti);
        assert_eq!(anti.len(), 4);
        assert!(anti.iter().all(|r| r.shop == "b" && r.city.is_none()));
        // The bounded table on the left, right outer: every sale.
        let right = session
            .collect(StaticTable::from_dataset(read(shops())).join_stream(
                read(sales()),
                |s: &Shop| s.name.clone(),
                |s: &Sale| s.shop.clone(),
                JoinType::RightOuter,
                |shop, s| SaleIn {
                    shop: s.shop.clone(),
                    price: s.price,
                    city: shop.map(|c| c.city.clone()),
                },
            ))
            .unwrap();
        assert_eq!(right.len(), 8);
    }
}

#[test]
fn a_stream_joins_a_bounded_dataset_read_once_per_run() {
    // The static side is an aggregation over a bounded input: the totals per shop.
    let totals = read(sales()).group_by_key(|s: &Sale| s.shop.clone()).agg(
        |a| (a.count(), a.sum(|s: &Sale| s.price)),
        |shop, (n, total)| ShopTotal { shop, n, total },
    );
    for session in sessions() {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Shop>(input.clone())
            .join_static(
                totals.clone(),
                |s: &Shop| s.name.clone(),
                |t: &ShopTotal| t.shop.clone(),
                JoinType::LeftOuter,
                |s, t| ShopTotal {
                    shop: s.name.clone(),
                    n: t.map_or(-1, |t| t.n),
                    total: t.map_or(-1, |t| t.total),
                },
            )
            .write_stream(sink.clone());
        let q = session.start(query).unwrap();
        for name in ["a", "b", "z", "a"] {
            input.add_data([Shop {
                name: name.into(),
                city: String::new(),
            }]);
            q.process_all_available().unwrap();
        }
        q.stop().unwrap();
        let got: Vec<_> = sink
            .rows()
            .iter()
            .map(|t| (t.shop.clone(), t.n, t.total))
            .collect();
        let want = [("a", 4, 145), ("b", 4, 78), ("z", -1, -1), ("a", 4, 145)]
            .map(|(s, n, t)| (s.to_string(), n, t));
        assert_eq!(got, want);
    }
}

/// A part written: batch id, worker, values.
type Part = (u64, usize, Vec<i64>);

/// A partitioned sink that records every worker's part and the commits.
#[derive(Clone, Default)]
struct Parts {
    written: Arc<Mutex<Vec<Part>>>,
    commits: Arc<Mutex<Vec<(u64, usize)>>>,
}

struct PartWriter {
    parts: Parts,
    batch: u64,
    worker: usize,
    rows: Vec<i64>,
}

impl BatchWriter<RateRow> for PartWriter {
    fn write(&mut self, rows: &mut dyn Iterator<Item = &RateRow>) -> Result<()> {
        self.rows.extend(rows.map(|r| r.value));
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<serde_json::Value> {
        let n = self.rows.len();
        self.parts
            .written
            .lock()
            .unwrap()
            .push((self.batch, self.worker, self.rows));
        Ok(n.into())
    }
}

impl PartitionedSink<RateRow> for Parts {
    fn open(&self, batch_id: u64, worker: usize) -> Result<Box<dyn BatchWriter<RateRow>>> {
        Ok(Box::new(PartWriter {
            parts: self.clone(),
            batch: batch_id,
            worker,
            rows: Vec::new(),
        }))
    }
    fn commit(&self, batch_id: u64, messages: Vec<serde_json::Value>) -> Result<()> {
        self.commits
            .lock()
            .unwrap()
            .push((batch_id, messages.len()));
        Ok(())
    }
    fn last_committed(&self) -> Result<Option<u64>> {
        Ok(self.commits.lock().unwrap().last().map(|c| c.0))
    }
}

impl Sink<RateRow> for Parts {
    fn description(&self) -> String {
        "Parts".into()
    }
    fn check_mode(&self, mode: OutputMode) -> Result<()> {
        match mode {
            OutputMode::Append => Ok(()),
            other => Err(StreamError::Config(format!(
                "Parts only appends, not {other:?}"
            ))),
        }
    }
    fn add_batch(&mut self, _: BatchInfo, _: Vec<RateRow>) -> Result<()> {
        panic!("a partitioned sink's add_batch is not called")
    }
    fn partitioned(&self) -> Option<Arc<dyn PartitionedSink<RateRow>>> {
        Some(Arc::new(self.clone()))
    }
}

#[test]
fn write_hands_the_whole_result_to_a_partitioned_sink_once() {
    let rate = || RateMicroBatch::new(7).total_rows(30);
    for workers in [1, 2] {
        let parts = Parts::default();
        Session::with_workers(workers)
            .write(
                read(rate()).filter(|r: &RateRow| r.value % 2 == 0),
                parts.clone(),
            )
            .unwrap();
        let written = parts.written.lock().unwrap().clone();
        assert_eq!(written.len(), workers, "one part per worker");
        let mut all: Vec<i64> = written.iter().flat_map(|(_, _, r)| r.clone()).collect();
        all.sort();
        assert_eq!(all, (0..30).filter(|v| v % 2 == 0).collect::<Vec<_>>());
        assert_eq!(*parts.commits.lock().unwrap(), vec![(0, workers)]);
        // Sorted and cut: gathered on the driver, one part, in order.
        let parts = Parts::default();
        Session::with_workers(workers)
            .write(
                read(rate())
                    .order_by(|r: &RateRow| std::cmp::Reverse(r.value))
                    .limit(4),
                parts.clone(),
            )
            .unwrap();
        let written = parts.written.lock().unwrap().clone();
        assert_eq!(written, vec![(0, 0, vec![29, 28, 27, 26])]);
        assert_eq!(*parts.commits.lock().unwrap(), vec![(0, 1)]);
    }
}

#[test]
fn write_to_a_sink_of_batches_gives_one_append_batch() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    let sink = ForeachBatch::new(move |id, rows: Vec<ShopTotal>| {
        into.lock().unwrap().push((id, rows.len()));
    });
    read(sales())
        .group_by_key(|s: &Sale| s.shop.clone())
        .agg(
            |a| (a.count(),),
            |shop, (n,)| ShopTotal { shop, n, total: 0 },
        )
        .write(sink)
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(0, 2)]);
}

#[derive(Record)]
struct Word {
    value: String,
}

#[test]
fn files_and_generators_are_read_whole() {
    let dir = std::env::temp_dir().join(format!("batch-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("1.json"), "{\"value\":\"x\"}\n{\"value\":\"y\"}\n").unwrap();
    std::fs::write(dir.join("2.json"), "{\"value\":\"x\"}\n").unwrap();
    for session in sessions() {
        let words = session
            .collect(
                read::<Word>(Files::json(&dir))
                    .group_by_key(|w: &Word| w.value.clone())
                    .count(),
            )
            .unwrap();
        let got: Vec<_> = words.iter().map(|k| (k.key.clone(), k.count)).collect();
        assert_eq!(got, vec![("x".to_string(), 2), ("y".to_string(), 1)]);
        let lines = session.collect(read::<Line>(Files::text(&dir))).unwrap();
        assert_eq!(lines.len(), 3);
        let rate = session
            .collect(read(RateMicroBatch::new(4).total_rows(10)))
            .unwrap();
        let values: Vec<i64> = rate.iter().map(|r| r.value).collect();
        assert_eq!(values, (0..10).collect::<Vec<_>>());
        // Timestamps advance per batch of 4 rows, as the stream's would.
        assert_eq!(rate[9].timestamp, Timestamp(2000));
        let config = NexmarkConfig::with_events(1000);
        let bids = session
            .collect(read(Nexmark::bids(config.clone())))
            .unwrap();
        let want = (0..1000)
            .filter_map(|g| Nexmark::bids(config.clone()).generators().row::<Bid>(g))
            .count();
        assert_eq!(bids.len(), want);
        assert!(want > 900, "{want}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_empty_input_gives_an_empty_result() {
    let rows = read(Vec::<Sale>::new())
        .group_by_key(|s: &Sale| s.shop.clone())
        .count()
        .collect()
        .unwrap();
    assert!(rows.is_empty());
}

#[test]
fn streaming_only_and_batch_only_calls_are_refused_with_a_hint() {
    let err = read_stream::<Sale>(MemoryStream::new())
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("write_stream(..).start()"), "{err}");
    let err = read(sales())
        .write_stream(MemorySink::new())
        .start()
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("collect(), show(n) or write(sink)"), "{err}");
    let err = read(sales())
        .union(read_stream(MemoryStream::new()))
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("Union between streaming and batch"), "{err}");
    let err = read(Rate::new(10)).collect().unwrap_err().to_string();
    assert!(err.contains("total_rows"), "{err}");
    let err = read(RateMicroBatch::new(10))
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("total_rows(n)"), "{err}");
    let err = read(Nexmark::bids(NexmarkConfig::default()))
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("with_events"), "{err}");
    let err = read(sales())
        .order_by(|s: &Sale| s.price)
        .filter(|s: &Sale| s.price > 0)
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("call order_by"), "{err}");
    // A stream joined with a stream is not a batch join.
    let err = read_stream::<Sale>(MemoryStream::new())
        .join_static(
            read_stream::<Shop>(MemoryStream::new()),
            |s: &Sale| s.shop.clone(),
            |s: &Shop| s.name.clone(),
            JoinType::Inner,
            |s, _| s.clone(),
        )
        .write_stream(Noop)
        .start()
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("stream-stream joins"), "{err}");
    // A streaming limit needs complete mode.
    let err = read_stream::<Sale>(MemoryStream::new())
        .limit(3)
        .write_stream(Noop)
        .start()
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("Complete output mode"), "{err}");
}

#[test]
fn a_streaming_limit_cuts_each_complete_table() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Sale>(input.clone())
        .group_by_key(|s: &Sale| s.shop.clone())
        .agg(
            |a| (a.count(),),
            |shop, (n,)| ShopTotal { shop, n, total: 0 },
        )
        .order_by(|t: &ShopTotal| std::cmp::Reverse(t.n))
        .limit(1)
        .write_stream(sink.clone())
        .output_mode(Complete);
    let q = query.start().unwrap();
    input.add_data(sales());
    q.process_all_available().unwrap();
    input.add_data([sale("b", 1, 1, 1), sale("b", 1, 1, 1)]);
    q.process_all_available().unwrap();
    q.stop().unwrap();
    let last: BTreeMap<String, i64> = sink.rows().into_iter().map(|t| (t.shop, t.n)).collect();
    assert_eq!(last, BTreeMap::from([("b".to_string(), 6)]));
}

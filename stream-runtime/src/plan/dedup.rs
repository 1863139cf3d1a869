//! Deduplication: Spark's `dropDuplicates(cols)`, `dropDuplicates()` and
//! `dropDuplicatesWithinWatermark(cols)` on a stream (docs/spark-semantics.md,
//! "Deduplication").
//!
//! Every key seen is kept in state (behind the one state mechanism: checkpointed, restored and
//! rescaled by key group). A watermark bounds it only when the key holds the watermarked
//! column (`drop_duplicates_on(.., true, ..)`: a key goes once the watermark reaches its
//! event time) or with `drop_duplicates_within_watermark_on` (a key goes once the watermark
//! reaches its first row's event time plus the delay). Otherwise state grows with the number
//! of distinct keys, as in Spark.

use super::aggregate::Key;
use super::describe::short_type_name;
use super::Dataset;
use crate::checkpoint::OperatorDescription;
use crate::dataflow::{self, DedupKey, DedupState};
use crate::error::StreamError;
use crate::metrics::StateOperator;
use std::sync::Arc;
use stream_core::{Record, Timestamp};

type TimeFn<T> = Arc<dyn Fn(&T) -> Timestamp + Send + Sync>;

/// How a deduplication treats event time.
enum Expiry<T> {
    /// No event time: no row is late, no key expires.
    Never,
    /// The rows carry a watermarked event-time column: rows at or below the watermark are late;
    /// with `evict` (the key holds that column) a key expires at its event time.
    EventTime { time: TimeFn<T>, evict: bool },
    /// `dropDuplicatesWithinWatermark`: rows at or below the watermark are late; a key expires
    /// at its first row's event time plus the delay.
    Within { time: TimeFn<T>, delay_ms: i64 },
}

impl<T: Record> Dataset<T> {
    /// Keeps the first row of each key and drops every later row with that key (Spark's
    /// `dropDuplicates(cols)`; `key` gives the columns). No event time is known here, so no row
    /// is late and every key stays in state for ever: state grows with the number of distinct
    /// keys. On rows with a watermark use [`drop_duplicates_on`](Dataset::drop_duplicates_on).
    ///
    /// ```
    /// # use stream_runtime::prelude::*;
    /// #[derive(Record)]
    /// struct Click { user: String, page: String }
    ///
    /// let first_visits = read_stream::<Click>(MemoryStream::new())
    ///     .drop_duplicates(|c| (c.user.clone(), c.page.clone()));
    /// ```
    pub fn drop_duplicates<K: Key>(self, key: impl Fn(&T) -> K + Send + Sync + 'static) -> Self {
        self.dedup(Arc::new(key), Expiry::Never, "key")
    }

    /// [`drop_duplicates`](Dataset::drop_duplicates) on all columns (Spark's
    /// `dropDuplicates()`): exact copies of a row seen before are dropped.
    pub fn drop_duplicates_all(self) -> Self {
        self.dedup(Arc::new(|r: &T| r.clone()), Expiry::Never, "all columns")
    }

    /// [`drop_duplicates`](Dataset::drop_duplicates) on rows whose event-time column `column`
    /// (read by `time`) may carry a watermark. If it does, rows at or below the watermark are
    /// dropped as late, and if `key_holds_time` (the key includes that column, as in Spark's
    /// `dropDuplicates("id", "eventTime")`) a key's state is released once the watermark
    /// reaches its event time; without it, state grows with the distinct keys, as in Spark.
    /// Without a watermark on `column` this is `drop_duplicates`.
    pub fn drop_duplicates_on<K: Key>(
        self,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key_holds_time: bool,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Self {
        let expiry = if self.meta.has_watermark_on(Some(column)) {
            Expiry::EventTime {
                time: Arc::new(time),
                evict: key_holds_time,
            }
        } else {
            Expiry::Never
        };
        let what = if key_holds_time {
            format!("key with event time {column}")
        } else {
            format!("key without event time {column}")
        };
        self.dedup(Arc::new(key), expiry, &what)
    }

    /// Spark's `dropDuplicatesWithinWatermark(cols)`: a key's first row is emitted, and later
    /// rows with that key are dropped until the watermark reaches the first row's event time
    /// plus the watermark's delay; after that the key is new again. `column` is the watermarked
    /// event-time column (read by `time`), which the key need not hold. Rows at or below the
    /// watermark are dropped as late. Refused without a watermark on `column`.
    pub fn drop_duplicates_within_watermark_on<K: Key>(
        self,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> Self {
        let meta = &self.meta;
        let watermarked = meta.has_watermark_on(Some(column));
        if let Err(e) = stream_core::rules::check_deduplication(&meta.shape, true, watermarked) {
            return self.fail(e.into());
        }
        // The delay of the watermark on `column` (watermarks and their columns are listed in
        // the same order until an aggregation, which no deduplication follows).
        let on = |w: &Option<String>| w.as_deref().is_none_or(|w| w == column);
        let delay = match meta.event_time.iter().position(on) {
            Some(i) if meta.event_time.len() == meta.watermarks.len() => {
                meta.watermarks[i].delay_ms
            }
            _ => {
                return self.fail(StreamError::Analysis(format!(
                    "drop_duplicates_within_watermark cannot tell which watermark `{column}` \
                     carries; give the rows one with_watermark(`{column}`, \"delay\")"
                )))
            }
        };
        let expiry = Expiry::Within {
            time: Arc::new(time),
            delay_ms: delay,
        };
        self.dedup(
            Arc::new(key),
            expiry,
            &format!("within watermark on {column}, {delay} ms"),
        )
    }

    /// Names the key's columns in the checkpoint's description of the last deduplication
    /// (`stream!` does this, so that a restart can tell a changed key of the same types).
    #[doc(hidden)]
    pub fn __dedup_key_columns(mut self, columns: &str) -> Self {
        if let Some(d) = self.meta.stateful.last_mut() {
            d.key_schema = format!("({columns}): {}", d.key_schema);
        }
        self
    }

    fn dedup<K: Key>(
        self,
        key: Arc<dyn Fn(&T) -> K + Send + Sync>,
        expiry: Expiry<T>,
        parameters: &str,
    ) -> Self {
        let within = matches!(expiry, Expiry::Within { .. });
        if let Err(e) = stream_core::rules::check_deduplication(&self.meta.shape, within, true) {
            return self.fail(e.into());
        }
        let kind = if within {
            "deduplication within watermark"
        } else {
            "deduplication"
        };
        let mut data = self.ensure_unsorted(kind);
        data.meta.stateful.push(OperatorDescription {
            kind: kind.into(),
            key_schema: short_type_name::<K>(),
            state_schema: "expiry: Option<i64>".into(),
            parameters: parameters.into(),
            ..Default::default()
        });
        let expiry = Arc::new(expiry);
        data.then_ctx(kind, move |rows, ctx| {
            let op = ctx.state_op();
            let state = DedupState {
                store: ctx.store(op, kind),
                groups: ctx.groups,
                workers: ctx.workers,
            };
            let (key, expiry) = (key.clone(), expiry.clone());
            let assign = move |row: &T| {
                let (event_time, expires) = match &*expiry {
                    Expiry::Never => (None, None),
                    Expiry::EventTime { time, evict } => {
                        let ts = time(row).millis();
                        (Some(ts), evict.then_some(ts))
                    }
                    Expiry::Within { time, delay_ms } => {
                        let ts = time(row).millis();
                        (Some(ts), Some(ts.saturating_add(*delay_ms)))
                    }
                };
                DedupKey {
                    key: key(row),
                    event_time,
                    expires,
                }
            };
            // Deduplication comes before any aggregation (the rule above): stage 0.
            let operator = if within {
                StateOperator::DedupeWithinWatermark
            } else {
                StateOperator::Dedupe
            };
            dataflow::deduplicate(rows, assign, operator, 0, state, ctx.metrics.clone(), op)
        })
    }
}

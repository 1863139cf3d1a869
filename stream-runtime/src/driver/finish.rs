//! Finishing a micro-batch on the driver: the workers' reports, the output mode, the sink, the
//! next watermark, and the batch's progress report.

use super::plan::Driver;
use super::{BatchPlan, WorkerReport};
use crate::crash::{self, Point};
use crate::dataflow;
use crate::metrics::{BatchMetrics, StateOperator};
use crate::progress::{
    iso_utc, QueryProgress, SinkProgress, SourceProgress, StateOperatorProgress,
};
use crate::sink::BatchInfo;
use crate::source::ReadStats;
use crate::time::Time;
use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};
use stream_core::{OutputMode, Record, Trigger};

/// How many corrupt records a handle keeps.
const MAX_CORRUPT: usize = 1000;

/// What a report says of a query without a checkpoint location.
const NO_CHECKPOINT: &str = "none: no checkpoint_location, so state and progress are lost when \
     the query stops; set .checkpoint_location(dir) on the writer to resume exactly once";

impl<T: Record> Driver<'_, T> {
    /// The rows the sink receives for a batch, from the output updates.
    fn output_rows(&mut self, updates: Vec<(T, Time, isize)>) -> Vec<T> {
        let repeat = |(row, n): (&T, isize)| std::iter::repeat_n(row.clone(), n.max(0) as usize);
        if self.def.mode == OutputMode::Complete {
            let changes =
                dataflow::consolidate(updates.into_iter().map(|(r, _, d)| (r, d)).collect());
            for (row, d) in changes {
                let n = self.table.entry(row.clone()).or_insert(0);
                *n += d;
                if *n == 0 {
                    self.table.remove(&row);
                }
            }
            return self
                .table
                .iter()
                .flat_map(|(r, n)| repeat((r, *n)))
                .collect();
        }
        // Append: the new rows (after an aggregation, its closed groups' final rows). Update: the
        // new version of every key with input, changed or not
        // (Spark's `StateStoreSaveExec`): its insertions, which the retraction of its old value
        // must not cancel when the value did not change.
        let inserted = updates
            .into_iter()
            .filter(|(_, _, d)| *d > 0)
            .map(|(r, _, d)| (r, d))
            .collect();
        let inserted = dataflow::consolidate(inserted);
        inserted.iter().flat_map(|(r, n)| repeat((r, *n))).collect()
    }

    /// Spark's `eventTime`: min, max and average event time of the batch, and its watermark.
    fn event_time_progress(&self, m: &BatchMetrics, watermark: u64) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if !self.watermark.is_active() {
            return out;
        }
        let mut all = crate::watermark::EventTimeStats::default();
        m.event_time.iter().for_each(|s| all.merge(s));
        if all.count > 0 {
            out.insert("min".into(), iso_utc(all.min));
            out.insert("max".into(), iso_utc(all.max));
            out.insert("avg".into(), iso_utc((all.sum / all.count as f64) as i64));
        }
        out.insert("watermark".into(), iso_utc(watermark as i64));
        out
    }

    /// Spark's `shouldRunAnotherBatch`: a stateful operator downstream of a watermark, in
    /// Append or Update mode, asks for a batch without data when its input watermark advances
    /// past the one the last batch ran under (whether or not it has state to evict).
    pub(super) fn wants_no_data_batch(&self, next: u64, batch_watermark: u64) -> bool {
        let meta = &self.def.data.meta;
        // Spark's FlatMapGroupsWithStateExec asks for one only with event-time timeouts; every
        // other stateful operator (aggregation, deduplication, stream-stream join) always does.
        let event_timeouts = meta
            .shape
            .group_states
            .iter()
            .any(|g| g.timeout == stream_core::GroupStateTimeout::EventTimeTimeout);
        let stateful = meta.stateful.len() > meta.shape.group_states.len() || event_timeouts;
        stateful
            && self.watermark.is_active()
            && next > batch_watermark
            && self.def.mode != OutputMode::Complete
            && self.def.trigger != Trigger::Once
    }

    pub(super) fn finish_batch(
        &mut self,
        plan: &BatchPlan,
        updates: Vec<(T, Time, isize)>,
        reports: Vec<String>,
    ) {
        let mut reads: BTreeMap<usize, ReadStats> = BTreeMap::new();
        let mut metrics = BatchMetrics::default();
        let mut written = 0;
        let mut messages = Vec::new();
        let mut phases = super::Phases::default();
        for r in reports {
            let report: WorkerReport = serde_json::from_str(&r).expect("reports deserialize");
            if let Some(e) = report.error {
                self.shared.fail(e);
            }
            metrics.merge(&report.metrics);
            phases = phases.max(report.phases);
            written += report.written;
            messages.extend(report.sink_message);
            for (id, stats) in report.reads {
                let acc = reads.entry(id).or_default();
                acc.rows += stats.rows;
                acc.dropped_malformed += stats.dropped_malformed;
                acc.corrupt_count += stats.corrupt_count;
                for (k, v) in stats.metrics {
                    *acc.metrics.entry(k).or_default() += v;
                }
                // Each worker sends a bounded sample; the handle keeps the last MAX_CORRUPT.
                acc.corrupt.extend(stats.corrupt);
                let excess = acc.corrupt.len().saturating_sub(MAX_CORRUPT);
                acc.corrupt.drain(..excess);
            }
        }
        for e in std::mem::take(&mut metrics.errors) {
            self.shared.fail(e);
        }
        self.next_timeout = metrics.timeouts.values().min().copied();
        // `from_json`'s malformed values count as reads of the source they came from.
        for p in std::mem::take(&mut metrics.parses) {
            if let Some(e) = p.error {
                self.shared.fail(e);
            }
            let Some(source) = p.source else { continue };
            let acc = reads.entry(source).or_default();
            acc.dropped_malformed += p.stats.dropped_malformed;
            acc.corrupt_count += p.stats.corrupt_count;
            acc.corrupt.extend(p.stats.corrupt);
            let excess = acc.corrupt.len().saturating_sub(MAX_CORRUPT);
            acc.corrupt.drain(..excess);
        }
        if self.should_stop() && self.shared.lock().error.is_some() {
            return;
        }
        let sink_started = Instant::now();
        crash::point(Point::BeforeSinkCommit, self.batch);
        let num_output_rows = if let Some(sink) = &self.def.partitioned {
            // The workers wrote their parts of the batch: commit it, once.
            if !plan.skip_sink {
                if let Err(e) = sink.commit(self.batch, messages) {
                    self.shared.fail(e);
                    return;
                }
                self.sink_committed = Some(self.batch);
            }
            written as i64
        } else if self.def.writer.is_some() {
            // The workers wrote their rows themselves.
            written as i64
        } else {
            let mut rows = self.output_rows(updates);
            if let Some(sort) = &self.def.data.sort {
                sort(&mut rows);
            }
            let n = rows.len() as i64;
            let info = BatchInfo {
                batch_id: self.batch,
                mode: self.def.mode,
            };
            if let Err(e) = self.sink.add_batch(info, rows) {
                self.shared.fail(e);
                return;
            }
            n
        };
        crash::point(Point::AfterSinkCommit, self.batch);
        let add_batch_ms = sink_started.elapsed().as_millis() as u64;
        let batch_watermark = self.watermark.current();
        let stats: Vec<_> = metrics.event_time.clone();
        let next = self.watermark.advance(&stats, Instant::now());
        // The sink has the batch: log it, then let the sources discard what it read.
        let committing = Instant::now();
        if !self.commit_batch(next) {
            return;
        }
        let commit_ms = committing.elapsed().as_millis() as u64;
        for (i, split) in &plan.splits {
            self.def.sources[*i].source.commit(&split.end);
        }
        let trigger_ms = self.trigger_start.elapsed().as_millis() as u64;
        let since_previous = self
            .previous_trigger_start
            .map(|p| self.trigger_start.duration_since(p).as_secs_f64())
            .unwrap_or(0.0);
        let rate = |n: u64, secs: f64| {
            if secs > 0.0 {
                n as f64 / secs
            } else {
                f64::NAN
            }
        };
        let trigger_secs = trigger_ms as f64 / 1000.0;
        let mut sources = Vec::new();
        let mut total = 0;
        for (i, s) in self.def.sources.iter().enumerate() {
            let split = plan
                .splits
                .iter()
                .find(|(index, _)| *index == i)
                .map(|(_, sp)| sp);
            let stats = reads.remove(&i).unwrap_or_default();
            total += stats.rows;
            let mut metrics = BTreeMap::new();
            if stats.dropped_malformed > 0 {
                metrics.insert(
                    "numDroppedMalformedRecords".into(),
                    stats.dropped_malformed.to_string(),
                );
            }
            for (k, v) in &stats.metrics {
                metrics.insert(k.clone(), v.to_string());
            }
            if stats.corrupt_count > 0 {
                metrics.insert("numCorruptRecords".into(), stats.corrupt_count.to_string());
                self.shared.update(|st| {
                    st.corrupt.extend(stats.corrupt.iter().cloned());
                    let excess = st.corrupt.len().saturating_sub(MAX_CORRUPT);
                    st.corrupt.drain(..excess);
                });
            }
            let start = self.offsets[i].clone();
            if let Some(sp) = split {
                self.offsets[i] = Some(sp.end.clone());
            }
            sources.push(SourceProgress {
                description: s.source.description(),
                start_offset: start.unwrap_or(serde_json::Value::Null),
                end_offset: self.offsets[i].clone().unwrap_or(serde_json::Value::Null),
                num_input_rows: stats.rows,
                input_rows_per_second: rate(stats.rows, since_previous),
                processed_rows_per_second: rate(stats.rows, trigger_secs),
                metrics,
            });
        }
        let wall_ms = self
            .trigger_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        // Spark's phases, and ours (`processing`, `stateCommit`): see `QueryProgress::duration_ms`.
        let duration_ms: BTreeMap<String, u64> = [
            ("latestOffset", self.planning_ms),
            ("walCommit", self.wal_commit_ms),
            ("getBatch", phases.read),
            ("processing", phases.process),
            ("stateCommit", phases.state_commit),
            ("addBatch", add_batch_ms),
            ("commitOffsets", commit_ms),
            ("triggerExecution", trigger_ms),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let event_time = self.event_time_progress(&metrics, batch_watermark);
        let state_operators = metrics
            .state
            .iter()
            .map(|s| StateOperatorProgress {
                operator_name: s.operator.name().into(),
                num_rows_total: s.rows_total.max(0) as u64,
                num_rows_updated: s.rows_updated,
                num_rows_removed: s.rows_removed,
                num_rows_dropped_by_watermark: s.dropped_by_watermark,
                memory_used_bytes: s.memory_used_bytes,
                custom_metrics: match s.operator {
                    StateOperator::StateStoreSave => BTreeMap::new(),
                    _ => [("numDroppedDuplicateRows".into(), s.dropped_duplicates)].into(),
                },
            })
            .collect();
        self.no_data_batch = self.wants_no_data_batch(next, batch_watermark);
        self.previous_watermark = batch_watermark;
        self.last_no_execution = Some(Instant::now());
        self.shared.push_progress(QueryProgress {
            id: self.shared.id.clone(),
            run_id: self.shared.run_id.clone(),
            name: self.shared.name.clone(),
            timestamp: iso_utc(wall_ms),
            batch_id: self.batch,
            batch_duration: trigger_ms,
            num_input_rows: total,
            input_rows_per_second: rate(total, since_previous),
            processed_rows_per_second: rate(total, trigger_secs),
            duration_ms,
            event_time,
            state_operators,
            sources,
            sink: SinkProgress {
                description: self.sink.description(),
                num_output_rows,
            },
            fault_tolerance: match &self.checkpoint {
                Some(c) => format!("checkpoint at {}", c.root().display()),
                None => NO_CHECKPOINT.to_string(),
            },
        });
        self.batch += 1;
        self.set_status("Waiting for next trigger", false, false);
    }
}

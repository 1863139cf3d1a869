//! `GroupedDataset::transform_with_state` (Spark 4's `transformWithState`): a
//! [`StatefulProcessor`] per key, on the same operator and state mechanism as
//! `[flat_]map_groups_with_state`. A key's stored state is its variables and timers; the
//! operator wakes a key at its earliest timer or TTL expiry.

use super::aggregate::{GroupedDataset, Key};
use super::describe::short_type_name;
use super::stateful_processor::{
    KeyState, ProcessorHandle, StateDeclarations, StatefulProcessor, TimeMode, TimerValues,
};
use super::Dataset;
use crate::dataflow::Stored;
use crate::error::StreamError;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use stream_core::rules::GroupStateShape;
use stream_core::{GroupStateTimeout, OutputMode, Record};

/// Calls the processor's `close` when a worker drops the query's dataflow.
struct Closer<P: StatefulProcessor<K, T, O>, K, T, O>(Arc<P>, PhantomData<fn(K, T) -> O>);

impl<P: StatefulProcessor<K, T, O>, K, T, O> Drop for Closer<P, K, T, O> {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<T: Record, K: Key> GroupedDataset<T, K> {
    /// Runs `processor` per key (Spark's `transformWithState(processor, timeMode,
    /// outputMode)`): `init` declares its state variables when the query is built, then
    /// `handle_input_rows` runs per key with rows in a batch, and `handle_expired_timer` per
    /// expired timer after them. Refused at start: a duplicate variable, a TTL without
    /// `TimeMode::ProcessingTime`, `TimeMode::EventTime` without a watermark, Complete mode.
    pub fn transform_with_state<P, O>(
        self,
        mut processor: P,
        time_mode: TimeMode,
        output_mode: OutputMode,
    ) -> Dataset<O>
    where
        P: StatefulProcessor<K, T, O>,
        O: Record,
    {
        let mut declarations = StateDeclarations::default();
        processor.init(&mut declarations, output_mode, time_mode);
        let super::aggregate::GroupParts {
            mut data,
            key,
            key_schema,
            late,
        } = self.into_parts();
        let watermark = !data.meta.event_time.is_empty();
        let mut refuse = |message: String| {
            data.meta.error.get_or_insert(StreamError::Analysis(format!(
                "transform_with_state: {message}"
            )));
        };
        if let Some(e) = declarations.error.take() {
            refuse(e);
        }
        if let Some((name, ..)) = declarations.vars.iter().find(|v| v.2.is_some()) {
            if time_mode != TimeMode::ProcessingTime {
                refuse(format!(
                    "the state variable `{name}` has a TTL, which needs TimeMode::ProcessingTime \
                     (Spark: STATEFUL_PROCESSOR_INCORRECT_TIME_MODE_TO_ASSIGN_TTL)"
                ));
            }
        }
        if output_mode == OutputMode::Complete {
            refuse("its output mode is Append or Update, not Complete".into());
        }
        if time_mode == TimeMode::EventTime && !watermark {
            refuse(
                "TimeMode::EventTime needs a watermark: add with_watermark(..) before \
                 group_by_key(..)"
                    .into(),
            );
        }
        // The output-mode rules of flat_map_groups_with_state; event-time timers ask for
        // batches without data as event-time timeouts do.
        data.meta.shape.group_states.push(GroupStateShape {
            map: false,
            mode: output_mode,
            timeout: match time_mode {
                TimeMode::EventTime => GroupStateTimeout::EventTimeTimeout,
                TimeMode::ProcessingTime => GroupStateTimeout::ProcessingTimeTimeout,
                TimeMode::None => GroupStateTimeout::NoTimeout,
            },
            aggregations_before: data.meta.shape.aggregations.len(),
            watermark,
        });
        let names: Vec<&str> = declarations.vars.iter().map(|v| v.0.as_str()).collect();
        data.meta
            .stateful
            .push(crate::checkpoint::OperatorDescription {
                kind: "transformWithState".into(),
                key_schema,
                state_schema: format!(
                    "{} variables [{}]",
                    short_type_name::<P>(),
                    names.join(", ")
                ),
                parameters: format!("{:?} time, {} mode", time_mode, output_mode.name()),
                ..Default::default()
            });
        data.meta.event_time.clear();
        let ttls: Arc<BTreeMap<String, Option<i64>>> = Arc::new(
            declarations
                .vars
                .into_iter()
                .map(|(name, _, ttl)| (name, ttl))
                .collect(),
        );
        let processor = Arc::new(processor);
        let late = late.filter(|_| time_mode == TimeMode::EventTime);
        data.then_ctx("transform_with_state", move |rows, ctx| {
            let (processor, ttls) = (processor.clone(), ttls.clone());
            let closer: Closer<P, K, T, O> = Closer(processor.clone(), PhantomData);
            let call = move |k: &K,
                             rows: Vec<T>,
                             slot: &mut Option<Stored<KeyState>>,
                             timed_out: bool,
                             clock: &crate::dataflow::BatchClock| {
                let _close_on_drop = &closer;
                let now = clock.timestamp_ms;
                let values = TimerValues {
                    current_processing_time_ms: now,
                    current_watermark_ms: clock.watermark as i64,
                };
                let mut state = slot.take().map(|s| s.value).unwrap_or_default();
                let mut h = ProcessorHandle {
                    state: &mut state,
                    ttls: &ttls,
                    time_mode,
                    now,
                    error: None,
                };
                let mut out = Vec::new();
                if !timed_out {
                    out = processor.handle_input_rows(k, rows.into_iter(), &mut h, values);
                } else {
                    // Spark: each expired timer once, in time order, deleted before its call.
                    let threshold = match time_mode {
                        TimeMode::ProcessingTime => now,
                        TimeMode::EventTime => clock.watermark as i64,
                        TimeMode::None => i64::MIN,
                    };
                    let due: Vec<i64> = h.state.timers.range(..threshold).copied().collect();
                    for t in due {
                        if h.error.is_some() || !h.state.timers.remove(&t) {
                            continue;
                        }
                        out.extend(processor.handle_expired_timer(k, &mut h, values, t));
                    }
                }
                if let Some(e) = h.error {
                    return Err(e);
                }
                if time_mode == TimeMode::ProcessingTime {
                    state.purge(now);
                }
                // Woken at the earliest timer, or when the earliest TTL expires (to purge it).
                let wake = [
                    state.timers.first().copied(),
                    state.next_expiry().map(|e| e - 1),
                ]
                .into_iter()
                .flatten()
                .min();
                *slot = (!state.is_empty()).then_some(Stored {
                    value: state,
                    timeout: wake,
                });
                Ok((out, true))
            };
            super::groups_with_state::lower_groups_with_state(
                rows,
                ctx,
                key.clone(),
                late.clone(),
                call,
                time_mode_clock(time_mode),
                "transform_with_state",
            )
        })
    }
}

fn time_mode_clock(mode: TimeMode) -> crate::dataflow::TimeoutClock {
    use crate::dataflow::TimeoutClock;
    match mode {
        TimeMode::None => TimeoutClock::None,
        TimeMode::ProcessingTime => TimeoutClock::Processing,
        TimeMode::EventTime => TimeoutClock::Event,
    }
}

//! `GroupState<S>`: what the function of `[flat_]map_groups_with_state` sees of its key's state
//! (Spark's `GroupState`, with its method names in Rust's case).
//!
//! Spark throws from these methods when they are misused (a timeout the operator's
//! `GroupStateTimeout` does not allow, a timestamp below the watermark); here the call is
//! ignored and the error is kept, and the query fails after the function returns with an error
//! naming the key. `get` returns an `Option` (Spark's `getOption`) instead of throwing.

use crate::dataflow::{BatchClock, Stored};
use std::cell::RefCell;
use stream_core::{GroupStateTimeout, Timestamp};

/// The state of one key in `map_groups_with_state` / `flat_map_groups_with_state`.
///
/// ```
/// # use stream_runtime::prelude::*;
/// fn count(key: String, rows: GroupRows<String>, state: &mut GroupState<i64>) -> (String, i64) {
///     let n = state.get().copied().unwrap_or(0) + rows.len() as i64;
///     state.update(n);
///     (key, n)
/// }
/// ```
pub struct GroupState<S> {
    value: Option<S>,
    timeout: Option<i64>,
    updated: bool,
    removed: bool,
    conf: GroupStateTimeout,
    timed_out: bool,
    batch_ms: i64,
    /// The batch's watermark, if the rows carry one.
    watermark_ms: Option<i64>,
    /// The first misuse in this call: it fails the query once the function returns.
    error: RefCell<Option<String>>,
}

impl<S> GroupState<S> {
    /// The state as one call of the function finds it. The timeout starts unset: Spark resets
    /// it on every call, so the function sets it again each time it wants one.
    pub(crate) fn new(
        stored: Option<Stored<S>>,
        conf: GroupStateTimeout,
        timed_out: bool,
        clock: &BatchClock,
        watermark: bool,
    ) -> Self {
        GroupState {
            value: stored.map(|s| s.value),
            timeout: None,
            updated: false,
            removed: false,
            conf,
            timed_out,
            batch_ms: clock.timestamp_ms,
            watermark_ms: watermark.then_some(clock.watermark as i64),
            error: RefCell::new(None),
        }
    }

    /// Whether the key has state.
    pub fn exists(&self) -> bool {
        self.value.is_some()
    }

    /// The key's state, if it has one (Spark's `getOption`; Spark's `get` throws instead).
    pub fn get(&self) -> Option<&S> {
        self.value.as_ref()
    }

    /// Sets the key's state.
    pub fn update(&mut self, value: S) {
        self.value = Some(value);
        self.updated = true;
        self.removed = false;
    }

    /// Removes the key's state (and its timeout).
    pub fn remove(&mut self) {
        self.value = None;
        self.removed = true;
        self.updated = false;
    }

    /// Whether this call is for a key that timed out (it then gets no rows).
    pub fn has_timed_out(&self) -> bool {
        self.timed_out
    }

    /// Times the key out once the processing time passes this batch's plus `duration` (e.g.
    /// `"10 seconds"`) with no rows for it. Needs `ProcessingTimeTimeout`.
    pub fn set_timeout_duration(&mut self, duration: &str) {
        match stream_core::parse_duration(duration) {
            Ok(ms) => self.set_timeout_duration_ms(ms),
            Err(e) => self.fail(format!("set_timeout_duration: {e}")),
        }
    }

    /// [`set_timeout_duration`](GroupState::set_timeout_duration) in milliseconds.
    pub fn set_timeout_duration_ms(&mut self, ms: i64) {
        if self.conf != GroupStateTimeout::ProcessingTimeTimeout {
            return self.fail(format!(
                "cannot set a timeout duration without ProcessingTimeTimeout (this operator's \
                 timeout is {}): declare the operator with ProcessingTimeTimeout",
                self.conf.name()
            ));
        }
        if ms <= 0 {
            return self.fail(format!(
                "the timeout duration must be positive, not {ms} ms"
            ));
        }
        self.timeout = Some(self.batch_ms.saturating_add(ms));
    }

    /// Times the key out once the watermark passes `timestamp` with no rows for it. Needs
    /// `EventTimeTimeout`; `timestamp` may not be below the current watermark.
    pub fn set_timeout_timestamp(&mut self, timestamp: Timestamp) {
        self.set_timeout_timestamp_ms(timestamp.millis())
    }

    /// [`set_timeout_timestamp`](GroupState::set_timeout_timestamp) plus a duration (e.g.
    /// `"1 hour"`), Spark's `setTimeoutTimestamp(timestamp, additionalDuration)`.
    pub fn set_timeout_timestamp_plus(&mut self, timestamp: Timestamp, duration: &str) {
        match stream_core::parse_duration(duration) {
            Ok(ms) => self.set_timeout_timestamp_ms(timestamp.millis().saturating_add(ms)),
            Err(e) => self.fail(format!("set_timeout_timestamp_plus: {e}")),
        }
    }

    /// [`set_timeout_timestamp`](GroupState::set_timeout_timestamp) in epoch milliseconds.
    pub fn set_timeout_timestamp_ms(&mut self, ms: i64) {
        if self.conf != GroupStateTimeout::EventTimeTimeout {
            return self.fail(format!(
                "cannot set a timeout timestamp without EventTimeTimeout (this operator's \
                 timeout is {}): declare the operator with EventTimeTimeout",
                self.conf.name()
            ));
        }
        if ms <= 0 {
            return self.fail(format!("the timeout timestamp must be positive, not {ms}"));
        }
        if let Some(wm) = self.watermark_ms.filter(|wm| ms < *wm) {
            return self.fail(format!(
                "the timeout timestamp ({ms}) cannot be earlier than the current watermark ({wm})"
            ));
        }
        self.timeout = Some(ms);
    }

    /// The batch's event-time watermark, epoch ms. Needs a watermark on the rows (otherwise
    /// the query fails, as Spark's throws).
    pub fn get_current_watermark_ms(&self) -> i64 {
        match self.watermark_ms {
            Some(wm) => wm,
            None => {
                self.fail_ref(
                    "cannot get the event-time watermark without with_watermark(..) before \
                     group_by_key(..)"
                        .into(),
                );
                -1
            }
        }
    }

    /// The batch's processing time, epoch ms (the same for every key of the batch).
    pub fn get_current_processing_time_ms(&self) -> i64 {
        self.batch_ms
    }

    fn fail(&mut self, message: String) {
        self.fail_ref(message)
    }

    fn fail_ref(&self, message: String) {
        self.error.borrow_mut().get_or_insert(message);
    }

    /// After the call: the key's new stored state and whether it changed, or the error.
    pub(crate) fn finish(self, before: Option<i64>) -> Result<(Option<Stored<S>>, bool), String> {
        if let Some(e) = self.error.into_inner() {
            return Err(e);
        }
        if self.value.is_none() && self.timeout.is_some() {
            return Err(
                "cannot set a timeout when the state is not defined (never updated, or removed): \
                 call update(..) before setting a timeout"
                    .into(),
            );
        }
        let changed = self.updated || self.removed || self.timeout != before;
        let stored = self.value.map(|value| Stored {
            value,
            timeout: self.timeout,
        });
        Ok((stored, changed))
    }
}

/// The rows of one key in one batch, handed to the function of `[flat_]map_groups_with_state`
/// (empty for a key that timed out).
pub type GroupRows<T> = std::vec::IntoIter<T>;

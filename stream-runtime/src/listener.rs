//! Listeners (Spark's `StreamingQueryListener`): callbacks on a session's queries starting,
//! making progress, idling and ending, and the bus that delivers them.
//!
//! `on_query_started` is called synchronously by `Session::start`, before it returns (and
//! before any other event of that query). The other events are delivered asynchronously and
//! in order, each listener by a thread of its own fed by an unbounded queue: a slow listener
//! never blocks a batch, nor delays the other listeners.

pub use crate::console_progress::ConsoleProgress;

use crate::error::StreamError;
use crate::progress::QueryProgress;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

/// Callbacks on the queries of a session (Spark's `StreamingQueryListener`), registered with
/// [`Session::add_listener`](crate::Session::add_listener). Every method has an empty default.
///
/// ```
/// use stream_runtime::listener::{QueryProgressEvent, StreamingQueryListener};
///
/// struct PrintRows;
/// impl StreamingQueryListener for PrintRows {
///     fn on_query_progress(&self, event: &QueryProgressEvent) {
///         eprintln!("batch {}: {} rows", event.progress.batch_id, event.progress.num_input_rows);
///     }
/// }
/// stream_runtime::Session::local().add_listener(PrintRows);
/// ```
pub trait StreamingQueryListener: Send + Sync + 'static {
    /// A query started: called synchronously by `start()`, before it returns. Do not block.
    fn on_query_started(&self, event: &QueryStartedEvent) {
        let _ = event;
    }
    /// A batch finished (asynchronous).
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        let _ = event;
    }
    /// The query has been waiting for new data for a while (asynchronous; at most once per
    /// [`Session::no_data_progress_event_interval`](crate::Session::no_data_progress_event_interval)).
    fn on_query_idle(&self, event: &QueryIdleEvent) {
        let _ = event;
    }
    /// The query ended, stopped or failed (asynchronous).
    fn on_query_terminated(&self, event: &QueryTerminatedEvent) {
        let _ = event;
    }
}

/// Spark's `QueryStartedEvent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStartedEvent {
    /// The query's id (stable across restarts from a checkpoint).
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The query's name, if any.
    pub name: Option<String>,
    /// When it started, ISO-8601 UTC.
    pub timestamp: String,
}

/// Spark's `QueryProgressEvent`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryProgressEvent {
    /// The batch's progress report.
    pub progress: QueryProgress,
}

/// Spark's `QueryIdleEvent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryIdleEvent {
    /// The query's id.
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// When the latest trigger that found no data started, ISO-8601 UTC.
    pub timestamp: String,
}

/// Spark's `QueryTerminatedEvent`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryTerminatedEvent {
    /// The query's id.
    pub id: String,
    /// This run's id.
    pub run_id: String,
    /// The error that ended the query, if it failed.
    pub exception: Option<String>,
    /// The error's class (see [`StreamError::error_class`]), if it failed.
    pub error_class_on_exception: Option<String>,
}

impl QueryTerminatedEvent {
    pub(crate) fn new(id: &str, run_id: &str, error: Option<&StreamError>) -> Self {
        QueryTerminatedEvent {
            id: id.to_string(),
            run_id: run_id.to_string(),
            exception: error.map(ToString::to_string),
            error_class_on_exception: error.map(|e| e.error_class().to_string()),
        }
    }
}

macro_rules! json_form {
    ($($t:ty),*) => {$(
        impl $t {
            /// The event as JSON, with Spark's field names.
            pub fn json(&self) -> String {
                serde_json::to_string(self).expect("events serialize")
            }
        }
    )*};
}
json_form!(
    QueryStartedEvent,
    QueryProgressEvent,
    QueryIdleEvent,
    QueryTerminatedEvent
);

/// An event queued for a listener.
#[derive(Clone)]
pub(crate) enum Event {
    Progress(Arc<QueryProgressEvent>),
    Idle(Arc<QueryIdleEvent>),
    Terminated(Arc<QueryTerminatedEvent>),
}

/// Identifies a registered listener, to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

struct Entry {
    id: u64,
    listener: Arc<dyn StreamingQueryListener>,
    queue: Sender<Event>,
}

/// The listeners of a session, and their queues.
#[derive(Default)]
pub(crate) struct Bus {
    entries: Mutex<Vec<Entry>>,
    next: AtomicU64,
}

impl Bus {
    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `listener`, with a thread that delivers its asynchronous events in order.
    pub fn add(&self, listener: Arc<dyn StreamingQueryListener>) -> ListenerId {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (queue, events) = mpsc::channel::<Event>();
        let l = listener.clone();
        let spawned = std::thread::Builder::new()
            .name("stream-listener".into())
            .spawn(move || {
                for event in events {
                    // A listener that panics loses that event, not the ones after it.
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &event {
                            Event::Progress(e) => l.on_query_progress(e),
                            Event::Idle(e) => l.on_query_idle(e),
                            Event::Terminated(e) => l.on_query_terminated(e),
                        }));
                }
            });
        if spawned.is_ok() {
            self.entries().push(Entry {
                id,
                listener,
                queue,
            });
        }
        ListenerId(id)
    }

    /// Unregisters a listener; events already queued for it are still delivered.
    pub fn remove(&self, id: ListenerId) -> bool {
        let mut entries = self.entries();
        let before = entries.len();
        entries.retain(|e| e.id != id.0);
        entries.len() != before
    }

    /// Whether no listener is registered (so that events need not be built).
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    /// Calls every listener's `on_query_started`, here and now.
    pub fn started(&self, event: &QueryStartedEvent) {
        let listeners: Vec<_> = self.entries().iter().map(|e| e.listener.clone()).collect();
        for l in listeners {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                l.on_query_started(event)
            }));
        }
    }

    /// Queues `event` for every listener.
    pub fn post(&self, event: Event) {
        for e in self.entries().iter() {
            let _ = e.queue.send(event.clone());
        }
    }
}

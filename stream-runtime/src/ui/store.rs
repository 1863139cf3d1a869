//! What the UI knows of a session's queries: a listener that keeps every query's events (the
//! last 100 progress reports of each, the last 100 queries; Spark's
//! `spark.sql.streaming.ui.retainedProgressUpdates` and `retainedQueries`).

use crate::listener::{
    QueryIdleEvent, QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent,
    StreamingQueryListener,
};
use crate::ui::metrics::Metrics;
use crate::QueryProgress;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Progress reports kept per query.
pub const RETAINED_PROGRESS: usize = 100;
/// Queries kept (the oldest finished ones go first).
pub const RETAINED_QUERIES: usize = 100;

/// One query as the UI shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryInfo {
    pub id: String,
    pub run_id: String,
    pub name: Option<String>,
    /// `active`, `finished` or `failed`.
    pub status: &'static str,
    /// When it started, ISO-8601 UTC.
    pub started: String,
    /// When it was last idle, if it is.
    pub idle_since: Option<String>,
    pub exception: Option<String>,
    pub error_class: Option<String>,
    /// Batches reported so far (the list keeps the last 100).
    pub batches: u64,
    /// Progress reports as Spark's JSON (a rate Spark omits is left out).
    pub progress: VecDeque<serde_json::Value>,
}

/// The queries, newest last.
#[derive(Clone, Default)]
pub struct Store {
    queries: Arc<Mutex<Vec<QueryInfo>>>,
    metrics: Metrics,
}

impl Store {
    pub fn new(metrics: Metrics) -> Store {
        Store {
            queries: Arc::default(),
            metrics,
        }
    }

    fn with_query(&self, run_id: &str, f: impl FnOnce(&mut QueryInfo)) {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = queries.iter_mut().find(|q| q.run_id == run_id) {
            f(q);
        }
    }

    /// Adds a query, forgetting the oldest finished one when there are too many.
    pub fn add(&self, started: &QueryStartedEvent, progress: Vec<QueryProgress>) {
        let mut queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        if queries.iter().any(|q| q.run_id == started.run_id) {
            return;
        }
        if queries.len() >= RETAINED_QUERIES {
            if let Some(i) = queries.iter().position(|q| q.status != "active") {
                queries.remove(i);
            }
        }
        let mut info = QueryInfo {
            id: started.id.clone(),
            run_id: started.run_id.clone(),
            name: started.name.clone(),
            status: "active",
            started: started.timestamp.clone(),
            idle_since: None,
            exception: None,
            error_class: None,
            batches: 0,
            progress: VecDeque::new(),
        };
        for p in &progress {
            push(&mut info, p);
        }
        queries.push(info);
        drop(queries);
        if let Some(last) = progress.last() {
            self.metrics.progress(last);
        }
    }

    /// Every query, as the page's JSON.
    pub fn json(&self) -> String {
        let queries = self.queries.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::to_string(&serde_json::json!({ "queries": &*queries }))
            .expect("queries serialize")
    }
}

fn push(q: &mut QueryInfo, p: &QueryProgress) {
    if q.progress.len() == RETAINED_PROGRESS {
        q.progress.pop_front();
    }
    q.progress
        .push_back(serde_json::from_str(&p.json()).expect("progress is JSON"));
    q.batches += 1;
    q.idle_since = None;
}

impl StreamingQueryListener for Store {
    fn on_query_started(&self, e: &QueryStartedEvent) {
        self.add(e, Vec::new());
    }
    fn on_query_progress(&self, e: &QueryProgressEvent) {
        self.with_query(&e.progress.run_id, |q| push(q, &e.progress));
        self.metrics.progress(&e.progress);
    }
    fn on_query_idle(&self, e: &QueryIdleEvent) {
        self.with_query(&e.run_id, |q| q.idle_since = Some(e.timestamp.clone()));
    }
    fn on_query_terminated(&self, e: &QueryTerminatedEvent) {
        let mut label = None;
        self.with_query(&e.run_id, |q| {
            q.status = if e.exception.is_some() {
                "failed"
            } else {
                "finished"
            };
            q.exception = e.exception.clone();
            q.error_class = e.error_class_on_exception.clone();
            q.idle_since = None;
            label = Some(crate::ui::metrics::label(q.name.as_deref(), &q.id));
        });
        if let Some(label) = label {
            self.metrics.remove(&label);
        }
    }
}

//! A live web UI and a Prometheus endpoint for the queries of a [`Session`], served by the
//! application on `127.0.0.1` (Spark's Structured Streaming tab and its `PrometheusServlet`).
//!
//! Opt in with the `ui` feature, then give the session a port (or run the application with
//! `--ui-port PORT`):
//!
//! ```no_run
//! use stream_runtime::prelude::*;
//!
//! # fn main() -> Result<(), StreamError> {
//! let session = Session::from_args()?.ui_port(4040)?; // http://127.0.0.1:4040/ and /metrics
//! // ... start queries on `session`; the UI serves while a clone of `session` lives.
//! # Ok(())
//! # }
//! ```
//!
//! [`Ui::serve`] serves it for as long as the returned value lives instead.
//!
//! - `/` the page: active and finished queries (with the error of a failed one) and, for the
//!   selected query, charts that update every second: input and process rate, batch duration
//!   by phase, state rows and memory per operator, the watermark's gap to the batch's wall
//!   time, rows dropped by the watermark; and a table of recent batches.
//! - `/api/queries` the same as JSON (the last 100 progress reports of the last 100 queries).
//! - `/metrics` Prometheus' text format (see [`metrics::SPARK_GAUGES`]).

pub mod metrics;
mod store;

use crate::listener::{ListenerId, QueryStartedEvent};
use crate::{Session, StreamError};
use metrics::Metrics;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use store::Store;

const INDEX_HTML: &str = include_str!("assets/index.html");
const UI_JS: &str = include_str!("assets/ui.js");
const UI_CSS: &str = include_str!("assets/ui.css");

/// The UI of a session, served while this value lives (its port closes a moment after it is
/// dropped).
#[must_use = "the UI stops when this value is dropped"]
pub struct Ui {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    session: Session,
    listener: ListenerId,
    addr: SocketAddr,
}

impl Ui {
    /// Serves the UI of `session`'s queries on `127.0.0.1:port` (0: any free port; see
    /// [`Ui::url`]). Queries already active are listed too; the page and `/metrics` follow
    /// every query the session starts from now on.
    pub fn serve(session: &Session, port: u16) -> Result<Ui, StreamError> {
        let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
            StreamError::Config(format!(
                "cannot serve the UI on 127.0.0.1:{port}: {e} (choose another port, or 0 for \
                 any free one)"
            ))
        })?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| StreamError::Config("the UI's server has no IP address".into()))?;
        let metrics = Metrics::default();
        let store = Store::new(metrics.clone());
        let listener = session.add_listener(store.clone());
        for q in session.streams().active() {
            let started = QueryStartedEvent {
                id: q.id().to_string(),
                run_id: q.run_id().to_string(),
                name: q.name().map(str::to_string),
                timestamp: String::new(),
            };
            store.add(&started, q.recent_progress());
        }
        let server = Arc::new(server);
        let thread = {
            let server = server.clone();
            std::thread::Builder::new()
                .name("stream-ui".into())
                .spawn(move || serve(&server, &store, &metrics))
                .map_err(|e| StreamError::Execution(format!("cannot start the UI thread: {e}")))?
        };
        Ok(Ui {
            server,
            thread: Some(thread),
            session: session.clone(),
            listener,
            addr,
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's URL, e.g. `http://127.0.0.1:4040/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// A UI kept by a [`Session`] (and its clones) that serves it.
#[derive(Clone)]
pub(crate) struct Served(Arc<Ui>);

impl Served {
    pub(crate) fn new(ui: Ui) -> Served {
        Served(Arc::new(ui))
    }

    pub(crate) fn url(&self) -> String {
        self.0.url()
    }
}

impl std::fmt::Debug for Served {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ui({})", self.0.addr)
    }
}

// Sessions are equal when they share their UI, as they share their queries.
impl PartialEq for Served {
    fn eq(&self, other: &Served) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Served {}

impl Drop for Ui {
    fn drop(&mut self) {
        self.session.remove_listener(self.listener);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers requests until the server is unblocked.
fn serve(server: &tiny_http::Server, store: &Store, metrics: &Metrics) {
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("/").to_string();
        let (body, content_type, status) = match (request.method(), path.as_str()) {
            (tiny_http::Method::Get, "/") => (
                INDEX_HTML.to_string(),
                "text/html; charset=utf-8".into(),
                200,
            ),
            (tiny_http::Method::Get, "/ui.js") => (
                UI_JS.to_string(),
                "text/javascript; charset=utf-8".into(),
                200,
            ),
            (tiny_http::Method::Get, "/ui.css") => {
                (UI_CSS.to_string(), "text/css; charset=utf-8".into(), 200)
            }
            (tiny_http::Method::Get, "/api/queries") => {
                (store.json(), "application/json".into(), 200)
            }
            (tiny_http::Method::Get, "/metrics") => {
                let (text, content_type) = metrics.render();
                (text, content_type, 200)
            }
            _ => (
                "not found\n".to_string(),
                "text/plain; charset=utf-8".into(),
                404,
            ),
        };
        let header =
            tiny_http::Header::from_bytes("Content-Type", content_type).expect("a valid header");
        let response = tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(header);
        // A client that went away is no concern of the server's.
        let _ = request.respond(response);
    }
}

//! # Structured Streaming for Rust
//!
//! Write a Dataset-style pipeline once, inside [`stream!`], and get it type-checked at compile
//! time and run incrementally on timely dataflow and differential dataflow, on one worker thread,
//! many, or a cluster of processes. The model is Apache Spark Structured Streaming: sources,
//! sinks, output modes, triggers and query handles with progress reports.
//!
//! Start with `use stream_runtime::prelude::*;` and the README's quickstart.

// The derive macro's generated code names `::stream_runtime`, also inside this crate.
extern crate self as stream_runtime;

mod dataflow;
pub mod dataset;
mod driver;
pub mod error;
pub mod handle;
pub mod join;
mod metrics;
pub mod progress;
pub mod query;
pub mod session;
pub mod sink;
pub mod source;
pub mod time;
pub mod watermark;

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;

pub use dataset::{
    read_stream, window_time, Agg, Dataset, GroupedDataset, Key, KeyCount, SessionDataset,
    SessionGap, WindowedDataset,
};
pub use error::{Result, StreamError};
pub use handle::{QueryStatus, StreamingQuery};
pub use join::{read_static, StaticTable};
pub use metrics::StateStats;
pub use progress::QueryProgress;
pub use query::DataStreamWriter;
pub use session::Session;
pub use stream_core::rules::JoinType;
pub use stream_core::Record;
pub use stream_core::{OutputMode, Timestamp, Trigger, Window, WindowSpec};
pub use stream_macros::{stream, Record};
pub use watermark::{EventTimeStats, WatermarkPolicy};

/// Everything an application needs: `use stream_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::dataset::{read_stream, window_time, Dataset, KeyCount, SessionGap};
    pub use crate::handle::StreamingQuery;
    pub use crate::join::{read_static, StaticTable};
    pub use crate::query::DataStreamWriter;
    pub use crate::session::Session;
    pub use crate::sink::{Console, Foreach, ForeachBatch, MemorySink, Noop};
    pub use crate::source::{Files, Line, MemoryStream, Mode, Rate, RateMicroBatch, RateRow};
    pub use crate::{stream, Record, StreamError};
    pub use stream_core::rules::JoinType;
    pub use stream_core::OutputMode::{self, Append, Complete, Update};
    pub use stream_core::Trigger::{self, AvailableNow, Once};
    pub use stream_core::{Timestamp, Window, WindowSpec};
}

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

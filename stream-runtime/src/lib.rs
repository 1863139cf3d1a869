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

mod checkpoint;
mod console_progress;
mod crash;
mod dataflow;
mod driver;
pub mod error;
pub mod handle;
pub mod inspect;
pub mod listener;
mod metrics;
pub mod plan;
pub mod progress;
pub mod session;
pub mod sink;
pub mod source;
mod state;
pub mod time;
#[cfg(feature = "ui")]
pub mod ui;
pub mod watermark;

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;

pub use error::{Result, StreamError};
pub use handle::{QueryStatus, StreamingQuery};
pub use metrics::{StateOperator, StateStats};
pub use plan::{
    read, read_static, read_stream, tumbling_window, window_time, Agg, DataStreamWriter, Dataset,
    GroupRows, GroupState, GroupedDataset, JoinOn, Key, KeyCount, ListState, MapState,
    ProcessorHandle, SessionDataset, SessionGap, StateDeclarations, StateValue, StatefulProcessor,
    StaticTable, TimeMode, TimerValues, ValueState, WindowedDataset,
};
pub use progress::QueryProgress;
pub use session::{Session, StreamingQueryManager};
pub use stream_core::rules::JoinType;
pub use stream_core::{GroupStateTimeout, Record};
pub use stream_core::{OutputMode, Timestamp, Trigger, Window, WindowSpec};
pub use stream_macros::{main, stream, Record};
pub use watermark::{EventTimeStats, WatermarkPolicy, END_OF_INPUT_WATERMARK_MS};

/// Everything an application needs: `use stream_runtime::prelude::*;`.
pub mod prelude {
    pub use crate::handle::StreamingQuery;
    pub use crate::listener::StreamingQueryListener;
    pub use crate::plan::{
        read, read_static, read_stream, tumbling_window, window_time, DataStreamWriter, Dataset,
        GroupRows, GroupState, JoinOn, KeyCount, ListState, MapState, ProcessorHandle, SessionGap,
        StateDeclarations, StatefulProcessor, StaticTable, TimeMode, TimerValues, ValueState,
    };
    pub use crate::session::Session;
    pub use crate::sink::{Console, Foreach, ForeachBatch, MemorySink, Noop};
    pub use crate::source::{
        Files, Line, MemoryStream, Mode, Rate, RateMicroBatch, RateRow, Socket, TimestampedLine,
    };
    pub use crate::{stream, Record, StreamError};
    pub use stream_core::rules::JoinType;
    pub use stream_core::GroupStateTimeout::{
        self, EventTimeTimeout, NoTimeout, ProcessingTimeTimeout,
    };
    pub use stream_core::OutputMode::{self, Append, Complete, Update};
    pub use stream_core::Trigger::{self, AvailableNow, Once};
    pub use stream_core::{Timestamp, Window, WindowSpec};

    /// `#[stream::main]`, the entry point of an application (see [`crate::main`]).
    pub mod stream {
        pub use stream_macros::main;
    }
}

/// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

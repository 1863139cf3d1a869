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

pub mod error;
pub mod source;
pub mod time;

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;

pub use error::{Result, StreamError};
pub use stream_core::{OutputMode, Timestamp, Trigger};
pub use stream_macros::Record;

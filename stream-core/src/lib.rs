//! The engine-independent heart of Structured Streaming for Rust: row values and schemas,
//! event-time timestamps, Spark-style durations, output modes and triggers, typed aggregate
//! functions, and **the rules** of which query shapes are allowed under which output mode.
//!
//! Nothing here knows timely, differential, threads or files: the `stream!` macro calls the same
//! rules at compile time that the runtime's builder API calls when a query starts.

pub mod agg;
pub mod duration;
pub mod join_rules;
pub mod mode;
pub mod record;
pub mod rules;
pub mod timestamp;
pub mod value;
pub mod window;

pub use agg::{
    avg, count, count_non_null, max, min, sum, AggFn, Aggregates, CountNonNull, Mergeable, Numeric,
};
pub use duration::{parse_duration, DurationError};
pub use mode::{OutputMode, Trigger};
pub use record::{FieldSchema, Record, Schema};
pub use rules::{GroupStateTimeout, PlanShape, RuleError};
pub use timestamp::Timestamp;
pub use value::{DataType, Field, Value};
pub use window::{Window, WindowSpec};

//! Items the macros' generated code refers to. Not a public API: paths may change.

pub use serde;
pub use stream_core::{Field, FieldSchema, Record, Schema, Timestamp, Value};
pub use stream_macros::Record;

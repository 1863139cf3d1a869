//! Row types: the schema of a `#[derive(Record)]` struct and access to its values.

use crate::timestamp::Timestamp;
use crate::value::{DataType, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::hash::Hash;

/// One column of a schema.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSchema {
    /// Column name.
    pub name: &'static str,
    /// Column type.
    pub data_type: DataType,
}

/// The columns of a row type, in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Schema {
    /// The columns.
    pub fields: Vec<FieldSchema>,
    /// The column marked `#[event_time]`, if any.
    pub event_time: Option<&'static str>,
}

impl Schema {
    /// Column names in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
    /// The column called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A row type of a stream: derive it with `#[derive(Record)]`.
///
/// It gives the engine the schema (names and types), the values for sinks, serde for sources,
/// exchange and checkpoints, and a total order and hash for grouping.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a record type",
    note = "add `#[derive(Record)]` to the struct that describes your rows"
)]
pub trait Record:
    Clone + Debug + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The columns of this row type.
    fn schema() -> Schema;
    /// This row's values, in schema order.
    fn values(&self) -> Vec<Value>;
    /// The value of the `#[event_time]` column, if the type has one.
    fn event_time(&self) -> Option<Timestamp> {
        None
    }
    /// The row as one JSON object (timestamps in epoch milliseconds).
    fn to_json(&self) -> String {
        let schema = Self::schema();
        let mut out = String::from("{");
        for (i, (f, v)) in schema.fields.iter().zip(self.values()).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&crate::value::json_string(f.name));
            out.push(':');
            out.push_str(&v.to_json());
        }
        out.push('}');
        out
    }
}

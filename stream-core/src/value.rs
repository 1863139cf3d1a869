//! Column values and their types: what sinks print and what schemas describe.

use crate::timestamp::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// The type of a column, named as Spark names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `boolean`
    Boolean,
    /// `int` / `bigint` (signed integers)
    Integer(&'static str),
    /// Unsigned integers (Spark has none; shown as `bigint`-like `ubigint`).
    Unsigned(&'static str),
    /// `float` / `double`
    Float(&'static str),
    /// `string`
    String,
    /// `timestamp` (epoch milliseconds)
    Timestamp,
    /// A nullable column (`Option<T>`).
    Nullable(Box<DataType>),
    /// An event-time window: `struct<start: timestamp, end: timestamp>`.
    Window,
    /// `binary` (`Vec<u8>`), e.g. a Kafka record's key and value.
    Binary,
    /// `array<T>`, e.g. a Kafka record's headers.
    Array(Box<DataType>),
    /// A nested record (a `#[derive(Record)]` struct as a column): Spark's `struct<..>`.
    Struct(Vec<crate::record::FieldSchema>),
}

impl DataType {
    /// True for integer and floating-point columns.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            DataType::Integer(_) | DataType::Unsigned(_) | DataType::Float(_)
        )
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Boolean => f.write_str("boolean"),
            DataType::Integer(n) | DataType::Unsigned(n) | DataType::Float(n) => f.write_str(n),
            DataType::String => f.write_str("string"),
            DataType::Timestamp => f.write_str("timestamp"),
            DataType::Nullable(t) => write!(f, "{t}"),
            DataType::Window => f.write_str("struct<start:timestamp,end:timestamp>"),
            DataType::Binary => f.write_str("binary"),
            DataType::Array(t) => write!(f, "array<{t}>"),
            DataType::Struct(fields) => {
                f.write_str("struct<")?;
                for (i, c) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{}", c.name, c.data_type)?;
                }
                f.write_str(">")
            }
        }
    }
}

/// One column value of a row, for display and JSON.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// An event-time timestamp.
    Timestamp(Timestamp),
    /// A struct (a window, a nested record), with its field names.
    Struct(Vec<(&'static str, Value)>),
    /// Bytes (a `binary` column).
    Bytes(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
}

impl Value {
    /// The value as JSON (timestamps as epoch milliseconds, NULL as `null`).
    pub fn to_json(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(x) if x.is_finite() => {
                let s = x.to_string();
                if s.contains(['.', 'e', 'E']) {
                    s
                } else {
                    format!("{s}.0")
                }
            }
            Value::Float(x) => format!("\"{x}\""),
            Value::Str(s) => json_string(s),
            Value::Timestamp(t) => t.millis().to_string(),
            Value::Struct(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{}", json_string(k), v.to_json()))
                    .collect();
                format!("{{{}}}", inner.join(","))
            }
            // Spark's `to_json` writes binary as base64.
            Value::Bytes(b) => json_string(&base64(b)),
            Value::Array(items) => {
                let inner: Vec<String> = items.iter().map(Value::to_json).collect();
                format!("[{}]", inner.join(","))
            }
        }
    }
}

/// Standard base64 with padding (RFC 4648), as Spark writes binary values in JSON.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Quotes and escapes `s` as a JSON string.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for Value {
    /// Spark's console rendering: `null`, `true`, `1.0`, `2015-07-15 00:00:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => {
                if x.fract() == 0.0 && x.is_finite() && x.abs() < 1e16 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => f.write_str(s),
            Value::Timestamp(t) => write!(f, "{t}"),
            // Spark shows structs as `{a, b}`.
            Value::Struct(fields) => {
                let inner: Vec<String> = fields.iter().map(|(_, v)| v.to_string()).collect();
                write!(f, "{{{}}}", inner.join(", "))
            }
            // Spark's console shows binary as hex bytes: `[48 69]`.
            Value::Bytes(b) => {
                let hex: Vec<String> = b.iter().map(|x| format!("{x:02X}")).collect();
                write!(f, "[{}]", hex.join(" "))
            }
            Value::Array(items) => {
                let inner: Vec<String> = items.iter().map(Value::to_string).collect();
                write!(f, "[{}]", inner.join(", "))
            }
        }
    }
}

/// A type that can be a column of a [`Record`](crate::Record).
///
/// Besides a type and a value, a column defines a total order and a hash, so that rows can be
/// grouped, sorted and exchanged (floating-point columns order by `total_cmp`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a column of a record",
    label = "this column has type `{Self}`",
    note = "columns are integers, floats, bool, String, Timestamp, Vec<u8> (binary), records (`#[derive(Record)]`) or Option of those"
)]
pub trait Field: Clone + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The column's type.
    fn data_type() -> DataType;
    /// The column's value.
    fn to_value(&self) -> Value;
    /// A total order on values (floats by `total_cmp`).
    fn cmp_field(&self, other: &Self) -> Ordering;
    /// A hash consistent with `cmp_field`.
    fn hash_field<H: Hasher>(&self, state: &mut H);
    /// Whether the value is SQL NULL (`None` of a nullable column); aggregates ignore NULLs.
    fn is_null(&self) -> bool {
        false
    }
}

macro_rules! int_field {
    ($($t:ty => $variant:ident, $dt:ident, $name:literal, $conv:ty;)*) => {$(
        impl Field for $t {
            fn data_type() -> DataType { DataType::$dt($name) }
            fn to_value(&self) -> Value { Value::$variant(*self as $conv) }
            fn cmp_field(&self, other: &Self) -> Ordering { self.cmp(other) }
            fn hash_field<H: Hasher>(&self, state: &mut H) { self.hash(state) }
        }
    )*};
}
int_field! {
    i8 => Int, Integer, "tinyint", i64;
    i16 => Int, Integer, "smallint", i64;
    i32 => Int, Integer, "int", i64;
    i64 => Int, Integer, "bigint", i64;
    isize => Int, Integer, "bigint", i64;
    u8 => UInt, Unsigned, "tinyint unsigned", u64;
    u16 => UInt, Unsigned, "smallint unsigned", u64;
    u32 => UInt, Unsigned, "int unsigned", u64;
    u64 => UInt, Unsigned, "bigint unsigned", u64;
    usize => UInt, Unsigned, "bigint unsigned", u64;
}

macro_rules! float_field {
    ($($t:ty, $name:literal;)*) => {$(
        impl Field for $t {
            fn data_type() -> DataType { DataType::Float($name) }
            fn to_value(&self) -> Value { Value::Float(*self as f64) }
            fn cmp_field(&self, other: &Self) -> Ordering { self.total_cmp(other) }
            fn hash_field<H: Hasher>(&self, state: &mut H) { self.to_bits().hash(state) }
        }
    )*};
}
float_field! { f32, "float"; f64, "double"; }

impl Field for bool {
    fn data_type() -> DataType {
        DataType::Boolean
    }
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}

impl Field for String {
    fn data_type() -> DataType {
        DataType::String
    }
    fn to_value(&self) -> Value {
        Value::Str(self.clone())
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}

/// `binary`: raw bytes, ordered as Spark orders binary (unsigned, byte by byte).
impl Field for Vec<u8> {
    fn data_type() -> DataType {
        DataType::Binary
    }
    fn to_value(&self) -> Value {
        Value::Bytes(self.clone())
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}

impl Field for Timestamp {
    fn data_type() -> DataType {
        DataType::Timestamp
    }
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.hash(state)
    }
}

impl<T: Field> Field for Option<T> {
    fn data_type() -> DataType {
        DataType::Nullable(Box::new(T::data_type()))
    }
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, T::to_value)
    }
    fn cmp_field(&self, other: &Self) -> Ordering {
        match (self, other) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a.cmp_field(b),
        }
    }
    fn hash_field<H: Hasher>(&self, state: &mut H) {
        self.is_some().hash(state);
        if let Some(v) = self {
            v.hash_field(state)
        }
    }
    fn is_null(&self) -> bool {
        self.as_ref().is_none_or(T::is_null)
    }
}

/// Wraps a [`Field`] so that it is `Ord` and `Hash` through the field's total order (used for
/// aggregate state such as `min`/`max` of a float column).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
#[serde(transparent)]
#[serde(bound = "")]
pub struct Ordered<T: Field>(pub T);

impl<T: Field> PartialEq for Ordered<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0.cmp_field(&o.0) == Ordering::Equal
    }
}
impl<T: Field> Eq for Ordered<T> {}
impl<T: Field> PartialOrd for Ordered<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T: Field> Ord for Ordered<T> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.cmp_field(&o.0)
    }
}
impl<T: Field> Hash for Ordered<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash_field(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_order_totally_and_render_like_spark() {
        assert_eq!(f64::NAN.cmp_field(&1.0), Ordering::Greater);
        assert_eq!(Value::Float(2.0).to_string(), "2.0");
        assert_eq!(Value::Float(2.5).to_string(), "2.5");
        assert_eq!(Value::Float(3.0).to_json(), "3.0");
        assert_eq!(Value::Str("a\"b".into()).to_json(), r#""a\"b""#);
        assert_eq!(Some(3i64).to_value(), Value::Int(3));
        assert_eq!(None::<i64>.to_value(), Value::Null);
    }

    #[test]
    fn binary_renders_as_spark_does() {
        // Spark: `to_json` of binary is base64; the console shows hex bytes.
        let v = b"Hello".to_vec().to_value();
        assert_eq!(v.to_json(), r#""SGVsbG8=""#);
        assert_eq!(v.to_string(), "[48 65 6C 6C 6F]");
        assert_eq!(Value::Bytes(b"ab".to_vec()).to_json(), r#""YWI=""#);
        assert_eq!(Value::Bytes(b"abc".to_vec()).to_json(), r#""YWJj""#);
        assert_eq!(Value::Bytes(Vec::new()).to_json(), r#""""#);
        assert_eq!(Vec::<u8>::data_type().to_string(), "binary");
        let headers = DataType::Array(Box::new(DataType::Struct(vec![
            crate::record::FieldSchema {
                name: "key",
                data_type: DataType::String,
            },
            crate::record::FieldSchema {
                name: "value",
                data_type: DataType::Binary,
            },
        ])));
        assert_eq!(
            headers.to_string(),
            "array<struct<key:string,value:binary>>"
        );
    }
}

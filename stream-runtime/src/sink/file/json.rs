//! Rows as Spark's JSON writer (Jackson, Spark's defaults) prints them: one object per line,
//! columns in schema order, NULL columns left out (`ignoreNullFields`), timestamps as
//! `2026-01-01T00:00:05.123Z`, structs (windows, nested records) as objects, numbers as Java
//! prints them, and `NaN`/`Infinity` as strings.

use super::text::{iso_millis, java_double, java_float};
use stream_core::{DataType, FieldSchema, Value};

/// Appends one row (`values` of the columns `fields`) and a newline to `out`.
pub(crate) fn write_row(out: &mut String, fields: &[&FieldSchema], values: &[&Value]) {
    out.push('{');
    let mut first = true;
    for (f, v) in fields.iter().zip(values) {
        if matches!(v, Value::Null) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_string(out, f.name);
        out.push(':');
        write_value(out, &f.data_type, v);
    }
    out.push_str("}\n");
}

fn write_value(out: &mut String, data_type: &DataType, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::UInt(u) => out.push_str(&u.to_string()),
        Value::Float(x) => {
            let text = if is_float32(data_type) {
                java_float(*x as f32)
            } else {
                java_double(*x)
            };
            // Jackson's `WRITE_NAN_AS_STRINGS`.
            if x.is_finite() {
                out.push_str(&text);
            } else {
                write_string(out, &text);
            }
        }
        Value::Str(s) => write_string(out, s),
        Value::Timestamp(t) => write_string(out, &iso_millis(*t)),
        // Refused when the query starts (`is_binary_or_array`).
        Value::Bytes(_) | Value::Array(_) => out.push_str("null"),
        Value::Struct(members) => {
            out.push('{');
            let mut first = true;
            for (name, member) in members {
                if matches!(member, Value::Null) {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(out, name);
                out.push(':');
                write_value(out, &member_type(data_type, name), member);
            }
            out.push('}');
        }
    }
}

/// Whether a column is a `float` (an `f32`, printed with `float`'s digits).
fn is_float32(data_type: &DataType) -> bool {
    match data_type {
        DataType::Nullable(t) => is_float32(t),
        DataType::Float(name) => *name == "float",
        _ => false,
    }
}

/// The type of member `name` of a struct column.
pub(crate) fn member_type(data_type: &DataType, name: &str) -> DataType {
    match data_type {
        DataType::Nullable(t) => member_type(t, name),
        DataType::Struct(fields) => fields
            .iter()
            .find(|f| f.name == name)
            .map_or(DataType::String, |f| f.data_type.clone()),
        _ => DataType::Timestamp,
    }
}

/// A JSON string as Jackson writes it: `"` and `\` escaped, control characters as `\n`, `\t`,
/// `\r`, `\b`, `\f` or `\u00XX` (upper-case hex); everything else as it is.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use stream_core::Timestamp;

    fn row(fields: &[FieldSchema], values: &[Value]) -> String {
        let mut out = String::new();
        let fields: Vec<&FieldSchema> = fields.iter().collect();
        let values: Vec<&Value> = values.iter().collect();
        write_row(&mut out, &fields, &values);
        out
    }

    fn col(name: &'static str, data_type: DataType) -> FieldSchema {
        FieldSchema { name, data_type }
    }

    /// Lines Spark 4.3's JSON writer wrote for the same rows (`scripts/pyspark/`).
    // 3.14159 is a value Spark printed, not an approximation of pi.
    #[allow(clippy::approx_constant)]
    #[test]
    fn rows_as_sparks_json_writer_writes_them() {
        let fields = [
            col("d", DataType::Float("double")),
            col("f", DataType::Float("float")),
            col("b", DataType::Nullable(Box::new(DataType::Boolean))),
            col("t", DataType::Timestamp),
            col(
                "l",
                DataType::Nullable(Box::new(DataType::Integer("bigint"))),
            ),
        ];
        let cases = [
            (
                [1e7, 1e7],
                Value::Bool(true),
                1_767_225_605_123,
                Value::Int(1),
                r#"{"d":1.0E7,"f":1.0E7,"b":true,"t":"2026-01-01T00:00:05.123Z","l":1}"#,
            ),
            (
                [1e-4, 1e-4f32 as f64],
                Value::Null,
                1_767_225_600_000,
                Value::Null,
                r#"{"d":1.0E-4,"f":1.0E-4,"t":"2026-01-01T00:00:00.000Z"}"#,
            ),
            (
                [f64::NAN, f64::INFINITY],
                Value::Bool(true),
                -1,
                Value::Int(0),
                r#"{"d":"NaN","f":"Infinity","b":true,"t":"1969-12-31T23:59:59.999Z","l":0}"#,
            ),
            (
                [123456.789, 3.14159f32 as f64],
                Value::Bool(false),
                0,
                Value::Int(9007199254740993),
                r#"{"d":123456.789,"f":3.14159,"b":false,"t":"1970-01-01T00:00:00.000Z","l":9007199254740993}"#,
            ),
        ];
        for ([d, f], b, t, l, spark) in cases {
            let values = [
                Value::Float(d),
                Value::Float(f),
                b,
                Value::Timestamp(Timestamp(t)),
                l,
            ];
            assert_eq!(row(&fields, &values), format!("{spark}\n"));
        }
        let s = [col("s", DataType::Nullable(Box::new(DataType::String)))];
        assert_eq!(
            row(
                &s,
                &[Value::Str(
                    "\u{1}\u{8}\u{c}\u{1f}/\u{2028}\u{7f}<>&'".into()
                )]
            ),
            "{\"s\":\"\\u0001\\b\\f\\u001F/\u{2028}\u{7f}<>&'\"}\n"
        );
        assert_eq!(
            row(&s, &[Value::Str("say \"hi\" \\ \n".into())]),
            "{\"s\":\"say \\\"hi\\\" \\\\ \\n\"}\n"
        );
        assert_eq!(row(&s, &[Value::Null]), "{}\n");
    }

    #[test]
    fn structs_are_objects_without_their_null_members() {
        let rec = DataType::Struct(vec![
            col("a", DataType::Integer("bigint")),
            col("b", DataType::Nullable(Box::new(DataType::String))),
        ]);
        let fields = [
            col("window", DataType::Window),
            col("rec", DataType::Nullable(Box::new(rec))),
            col("n", DataType::Integer("bigint")),
        ];
        let window = Value::Struct(vec![
            ("start", Value::Timestamp(Timestamp(0))),
            ("end", Value::Timestamp(Timestamp(10_000))),
        ]);
        let rec = Value::Struct(vec![("a", Value::Int(1)), ("b", Value::Null)]);
        assert_eq!(
            row(&fields, &[window.clone(), rec, Value::Int(3)]),
            "{\"window\":{\"start\":\"1970-01-01T00:00:00.000Z\",\"end\":\"1970-01-01T00:00:10.000Z\"},\"rec\":{\"a\":1},\"n\":3}\n"
        );
        assert_eq!(
            row(&fields, &[window, Value::Null, Value::Int(4)]),
            "{\"window\":{\"start\":\"1970-01-01T00:00:00.000Z\",\"end\":\"1970-01-01T00:00:10.000Z\"},\"n\":4}\n"
        );
    }
}

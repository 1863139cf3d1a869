//! Rows as Spark's CSV writer (univocity, Spark's defaults) prints them: `,` between fields, no
//! header unless asked, NULL as nothing, an empty string as `""`, timestamps as
//! `2026-01-01T00:00:05.123Z`, numbers as Java prints them. Struct columns (windows, nested
//! records) cannot be written to CSV, as in Spark.

use super::text::{iso_millis, java_double, java_float};
use stream_core::{DataType, FieldSchema, Value};

/// Why a column cannot be a CSV column (Spark's `UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE`).
pub(crate) fn check_column(f: &FieldSchema) -> Result<(), String> {
    let mut t = &f.data_type;
    while let DataType::Nullable(inner) = t {
        t = inner;
    }
    match t {
        DataType::Window | DataType::Struct(_) => Err(format!(
            "the CSV file sink cannot write the column `{}` of type {} (Spark's CSV data source \
             does not support structs either); select its members as columns of their own, or \
             use `Files::json` or `Files::parquet`",
            f.name, f.data_type
        )),
        _ => Ok(()),
    }
}

/// Appends the header line (the column names) to `out`.
pub(crate) fn write_header(out: &mut String, fields: &[&FieldSchema]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_field(out, f.name);
    }
    out.push('\n');
}

/// Appends one row and a newline to `out`.
pub(crate) fn write_row(out: &mut String, fields: &[&FieldSchema], values: &[&Value]) {
    for (i, (f, v)) in fields.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        match v {
            // Spark's `nullValue` (empty): nothing between the delimiters.
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::UInt(u) => out.push_str(&u.to_string()),
            Value::Float(x) => match &f.data_type {
                DataType::Float("float") => out.push_str(&java_float(*x as f32)),
                DataType::Nullable(t) if **t == DataType::Float("float") => {
                    out.push_str(&java_float(*x as f32))
                }
                _ => out.push_str(&java_double(*x)),
            },
            Value::Str(s) => write_field(out, s),
            Value::Timestamp(t) => out.push_str(&iso_millis(*t)),
            // Refused when the query starts (`check_column`, `is_binary_or_array`).
            Value::Struct(_) | Value::Bytes(_) | Value::Array(_) => {}
        }
    }
    out.push('\n');
}

/// One string field as univocity writes it with Spark's settings (quote `"`, escape `\`,
/// `escapeQuotes`, leading and trailing white space dropped, `emptyValue` `""`): characters up
/// to the space (controls included) are trimmed at both ends; what is left is quoted if it
/// holds a quote, the delimiter or a line break, and then a quote is written `\"`, a backslash
/// `\\`, and a carriage return (with the line feed after it, if any) a line feed.
fn write_field(out: &mut String, s: &str) {
    let blank = |c: char| c > '\0' && c <= ' ';
    let s = s.trim_matches(blank);
    if s.is_empty() {
        out.push_str("\"\"");
        return;
    }
    if !s.contains(['"', ',', '\n', '\r']) {
        out.push_str(s);
        return;
    }
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields Spark 4.3's CSV writer wrote for the same strings (`scripts/pyspark/`).
    #[test]
    fn strings_as_sparks_csv_writer_writes_them() {
        let cases = [
            ("plain", "plain"),
            ("", "\"\""),
            (" lead", "lead"),
            ("trail ", "trail"),
            (" both ", "both"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \\\"hi\\\"\""),
            ("\"quoted\"", "\"\\\"quoted\\\"\""),
            ("back\\slash", "back\\slash"),
            ("bs\\\"q", "\"bs\\\\\\\"q\""),
            ("new\nline", "\"new\nline\""),
            ("cr\rx", "\"cr\nx\""),
            ("tab\tx", "tab\tx"),
            ("#hash", "#hash"),
            ("ünï", "ünï"),
            ("x\\", "x\\"),
            ("'single'", "'single'"),
            ("a\\,b", "\"a\\\\,b\""),
            ("\"", "\"\\\"\""),
            ("\"\"", "\"\\\"\\\"\""),
            ("q\"", "\"q\\\"\""),
            (" \"x\" ", "\"\\\"x\\\"\""),
            ("a\r\nb", "\"a\nb\""),
            ("a\n\rb", "\"a\n\nb\""),
            (" a,b ", "\"a,b\""),
            ("\tx", "x"),
            ("x\t", "x"),
            ("a\\\nb", "\"a\\\\\nb\""),
            ("  ", "\"\""),
            ("\u{1}ctl", "ctl"),
            ("x\u{1}", "x"),
            ("é ", "é"),
            ("a\u{a0}", "a\u{a0}"),
            ("\\\"", "\"\\\\\\\"\""),
            ("a\"", "\"a\\\"\""),
            ("mid\\x,", "\"mid\\\\x,\""),
            ("\"a\" b", "\"\\\"a\\\" b\""),
        ];
        for (value, spark) in cases {
            let mut out = String::new();
            write_field(&mut out, value);
            assert_eq!(out, spark, "{value:?}");
        }
    }

    #[test]
    fn rows_as_sparks_csv_writer_writes_them() {
        use stream_core::Timestamp;
        let col = |name, data_type| FieldSchema { name, data_type };
        let nullable = |t| DataType::Nullable(Box::new(t));
        let fields = [
            col("d", DataType::Float("double")),
            col("f", DataType::Float("float")),
            col("b", nullable(DataType::Boolean)),
            col("t", nullable(DataType::Timestamp)),
            col("l", nullable(DataType::Integer("bigint"))),
        ];
        let fields: Vec<&FieldSchema> = fields.iter().collect();
        let mut out = String::new();
        let rows = [
            [
                Value::Float(1e7),
                Value::Float(1e7),
                Value::Bool(true),
                Value::Timestamp(Timestamp(1_767_225_605_123)),
                Value::Int(1),
            ],
            [
                Value::Float(1e-4),
                Value::Float(1e-4f32 as f64),
                Value::Null,
                Value::Timestamp(Timestamp(1_767_225_600_000)),
                Value::Null,
            ],
            [
                Value::Float(f64::NAN),
                Value::Float(f64::INFINITY),
                Value::Bool(true),
                Value::Null,
                Value::Int(9007199254740993),
            ],
        ];
        for r in &rows {
            let values: Vec<&Value> = r.iter().collect();
            write_row(&mut out, &fields, &values);
        }
        assert_eq!(
            out,
            "1.0E7,1.0E7,true,2026-01-01T00:00:05.123Z,1\n\
             1.0E-4,1.0E-4,,2026-01-01T00:00:00.000Z,\n\
             NaN,Infinity,true,,9007199254740993\n"
        );
        let window = col("window", DataType::Window);
        assert!(check_column(&window).unwrap_err().contains("`window`"));
    }
}

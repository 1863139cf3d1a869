//! A record type's columns as PostgreSQL columns: their types, and each value as the text of a
//! query parameter with the SQL expression that casts it.

use stream_core::{DataType, Schema, Value};

/// One PostgreSQL column of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The type `CREATE TABLE` gives it.
    pub sql_type: &'static str,
    pub nullable: bool,
    /// How a parameter's text becomes the value (`{}` is the parameter, e.g. `$3`).
    cast: &'static str,
}

impl Column {
    /// The SQL expression of parameter `$n` as this column's value.
    pub fn param(&self, n: usize) -> String {
        self.cast.replace("{}", &format!("${n}"))
    }
}

/// The columns of a schema: one per field, two per window (`<name>_start`, `<name>_end`; a
/// struct column has no PostgreSQL counterpart a table could be keyed by).
pub fn columns(schema: &Schema) -> Vec<Column> {
    let mut out = Vec::new();
    for f in &schema.fields {
        let (data_type, nullable) = match &f.data_type {
            DataType::Nullable(inner) => (&**inner, true),
            t => (t, false),
        };
        if *data_type == DataType::Window {
            for part in ["start", "end"] {
                out.push(Column {
                    name: format!("{}_{part}", f.name),
                    sql_type: "TIMESTAMPTZ",
                    nullable,
                    cast: "{}::text::timestamptz",
                });
            }
            continue;
        }
        let (sql_type, cast) = match data_type {
            DataType::Boolean => ("BOOLEAN", "{}::text::boolean"),
            DataType::Integer("tinyint" | "smallint") => ("SMALLINT", "{}::text::int8"),
            DataType::Integer("int") => ("INTEGER", "{}::text::int8"),
            DataType::Integer(_) => ("BIGINT", "{}::text::int8"),
            DataType::Unsigned("tinyint unsigned") => ("SMALLINT", "{}::text::numeric"),
            DataType::Unsigned("smallint unsigned") => ("INTEGER", "{}::text::numeric"),
            DataType::Unsigned("int unsigned") => ("BIGINT", "{}::text::numeric"),
            DataType::Unsigned(_) => ("NUMERIC(20, 0)", "{}::text::numeric"),
            DataType::Float("float") => ("REAL", "{}::text::float8"),
            DataType::Float(_) => ("DOUBLE PRECISION", "{}::text::float8"),
            DataType::String => ("TEXT", "{}::text"),
            DataType::Timestamp => ("TIMESTAMPTZ", "{}::text::timestamptz"),
            DataType::Binary => ("BYTEA", "{}::text::bytea"),
            // Nested records and arrays as JSON (Spark's JDBC writer refuses them; JSONB keeps
            // them queryable).
            DataType::Struct(_) | DataType::Array(_) => ("JSONB", "{}::text::jsonb"),
            DataType::Nullable(_) | DataType::Window => ("TEXT", "{}::text"),
        };
        out.push(Column {
            name: f.name.to_string(),
            sql_type,
            nullable,
            cast,
        });
    }
    out
}

/// A row's values (of `schema`) as parameter texts, one per column (`None` for NULL): a
/// window's two bounds are two columns.
pub fn texts(schema: &Schema, values: Vec<Value>, out: &mut Vec<Option<String>>) {
    for (f, v) in schema.fields.iter().zip(values) {
        let window = matches!(&f.data_type, DataType::Window)
            || matches!(&f.data_type, DataType::Nullable(t) if **t == DataType::Window);
        match v {
            Value::Struct(fields) if window => {
                out.extend(fields.into_iter().map(|(_, v)| text(v)));
            }
            v => out.push(text(v)),
        }
    }
}

fn text(v: Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => if f > 0.0 { "Infinity" } else { "-Infinity" }.into(),
        // Rust prints the shortest text that reads back as the same f64.
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s,
        Value::Timestamp(t) => format!("{t}+00"),
        // PostgreSQL's hex format for `bytea`.
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("\\x{hex}")
        }
        Value::Struct(_) | Value::Array(_) => v.to_json(),
    })
}

/// `name` quoted as a PostgreSQL identifier; a dotted name is a schema-qualified one.
pub fn quote(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use stream_runtime::{Record, Timestamp, Window};

    #[derive(Record)]
    struct Row {
        word: String,
        n: i64,
        small: u16,
        big: u64,
        ratio: f64,
        seen: Option<Timestamp>,
        window: Window,
    }

    #[test]
    fn windows_become_two_columns_and_values_texts() {
        let cols = columns(&Row::schema());
        let names: Vec<_> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "word",
                "n",
                "small",
                "big",
                "ratio",
                "seen",
                "window_start",
                "window_end"
            ]
        );
        let types: Vec<_> = cols.iter().map(|c| c.sql_type).collect();
        assert_eq!(
            types,
            [
                "TEXT",
                "BIGINT",
                "INTEGER",
                "NUMERIC(20, 0)",
                "DOUBLE PRECISION",
                "TIMESTAMPTZ",
                "TIMESTAMPTZ",
                "TIMESTAMPTZ"
            ]
        );
        assert!(cols[5].nullable && !cols[0].nullable);
        assert_eq!(cols[3].param(4), "$4::text::numeric");
        let row = Row {
            word: "a".into(),
            n: -3,
            small: 7,
            big: u64::MAX,
            ratio: f64::INFINITY,
            seen: None,
            window: Window {
                start: Timestamp(1_500),
                end: Timestamp(61_500),
            },
        };
        let mut out = Vec::new();
        texts(&Row::schema(), row.values(), &mut out);
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            out,
            [
                s("a"),
                s("-3"),
                s("7"),
                s("18446744073709551615"),
                s("Infinity"),
                None,
                s("1970-01-01 00:00:01.500+00"),
                s("1970-01-01 00:01:01.500+00"),
            ]
        );
        assert_eq!(quote("my.ta\"ble"), "\"my\".\"ta\"\"ble\"");
    }
}

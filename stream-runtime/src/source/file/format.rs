//! Line formats of the file source: JSON lines, CSV and text, one record per line.
//!
//! Each parser turns one line (without its line terminator) into a row of type `T`, or into an
//! error message for the malformed-record handling of the file source.

use csv::ByteRecord;
use serde::de::value::{Error as ValueError, MapDeserializer};
use stream_core::Record;

/// The format of the files of a [`FileSource`](super::FileSource).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// One JSON object per line.
    Json,
    /// Comma- (or `delimiter`-) separated values, one row per line.
    Csv,
    /// Each line is one row of a one-column record (`value: String`).
    Text,
}

/// What one line turned into.
pub(crate) enum Parsed<T> {
    /// A row.
    Row(T),
    /// Nothing (an empty line, or the CSV header).
    Skip,
    /// A malformed record, with the reason.
    Malformed(String),
}

/// Parses the lines of one file. Keeps per-file state (the CSV header) and scratch buffers.
pub(crate) struct LineParser {
    format: Format,
    header: bool,
    delimiter: u8,
    /// The CSV header of this file, once read (`header = true` only).
    headers: Option<ByteRecord>,
    /// The column names of `T`, for CSV error messages by position.
    columns: Vec<&'static str>,
    record: ByteRecord,
    field: Vec<u8>,
}

impl LineParser {
    /// A parser for one file of `format`, reading rows of type `T`.
    pub(crate) fn new<T: Record>(format: Format, header: bool, delimiter: u8) -> Self {
        LineParser {
            format,
            header,
            delimiter,
            headers: None,
            columns: T::schema().names(),
            record: ByteRecord::new(),
            field: Vec::new(),
        }
    }

    /// Parses one line (without the line terminator).
    pub(crate) fn parse<T: Record>(&mut self, line: &[u8]) -> Parsed<T> {
        match self.format {
            Format::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return Parsed::Skip;
                }
                match serde_json::from_slice::<T>(line) {
                    Ok(row) => Parsed::Row(row),
                    Err(e) => Parsed::Malformed(e.to_string()),
                }
            }
            Format::Text => match std::str::from_utf8(line) {
                Ok(text) => match text_row::<T>(text) {
                    Ok(row) => Parsed::Row(row),
                    Err(e) => Parsed::Malformed(e),
                },
                Err(e) => Parsed::Malformed(format!("invalid UTF-8: {e}")),
            },
            Format::Csv => self.parse_csv(line),
        }
    }

    fn parse_csv<T: Record>(&mut self, line: &[u8]) -> Parsed<T> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Skip;
        }
        split_csv_line(line, self.delimiter, &mut self.record, &mut self.field);
        if self.header && self.headers.is_none() {
            self.headers = Some(self.record.clone());
            return Parsed::Skip;
        }
        let expected = match &self.headers {
            Some(h) => h.len(),
            None => self.columns.len(),
        };
        if self.record.len() != expected {
            let what = if self.headers.is_some() {
                "the header has"
            } else {
                "the record type has"
            };
            return Parsed::Malformed(format!(
                "expected {expected} fields ({what} {expected} columns), found {}",
                self.record.len()
            ));
        }
        match self.record.deserialize::<T>(self.headers.as_ref()) {
            Ok(row) => Parsed::Row(row),
            Err(e) => Parsed::Malformed(self.csv_error(e)),
        }
    }

    /// A CSV deserialization error, naming the column.
    fn csv_error(&self, e: csv::Error) -> String {
        if let csv::ErrorKind::Deserialize { err, .. } = e.kind() {
            if let Some(i) = err.field() {
                let name = match &self.headers {
                    Some(h) => h
                        .get(i as usize)
                        .map(|n| String::from_utf8_lossy(n).into_owned()),
                    None => self.columns.get(i as usize).map(|n| n.to_string()),
                };
                if let Some(name) = name {
                    return format!("column `{name}` (field {}): {}", i + 1, err.kind());
                }
            }
            return err.kind().to_string();
        }
        e.to_string()
    }
}

/// Deserializes a text line as the record `{"value": line}`.
fn text_row<T: Record>(line: &str) -> Result<T, String> {
    let map = MapDeserializer::<_, ValueError>::new(std::iter::once(("value", line)));
    T::deserialize(map).map_err(|e| e.to_string())
}

/// Splits one CSV line into fields, as the `csv` crate reads a record that fits on one line
/// (Spark's default `multiLine = false`): fields are separated by `delimiter`; a field that
/// starts with `"` is quoted, may contain the delimiter, and writes `""` for a quote; text
/// after the closing quote is kept; an unterminated quote runs to the end of the line.
pub(crate) fn split_csv_line(
    line: &[u8],
    delimiter: u8,
    record: &mut ByteRecord,
    field: &mut Vec<u8>,
) {
    record.clear();
    let mut i = 0;
    loop {
        field.clear();
        if line.get(i) == Some(&b'"') {
            // Quoted field.
            i += 1;
            while i < line.len() {
                if line[i] == b'"' {
                    if line.get(i + 1) == Some(&b'"') {
                        field.push(b'"');
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    field.push(line[i]);
                    i += 1;
                }
            }
        }
        // Unquoted field, or the rest of a quoted one after its closing quote.
        while i < line.len() && line[i] != delimiter {
            field.push(line[i]);
            i += 1;
        }
        record.push_field(field);
        if i >= line.len() {
            return;
        }
        i += 1; // the delimiter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str, delimiter: u8) -> Vec<String> {
        let (mut record, mut field) = (ByteRecord::new(), Vec::new());
        split_csv_line(line.as_bytes(), delimiter, &mut record, &mut field);
        record
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    /// The same line read by the `csv` crate's own reader.
    fn csv_crate(line: &str, delimiter: u8) -> Vec<String> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(line.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        rec.iter().map(str::to_string).collect()
    }

    #[test]
    fn split_hand_worked() {
        assert_eq!(split("a,b,c", b','), ["a", "b", "c"]);
        assert_eq!(split("a,,", b','), ["a", "", ""]);
        assert_eq!(split(",", b','), ["", ""]);
        assert_eq!(split("\"x,y\",z", b','), ["x,y", "z"]);
        assert_eq!(split("\"say \"\"hi\"\"\"", b','), ["say \"hi\""]);
        assert_eq!(split("a;b,c", b';'), ["a", "b,c"]);
        assert_eq!(split("a\tb", b'\t'), ["a", "b"]);
        assert_eq!(split("\"open,end", b','), ["open,end"]);
        assert_eq!(split("\"q\"tail,x", b','), ["qtail", "x"]);
        assert_eq!(split("mid\"quote,x", b','), ["mid\"quote", "x"]);
    }

    #[test]
    fn split_agrees_with_csv_crate() {
        let lines = [
            "a,b,c",
            "1,2",
            "a,,",
            "\"x,y\",z",
            "\"say \"\"hi\"\"\",2",
            "\"q\"tail,x",
            "mid\"quote,x",
            "  spaced , fields ",
            "héllo,wörld,\"ünï,cödé\"",
            "\"\",\"\"",
            "\"open,end",
            "x,\"\"\"\"",
        ];
        for line in lines {
            for d in [b',', b';', b'\t', b'|'] {
                assert_eq!(
                    split(line, d),
                    csv_crate(line, d),
                    "line {line:?} delimiter {d}"
                );
            }
        }
    }
}

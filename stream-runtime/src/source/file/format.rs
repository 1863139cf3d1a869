//! Line formats of the file source: JSON lines, CSV and text, one record per line.
//!
//! Each parser turns one line (without its line terminator) into a row of type `T`, or into an
//! error message for the malformed-record handling of the file source.

use csv::ByteRecord;
use serde::de::value::{Error as ValueError, MapDeserializer};
use stream_core::timestamp::{with_text_timestamps, TextTimestamps};
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
    /// Apache Parquet (the `parquet` feature).
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Format {
    /// Spark's name of the format.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Text => "text",
            #[cfg(feature = "parquet")]
            Format::Parquet => "parquet",
        }
    }

    /// The extension of the files a sink writes, as Spark names them (`c000.<ext>`).
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Text => "txt",
            #[cfg(feature = "parquet")]
            Format::Parquet => "snappy.parquet",
        }
    }
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

/// The CSV options of a file source (Spark's `header`, `sep` and `escape`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CsvOptions {
    /// Whether the first line of each file is a header (skipped).
    pub header: bool,
    /// The field delimiter.
    pub delimiter: u8,
    /// The character that escapes a quote inside a quoted field (`0`: none).
    pub escape: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        // Spark's defaults (`CSVOptions.scala`): no header, `,`, and `\` as the escape.
        CsvOptions {
            header: false,
            delimiter: b',',
            escape: b'\\',
        }
    }
}

/// Parses the lines of one file. Keeps per-file state (whether the CSV header was seen) and
/// scratch buffers.
pub(crate) struct LineParser {
    format: Format,
    csv: CsvOptions,
    /// Whether this file's CSV header line is still to come (`header = true` only).
    header_pending: bool,
    /// Spark's warning about this file's CSV header, if it does not match the schema.
    header_warning: Option<String>,
    /// The column names of `T`, for CSV error messages by position.
    columns: Vec<&'static str>,
    /// The values this file's partition directories give (`col=value/`), as JSON, by column
    /// index in `T`'s schema: the file does not hold these columns.
    partitions: Vec<(usize, serde_json::Value)>,
    record: ByteRecord,
    field: Vec<u8>,
}

impl LineParser {
    /// A parser for one file of `format`, reading rows of type `T`.
    pub(crate) fn new<T: Record>(format: Format, csv: CsvOptions) -> Self {
        LineParser {
            format,
            csv,
            header_pending: csv.header,
            header_warning: None,
            columns: T::schema().names(),
            partitions: Vec::new(),
            record: ByteRecord::new(),
            field: Vec::new(),
        }
    }

    /// The parser of a file whose directories give these partition values (columns `T` does
    /// not have are ignored).
    pub(crate) fn with_partitions<T: Record>(
        mut self,
        values: Vec<(String, Option<String>)>,
    ) -> Self {
        self.partitions = partition_json::<T>(values);
        self
    }

    /// The warning Spark logs when a CSV header does not match the schema (its names or their
    /// number), taken once.
    pub(crate) fn take_header_warning(&mut self) -> Option<String> {
        self.header_warning.take()
    }

    /// Parses one line (without the line terminator).
    pub(crate) fn parse<T: Record>(&mut self, line: &[u8]) -> Parsed<T> {
        match self.format {
            Format::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return Parsed::Skip;
                }
                // Spark's JSON reader: a number in a timestamp column is epoch seconds.
                match with_text_timestamps(TextTimestamps::SparkJson, || {
                    if self.partitions.is_empty() {
                        return serde_json::from_slice::<T>(line);
                    }
                    let mut row: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_slice(line)?;
                    for (i, v) in &self.partitions {
                        row.insert(self.columns[*i].to_string(), v.clone());
                    }
                    serde_json::from_value::<T>(row.into())
                }) {
                    Ok(row) => Parsed::Row(row),
                    Err(e) => Parsed::Malformed(e.to_string()),
                }
            }
            // Spark's text reader keeps every line: bytes that are not UTF-8 become U+FFFD.
            Format::Text => match text_row::<T>(&String::from_utf8_lossy(line)) {
                Ok(row) => Parsed::Row(row),
                Err(e) => Parsed::Malformed(e),
            },
            Format::Csv => self.parse_csv(line),
            #[cfg(feature = "parquet")]
            Format::Parquet => Parsed::Malformed("a Parquet file has no lines".into()),
        }
    }

    fn parse_csv<T: Record>(&mut self, line: &[u8]) -> Parsed<T> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Skip;
        }
        split_csv_line(
            line,
            self.csv.delimiter,
            self.csv.escape,
            &mut self.record,
            &mut self.field,
        );
        if self.header_pending {
            // Spark's default `enforceSchema = true` (`CSVHeaderChecker.scala`): the header is
            // skipped and fields map to the schema by position; a header that does not match
            // the schema is only a warning.
            self.header_pending = false;
            self.header_warning = self.check_header();
            return Parsed::Skip;
        }
        if !self.partitions.is_empty() {
            self.insert_partitions();
        }
        let expected = self.columns.len();
        if self.record.len() != expected {
            return Parsed::Malformed(format!(
                "expected {expected} fields (the record type has {expected} columns), found {}",
                self.record.len()
            ));
        }
        // Spark's CSV reader: a timestamp field is a timestamp string.
        match with_text_timestamps(TextTimestamps::SparkCsv, || {
            self.record.deserialize::<T>(None)
        }) {
            Ok(row) => Parsed::Row(row),
            Err(e) => Parsed::Malformed(self.csv_error(e)),
        }
    }

    /// Puts the partition values among the fields of `self.record`, at their columns' places
    /// (a partitioned CSV file holds the other columns, in order).
    fn insert_partitions(&mut self) {
        let data = std::mem::take(&mut self.record);
        let mut fields = data.iter();
        for i in 0..self.columns.len() {
            match self.partitions.iter().find(|(p, _)| *p == i) {
                Some((_, serde_json::Value::String(v))) => self.record.push_field(v.as_bytes()),
                Some((_, serde_json::Value::Null)) => self.record.push_field(b""),
                Some((_, v)) => self.record.push_field(v.to_string().as_bytes()),
                None => {
                    if let Some(f) = fields.next() {
                        self.record.push_field(f);
                    }
                }
            }
        }
        // Extra fields: the count check below reports them.
        fields.for_each(|f| self.record.push_field(f));
    }

    /// Spark's warning for a header (in `self.record`) that does not match the schema: another
    /// number of columns, or another name at a position (compared case-insensitively, as with
    /// Spark's default `spark.sql.caseSensitive = false`).
    fn check_header(&self) -> Option<String> {
        let names: Vec<String> = self
            .record
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        if names.len() != self.columns.len() {
            return Some(format!(
                "Number of column in CSV header is not equal to number of fields in the schema: \
                 Header length: {}, schema size: {}",
                names.len(),
                self.columns.len()
            ));
        }
        let differs = names
            .iter()
            .zip(&self.columns)
            .find(|(h, c)| !h.eq_ignore_ascii_case(c));
        differs.map(|(found, expected)| {
            format!(
                "CSV header does not conform to the schema. Header: {}; Schema: {}; Expected: \
                 {expected} but found: {found}",
                names.join(", "),
                self.columns.join(", ")
            )
        })
    }

    /// A CSV deserialization error, naming the column.
    fn csv_error(&self, e: csv::Error) -> String {
        if let csv::ErrorKind::Deserialize { err, .. } = e.kind() {
            if let Some(i) = err.field() {
                if let Some(name) = self.columns.get(i as usize) {
                    return format!("column `{name}` (field {}): {}", i + 1, err.kind());
                }
            }
            return err.kind().to_string();
        }
        e.to_string()
    }
}

/// Partition values (`col`, unescaped text, `None` for NULL) as JSON values of `T`'s columns,
/// by column index: numbers and booleans as such, the rest as strings (a timestamp's text
/// parses as a timestamp string). Columns `T` does not have are left out.
pub(crate) fn partition_json<T: Record>(
    values: Vec<(String, Option<String>)>,
) -> Vec<(usize, serde_json::Value)> {
    use serde_json::Value as J;
    use stream_core::DataType;
    let schema = T::schema();
    values
        .into_iter()
        .filter_map(|(col, text)| {
            let i = schema.fields.iter().position(|f| f.name == col)?;
            let mut t = &schema.fields[i].data_type;
            while let DataType::Nullable(inner) = t {
                t = inner;
            }
            let value = match text {
                None => J::Null,
                Some(text) => match t {
                    DataType::Integer(_) | DataType::Unsigned(_) | DataType::Float(_) => {
                        serde_json::from_str::<serde_json::Number>(&text)
                            .map_or(J::String(text), J::Number)
                    }
                    DataType::Boolean if text == "true" || text == "false" => {
                        J::Bool(text == "true")
                    }
                    _ => J::String(text),
                },
            };
            Some((i, value))
        })
        .collect()
}

/// Deserializes a text line as the record `{"value": line}`.
fn text_row<T: Record>(line: &str) -> Result<T, String> {
    let map = MapDeserializer::<_, ValueError>::new(std::iter::once(("value", line)));
    T::deserialize(map).map_err(|e| e.to_string())
}

/// Splits one CSV line into fields, as Spark's CSV parser (univocity) reads a record that fits
/// on one line (Spark's default `multiLine = false`): fields are separated by `delimiter`; a
/// field that starts with `"` is quoted and may contain the delimiter; inside it, `escape`
/// followed by `"` is a quote, `escape` twice is one `escape` (univocity's default
/// `charToEscapeQuoteEscaping` when the escape is not the quote), and `""` is a quote too;
/// `escape` before anything else is kept. An `escape` of `0` (or `"`) escapes nothing but `""`.
/// Outside quotes nothing is escaped. Text after the closing quote is kept; an unterminated
/// quote runs to the end of the line.
pub(crate) fn split_csv_line(
    line: &[u8],
    delimiter: u8,
    escape: u8,
    record: &mut ByteRecord,
    field: &mut Vec<u8>,
) {
    let escapes = escape != 0 && escape != b'"';
    record.clear();
    let mut i = 0;
    loop {
        field.clear();
        if line.get(i) == Some(&b'"') {
            // Quoted field.
            i += 1;
            while i < line.len() {
                let next = line.get(i + 1).copied();
                if escapes && line[i] == escape && (next == Some(b'"') || next == Some(escape)) {
                    field.push(next.unwrap_or(escape));
                    i += 2;
                } else if line[i] == b'"' {
                    if next == Some(b'"') {
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
        split_esc(line, delimiter, b'\\')
    }

    fn split_esc(line: &str, delimiter: u8, escape: u8) -> Vec<String> {
        let (mut record, mut field) = (ByteRecord::new(), Vec::new());
        split_csv_line(line.as_bytes(), delimiter, escape, &mut record, &mut field);
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
    fn split_escapes_hand_worked() {
        // Spark's default escape `\` (univocity): `\"` and `""` are quotes inside quotes,
        // `\\` is one backslash, a backslash before anything else stays, and nothing is
        // escaped outside quotes.
        assert_eq!(
            split(r#""say \"hi\", bob",1"#, b','),
            ["say \"hi\", bob", "1"]
        );
        assert_eq!(split(r#""a""b",c"#, b','), ["a\"b", "c"]);
        assert_eq!(split(r#""a\\",b"#, b','), ["a\\", "b"]);
        assert_eq!(split(r#""a\nb",c"#, b','), ["a\\nb", "c"]);
        assert_eq!(split(r#""ends\"#, b','), ["ends\\"]);
        assert_eq!(split(r#"a\"b,c"#, b','), ["a\\\"b", "c"]);
        assert_eq!(split(r#""x\"",y"#, b','), ["x\"", "y"]);
        // Another escape, or none.
        assert_eq!(
            split_esc(r#""it's '"quoted'"",1"#, b',', b'\''),
            ["it's \"quoted\"", "1"]
        );
        assert_eq!(
            split_esc(r#""say \"hi\", bob",1"#, b',', 0),
            ["say \\hi\\\"", " bob\"", "1"]
        );
    }

    #[test]
    fn a_header_that_differs_from_the_schema_is_a_warning_only() {
        #[derive(crate::Record)]
        struct Ab {
            a: i64,
            b: i64,
        }
        let header = CsvOptions {
            header: true,
            ..CsvOptions::default()
        };
        let mut warnings = Vec::new();
        for (head, row) in [("A,b", "1,2"), ("b,a", "1,2"), ("x,y,z", "1,2")] {
            let mut p = LineParser::new::<Ab>(Format::Csv, header);
            assert!(matches!(p.parse::<Ab>(head.as_bytes()), Parsed::Skip));
            warnings.push(p.take_header_warning());
            match p.parse::<Ab>(row.as_bytes()) {
                Parsed::Row(r) => assert_eq!((r.a, r.b), (1, 2), "{head}"),
                _ => panic!("{head}: the row is read by position"),
            }
            assert!(p.take_header_warning().is_none());
        }
        // Names compare case-insensitively (Spark's default `caseSensitive = false`).
        assert_eq!(warnings[0], None);
        let w1 = warnings[1].clone().unwrap();
        assert!(w1.contains("Expected: a but found: b"), "{w1}");
        let w2 = warnings[2].clone().unwrap();
        assert!(w2.contains("Header length: 3, schema size: 2"), "{w2}");
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

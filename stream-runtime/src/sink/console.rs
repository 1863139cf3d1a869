//! The console sink: prints each batch as a table, like Spark's `format("console")`.

use super::{BatchInfo, Sink};
use crate::error::Result;
use std::io::Write;
use stream_core::Record;

/// Prints every batch to standard output as Spark does (`numRows` 20, `truncate` true).
#[derive(Clone, Debug)]
pub struct Console {
    num_rows: usize,
    truncate: bool,
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Console {
    /// A console sink showing up to 20 rows per batch, truncating cells to 20 characters.
    pub fn new() -> Self {
        Console {
            num_rows: 20,
            truncate: true,
        }
    }
    /// How many rows to show per batch.
    pub fn num_rows(mut self, n: usize) -> Self {
        self.num_rows = n;
        self
    }
    /// Whether to cut cells longer than 20 characters (and right-align cells, as Spark does).
    pub fn truncate(mut self, truncate: bool) -> Self {
        self.truncate = truncate;
        self
    }

    /// Renders a batch exactly as it is printed.
    pub fn render<T: Record>(&self, batch_id: u64, rows: &[T]) -> String {
        let mut out = String::new();
        out.push_str("-------------------------------------------\n");
        out.push_str(&format!("Batch: {batch_id}\n"));
        out.push_str("-------------------------------------------\n");
        out.push_str(&self.render_table(rows));
        out.push('\n');
        out
    }

    /// Renders rows as a table, as Spark's `Dataset.show` prints them (a batch query's
    /// `show(n)` prints this; the console sink prints it under each batch's header).
    pub fn render_table<T: Record>(&self, rows: &[T]) -> String {
        let mut out = String::new();
        let header: Vec<String> = T::schema().names().iter().map(|s| s.to_string()).collect();
        let cell = |s: String| -> String {
            if self.truncate && s.chars().count() > 20 {
                let head: String = s.chars().take(17).collect();
                format!("{head}...")
            } else {
                s
            }
        };
        let shown: Vec<Vec<String>> = rows
            .iter()
            .take(self.num_rows)
            .map(|r| r.values().iter().map(|v| cell(v.to_string())).collect())
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count().max(3)).collect();
        for row in &shown {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let sep: String = widths.iter().fold(String::from("+"), |mut s, w| {
            s.push_str(&"-".repeat(*w));
            s.push('+');
            s
        });
        let line = |cells: &[String]| -> String {
            let mut s = String::from("|");
            for (c, w) in cells.iter().zip(&widths) {
                let pad = " ".repeat(w - c.chars().count());
                if self.truncate {
                    s.push_str(&pad);
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&pad);
                }
                s.push('|');
            }
            s
        };
        out.push_str(&sep);
        out.push('\n');
        out.push_str(&line(&header));
        out.push('\n');
        out.push_str(&sep);
        out.push('\n');
        for row in &shown {
            out.push_str(&line(row));
            out.push('\n');
        }
        out.push_str(&sep);
        out.push('\n');
        if rows.len() > self.num_rows {
            let n = self.num_rows;
            out.push_str(&format!(
                "only showing top {n} row{}\n",
                if n == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

impl<T: Record> Sink<T> for Console {
    fn description(&self) -> String {
        "ConsoleSink".into()
    }
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        let text = self.render(info.batch_id, &rows);
        // Stdout and stderr may be one terminal: the progress line goes before the table.
        crate::console_progress::clear_line();
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (e.g. piped into `head`) is not a query failure.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate as stream_runtime;
    use stream_runtime::Record;

    #[derive(Record)]
    struct Row {
        word: String,
        count: i64,
    }

    #[test]
    fn renders_like_spark_show() {
        let rows = vec![
            Row {
                word: "spark".into(),
                count: 2,
            },
            Row {
                word: "a-very-long-word-that-is-cut".into(),
                count: 10,
            },
        ];
        let text = Console::new().render(3, &rows);
        let expected = "\
-------------------------------------------
Batch: 3
-------------------------------------------
+--------------------+-----+
|                word|count|
+--------------------+-----+
|               spark|    2|
|a-very-long-word-t...|   10|
+--------------------+-----+

";
        // The long cell is cut to 17 characters plus "...", i.e. 20 characters wide.
        let expected = expected.replace("|a-very-long-word-t...|", "|a-very-long-word-...|");
        assert_eq!(text, expected);
        let text = Console::new().num_rows(1).truncate(false).render(0, &rows);
        assert!(text.contains("|spark|2    |"), "{text}");
        assert!(text.contains("only showing top 1 row\n"), "{text}");
    }
}

//! A PostgreSQL sink for Structured Streaming for Rust, exactly-once.
//!
//! Each batch is one transaction, on the driver: Append inserts the batch's rows, Update
//! upserts them by key (`INSERT ... ON CONFLICT (key) DO UPDATE`), Complete replaces the
//! table's rows with the result table. In the same transaction the sink records `(query id,
//! batch id)` in a commit table; a batch already recorded there (one that ran again after a
//! crash, from the query's checkpoint) is skipped. A batch the database refuses (a constraint
//! violation, a value out of range) fails the query with the database's message, and nothing of
//! it is committed.
//!
//! ```no_run
//! use stream_runtime::prelude::*;
//! use stream_postgres::Postgres;
//!
//! #[derive(Record)]
//! struct Word {
//!     word: String,
//! }
//!
//! # fn main() -> Result<(), StreamError> {
//! let words = MemoryStream::<Word>::new();
//! let query = stream! {
//!     read_stream::<Word>(words.clone())
//!         .group_by(word)
//!         .agg(count() as count)
//!         .write_stream(Postgres::new("postgresql://postgres@127.0.0.1:5432/postgres", "word_counts").key(["word"]))
//!         .output_mode(Update)
//! };
//! let handle = Session::local().start(query.checkpoint_location("checkpoints/word_counts"))?;
//! # Ok(())
//! # }
//! ```
//!
//! Exactly-once needs a checkpoint (`checkpoint_location`): it keeps the query's id, and so the
//! commit table's key, across restarts. The sink writes from the driver, one connection, one
//! transaction a batch; rows are sent as text parameters cast to the columns' types.

mod columns;

use columns::{columns, quote, texts, Column};
use postgres::{Client, NoTls};
use std::marker::PhantomData;
use stream_core::{OutputMode, Record};
use stream_runtime::sink::{BatchInfo, Sink};
use stream_runtime::StreamError;

/// Rows per `INSERT` statement (PostgreSQL takes at most 65535 parameters in one).
const ROWS_PER_STATEMENT: usize = 500;

/// A table of a PostgreSQL database, written by a query (Spark's JDBC sink, through
/// `foreachBatch`, made exactly-once).
pub struct Postgres<T> {
    url: String,
    table: String,
    key: Vec<String>,
    commit_table: String,
    create: bool,
    client: Option<Client>,
    query_id: String,
    columns: Vec<Column>,
    _rows: PhantomData<fn(T)>,
}

impl<T: Record> Postgres<T> {
    /// Writes to `table` of the database at `url` (e.g.
    /// `postgresql://user:password@127.0.0.1:5432/db`, or `host=... user=...`).
    pub fn new(url: &str, table: &str) -> Self {
        Postgres {
            url: url.to_string(),
            table: table.to_string(),
            key: Vec::new(),
            commit_table: "stream_commits".into(),
            create: true,
            client: None,
            query_id: String::new(),
            columns: columns(&T::schema()),
            _rows: PhantomData,
        }
    }

    /// The key columns Update mode upserts by (a window column `w` is `w_start`, `w_end`); the
    /// table needs a unique constraint on them (a table the sink creates has them as its
    /// primary key).
    pub fn key<S: AsRef<str>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.key = columns
            .into_iter()
            .flat_map(|c| {
                let c = c.as_ref();
                let window = [format!("{c}_start"), format!("{c}_end")];
                let has = |name: &str| self.columns.iter().any(|col| col.name == name);
                if !has(c) && window.iter().all(|w| has(w)) {
                    window.to_vec()
                } else {
                    vec![c.to_string()]
                }
            })
            .collect();
        self
    }

    /// The table that records which batches each query committed (default `stream_commits`).
    pub fn commit_table(mut self, table: &str) -> Self {
        self.commit_table = table.to_string();
        self
    }

    /// Whether to create the table when it does not exist (default true): a column per field
    /// of the row type (`NOT NULL` unless an `Option`), the key as primary key.
    pub fn create_table(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    fn error(&self, what: &str, e: &postgres::Error) -> StreamError {
        StreamError::Sink(format!(
            "PostgreSQL table {}: {what}: {}",
            self.table,
            db_message(e)
        ))
    }

    fn client(&mut self) -> Result<&mut Client, StreamError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            let client = Client::connect(&self.url, NoTls).map_err(|e| {
                StreamError::Sink(format!(
                    "cannot connect to PostgreSQL at {}: {}",
                    redact(&self.url),
                    db_message(&e)
                ))
            })?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// The tables, created if they are missing.
    fn prepare(&mut self) -> Result<(), StreamError> {
        let commits = format!(
            "CREATE TABLE IF NOT EXISTS {} (query_id TEXT NOT NULL, batch_id BIGINT NOT NULL, \
             committed_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (query_id, batch_id))",
            quote(&self.commit_table)
        );
        let table = self.create.then(|| {
            let mut defs: Vec<String> = self
                .columns
                .iter()
                .map(|c| {
                    let null = if c.nullable { "" } else { " NOT NULL" };
                    format!("{} {}{null}", quote(&c.name), c.sql_type)
                })
                .collect();
            if !self.key.is_empty() {
                defs.push(format!("PRIMARY KEY ({})", self.key_list()));
            }
            format!(
                "CREATE TABLE IF NOT EXISTS {} ({})",
                quote(&self.table),
                defs.join(", ")
            )
        });
        let client = self.client()?;
        let result = client.batch_execute(&commits).and_then(|()| match &table {
            Some(sql) => client.batch_execute(sql),
            None => Ok(()),
        });
        result.map_err(|e| self.error("cannot create the tables", &e))
    }

    fn key_list(&self) -> String {
        self.key
            .iter()
            .map(|k| quote(k))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The statement inserting `rows` rows (upserting in Update mode).
    fn insert(&self, rows: usize, mode: OutputMode) -> String {
        let width = self.columns.len();
        let names: Vec<String> = self.columns.iter().map(|c| quote(&c.name)).collect();
        let tuples: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> = self
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.param(r * width + i + 1))
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            quote(&self.table),
            names.join(", "),
            tuples.join(", ")
        );
        if mode == OutputMode::Update {
            let set: Vec<String> = self
                .columns
                .iter()
                .filter(|c| !self.key.contains(&c.name))
                .map(|c| format!("{0} = EXCLUDED.{0}", quote(&c.name)))
                .collect();
            if set.is_empty() {
                sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", self.key_list()));
            } else {
                sql.push_str(&format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    self.key_list(),
                    set.join(", ")
                ));
            }
        }
        sql
    }

    /// Writes batch `info` in one transaction; false if the commit table already had it.
    fn write(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<bool, postgres::Error> {
        let schema = T::schema();
        let statements: Vec<(String, Vec<Option<String>>)> = rows
            .chunks(ROWS_PER_STATEMENT)
            .map(|chunk| {
                let mut params = Vec::with_capacity(chunk.len() * self.columns.len());
                for row in chunk {
                    texts(&schema, row.values(), &mut params);
                }
                (self.insert(chunk.len(), info.mode), params)
            })
            .collect();
        let (table, commits, query_id) = (
            quote(&self.table),
            quote(&self.commit_table),
            self.query_id.clone(),
        );
        let batch = info.batch_id as i64;
        let client = self.client.as_mut().expect("connected before writing");
        let mut tx = client.transaction()?;
        let done = tx.query_opt(
            &format!("SELECT 1 FROM {commits} WHERE query_id = $1 AND batch_id = $2"),
            &[&query_id, &batch],
        )?;
        if done.is_some() {
            // Dropping the transaction rolls it back: nothing was written.
            return Ok(false);
        }
        if info.mode == OutputMode::Complete {
            tx.execute(&format!("DELETE FROM {table}"), &[])?;
        }
        for (sql, params) in &statements {
            let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                .iter()
                .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                .collect();
            tx.execute(sql.as_str(), &refs)?;
        }
        tx.execute(
            &format!("INSERT INTO {commits} (query_id, batch_id) VALUES ($1, $2)"),
            &[&query_id, &batch],
        )?;
        tx.commit()?;
        Ok(true)
    }
}

impl<T: Record> Sink<T> for Postgres<T> {
    fn description(&self) -> String {
        format!("PostgresSink[{}]", self.table)
    }

    fn check_mode(&self, mode: OutputMode) -> stream_runtime::Result<()> {
        if mode == OutputMode::Update && self.key.is_empty() {
            return Err(StreamError::Analysis(format!(
                "the PostgreSQL sink of table {} upserts by key in Update mode: name the key \
                 columns with `.key([\"col\", ..])`",
                self.table
            )));
        }
        if let Some(k) = self
            .key
            .iter()
            .find(|k| !self.columns.iter().any(|c| &c.name == *k))
        {
            return Err(StreamError::Analysis(format!(
                "the PostgreSQL sink of table {}: key column `{k}` is not a column of the rows \
                 (they have {})",
                self.table,
                self.columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(())
    }

    fn start(&mut self, query_id: &str) -> stream_runtime::Result<()> {
        self.query_id = query_id.to_string();
        self.prepare()
    }

    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> stream_runtime::Result<()> {
        self.client()?;
        match self.write(info, rows) {
            Ok(_) => Ok(()),
            Err(e) => {
                // A broken connection is reopened for the next attempt (after a restart).
                if self.client.as_ref().is_some_and(Client::is_closed) {
                    self.client = None;
                }
                Err(self.error(
                    &format!(
                        "batch {} failed and nothing of it was committed",
                        info.batch_id
                    ),
                    &e,
                ))
            }
        }
    }
}

/// The database's own message (with its detail and constraint, if any), or the client's.
fn db_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut m = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                m.push_str(&format!(" ({d})"));
            }
            if let Some(c) = db.constraint() {
                m.push_str(&format!(" [constraint {c}]"));
            }
            m
        }
        None => e.to_string(),
    }
}

/// `url` without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::redact("postgresql://u:secret@h:5432/db"),
            "postgresql://u:***@h:5432/db"
        );
        assert_eq!(super::redact("postgresql://u@h/db"), "postgresql://u@h/db");
    }
}

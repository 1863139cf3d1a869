//! The PostgreSQL sink against a real server (Debian's `postgresql`, from `STREAM_PG_URL` or
//! started by `scripts/postgres/start.sh`): Append inserts, Update upserts, Complete replaces;
//! a batch run again is skipped; a restart after a crash between the database's commit and the
//! checkpoint's writes every batch once; a constraint violation fails the batch with the
//! database's message and commits nothing of it. Expected tables are computed naively here.

use postgres::{Client, NoTls};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use stream_postgres::Postgres;
use stream_runtime::prelude::*;
use stream_runtime::sink::{BatchInfo, Sink};

/// The server's URL: `STREAM_PG_URL`, or what the start script prints (it installs and starts
/// PostgreSQL if needed, once for all tests).
fn url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("STREAM_PG_URL") {
            return url;
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres/start.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .expect("run scripts/postgres/start.sh");
        assert!(
            out.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .last()
            .expect("the script prints the URL")
            .trim()
            .to_string()
    })
}

fn client() -> Client {
    Client::connect(url(), NoTls).expect("connect to the test server")
}

/// Fresh names for a test's table and commit table (dropped if a previous run left them).
fn tables(test: &str) -> (String, String) {
    let (t, c) = (
        format!("t_{test}_{}", std::process::id()),
        format!("c_{test}_{}", std::process::id()),
    );
    client()
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {t}; DROP TABLE IF EXISTS {c}"
        ))
        .unwrap();
    (t, c)
}

fn rows_of(sql: &str) -> Vec<(String, i64)> {
    client()
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[derive(Record)]
struct Word {
    word: String,
}

#[derive(Record)]
struct Entry {
    word: String,
    n: i64,
}

fn words(s: &str) -> Vec<Word> {
    s.split_whitespace()
        .map(|w| Word { word: w.into() })
        .collect()
}

/// Counts of the words of every batch, naively.
fn naive_counts(batches: &[&str]) -> Vec<(String, i64)> {
    let mut m = BTreeMap::new();
    for w in batches.iter().flat_map(|b| b.split_whitespace()) {
        *m.entry(w.to_string()).or_insert(0) += 1;
    }
    m.into_iter().collect()
}

const BATCHES: [&str; 3] = ["a b a", "c a", "b d d d"];

/// Runs word counts over [`BATCHES`], a batch each, into table `t` (`Update`: keyed by word).
fn run_counts(mode: OutputMode, t: &str, c: &str) {
    let input = MemoryStream::new();
    // Each `stream!` has a row type of its own: one query per mode.
    let q = if mode == Update {
        Session::local().start(stream! {
            read_stream::<Word>(input.clone())
                .group_by(word)
                .agg(count() as n)
                .write_stream(Postgres::new(url(), t).key(["word"]).commit_table(c))
                .output_mode(Update)
        })
    } else {
        Session::local().start(stream! {
            read_stream::<Word>(input.clone())
                .group_by(word)
                .agg(count() as n)
                .write_stream(Postgres::new(url(), t).commit_table(c))
                .output_mode(Complete)
        })
    }
    .unwrap();
    for b in BATCHES {
        input.add_data(words(b));
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
}

#[test]
fn append_inserts_every_row_once_and_records_each_batch() {
    let (t, c) = tables("append");
    let input = MemoryStream::new();
    let sink = Postgres::<Entry>::new(url(), &t).commit_table(&c);
    let query = read_stream::<Entry>(input.clone()).write_stream(sink);
    let q = Session::local().start(query).unwrap();
    let mut expected = Vec::new();
    for (b, text) in BATCHES.iter().enumerate() {
        let rows: Vec<Entry> = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| Entry {
                word: w.into(),
                n: (b * 10 + i) as i64,
            })
            .collect();
        expected.extend(rows.iter().map(|r| (r.word.clone(), r.n)));
        input.add_data(rows);
        q.process_all_available().unwrap();
    }
    q.stop().unwrap();
    expected.sort();
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t} ORDER BY word, n")),
        expected
    );
    let committed: Vec<(String, i64)> = rows_of(&format!(
        "SELECT query_id, batch_id FROM {c} ORDER BY batch_id"
    ));
    let want: Vec<(String, i64)> = (0..3).map(|b| (q.id().to_string(), b)).collect();
    assert_eq!(committed, want);
}

#[test]
fn update_upserts_by_key() {
    let (t, c) = tables("update");
    run_counts(Update, &t, &c);
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t} ORDER BY word")),
        naive_counts(&BATCHES)
    );
    // The table the sink created has the key as its primary key.
    let pk: i64 = client()
        .query_one(
            "SELECT count(*) FROM information_schema.table_constraints \
             WHERE table_name = $1 AND constraint_type = 'PRIMARY KEY'",
            &[&t],
        )
        .unwrap()
        .get(0);
    assert_eq!(pk, 1);
}

#[test]
fn complete_replaces_the_table() {
    let (t, c) = tables("complete");
    // A stale row from before: Complete mode leaves only the result table.
    client()
        .batch_execute(&format!(
            "CREATE TABLE {t} (word TEXT NOT NULL, n BIGINT NOT NULL); \
             INSERT INTO {t} VALUES ('stale', 99)"
        ))
        .unwrap();
    run_counts(Complete, &t, &c);
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t} ORDER BY word")),
        naive_counts(&BATCHES)
    );
}

#[test]
fn update_without_a_key_or_with_an_unknown_one_is_refused_at_start() {
    let input = MemoryStream::<Word>::new();
    let no_key = stream! {
        read_stream::<Word>(input.clone())
            .group_by(word)
            .agg(count() as n)
            .write_stream(Postgres::new(url(), "never_created"))
            .output_mode(Update)
    };
    let e = Session::local().start(no_key).err().unwrap().to_string();
    assert!(e.contains(".key("), "{e}");
    let bad_key = read_stream::<Entry>(MemoryStream::new())
        .write_stream(Postgres::<Entry>::new(url(), "never_created").key(["wrod"]));
    let e = Session::local().start(bad_key).err().unwrap().to_string();
    assert!(e.contains("`wrod`") && e.contains("word, n"), "{e}");
}

#[test]
fn a_batch_written_again_is_skipped() {
    let (t, c) = tables("rerun");
    let mut sink = Postgres::<Entry>::new(url(), &t).commit_table(&c);
    sink.start("query-1").unwrap();
    let rows = || {
        vec![Entry {
            word: "x".into(),
            n: 1,
        }]
    };
    let info = |batch_id| BatchInfo {
        batch_id,
        mode: OutputMode::Append,
    };
    sink.add_batch(info(0), rows()).unwrap();
    sink.add_batch(info(0), rows()).unwrap();
    sink.add_batch(info(1), rows()).unwrap();
    // Another query's batch 0 is its own.
    let mut other = Postgres::<Entry>::new(url(), &t).commit_table(&c);
    other.start("query-2").unwrap();
    other.add_batch(info(0), rows()).unwrap();
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t}")),
        vec![("x".to_string(), 1); 3]
    );
}

struct Checkpoint(PathBuf);

impl Checkpoint {
    fn new(test: &str) -> Checkpoint {
        let d = std::env::temp_dir().join(format!("pg-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        Checkpoint(d)
    }
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Word counts in Update mode, from files of words in `input`, with a checkpoint.
fn counts_query(input: &std::path::Path, t: &str, c: &str, ck: &Checkpoint) -> StreamingQuery {
    let sink = Postgres::new(url(), t).key(["word"]).commit_table(c);
    let query = stream! {
        read_stream::<Line>(Files::text(input).max_files_per_trigger(1))
            .flat_map(|l: Line| l.value.split_whitespace().map(|w| Word { word: w.into() }).collect::<Vec<_>>())
            .group_by(word)
            .agg(count() as n)
            .write_stream(sink)
            .output_mode(Update)
            .trigger(AvailableNow)
    };
    Session::local()
        .start(query.checkpoint_location(&ck.0))
        .unwrap()
}

fn write_files(dir: &std::path::Path, batches: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, b) in batches.iter().enumerate() {
        let path = dir.join(format!("{i:03}.txt"));
        std::fs::write(&path, format!("{b}\n")).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(i as u64 + 1))
            .unwrap();
    }
}

#[test]
fn a_crash_after_the_database_committed_does_not_write_the_batch_twice() {
    let (t, c) = tables("crash");
    let ck = Checkpoint::new("crash");
    let input = ck.0.with_extension("in");
    let _ = std::fs::remove_dir_all(&input);
    write_files(&input, &BATCHES);
    let q = counts_query(&input, &t, &c, &ck);
    q.await_termination().unwrap();
    let id = q.id().to_string();
    drop(q);
    // The crash: the database has batch 2, the checkpoint never logged its commit.
    std::fs::remove_file(ck.0.join("commits/2")).unwrap();
    // Make a second write of batch 2 visible if it happened: corrupt the table's counts for
    // words batch 2 would upsert ("b" and "d"), which a re-run would overwrite.
    client()
        .batch_execute(&format!("UPDATE {t} SET n = -1 WHERE word IN ('b', 'd')"))
        .unwrap();
    let q = counts_query(&input, &t, &c, &ck);
    q.await_termination().unwrap();
    assert_eq!(q.id(), id, "the checkpoint keeps the query's id");
    let last = q.last_progress().expect("batch 2 ran again");
    assert_eq!(last.batch_id, 2);
    assert_eq!(
        rows_of(&format!(
            "SELECT word, n FROM {t} WHERE word IN ('b', 'd') ORDER BY word"
        )),
        vec![("b".to_string(), -1), ("d".to_string(), -1)],
        "batch 2 was written again"
    );
    let commits: i64 = client()
        .query_one(
            &format!("SELECT count(*) FROM {c} WHERE query_id = $1"),
            &[&id],
        )
        .unwrap()
        .get(0);
    assert_eq!(commits, 3);
    let _ = std::fs::remove_dir_all(&input);
}

#[test]
fn a_constraint_violation_fails_the_batch_whole_and_a_restart_writes_it_once() {
    let (t, c) = tables("violation");
    let ck = Checkpoint::new("violation");
    let input = ck.0.with_extension("in");
    let _ = std::fs::remove_dir_all(&input);
    // The table refuses "d", which comes in batch 2; batch 2 also updates "b".
    client()
        .batch_execute(&format!(
            "CREATE TABLE {t} (word TEXT PRIMARY KEY, n BIGINT NOT NULL, CONSTRAINT no_d CHECK (word <> 'd'))"
        ))
        .unwrap();
    write_files(&input, &BATCHES);
    let q = counts_query(&input, &t, &c, &ck);
    let e = q.await_termination().unwrap_err().to_string();
    assert!(
        e.contains("batch 2") && e.contains("violates check constraint") && e.contains("no_d"),
        "{e}"
    );
    // Batches 0 and 1 are in; nothing of batch 2 ("b" stays 1, no "d").
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t} ORDER BY word")),
        naive_counts(&BATCHES[..2])
    );
    drop(q);
    // Fixed, the query restarts on its checkpoint and writes batch 2, once.
    client()
        .batch_execute(&format!("ALTER TABLE {t} DROP CONSTRAINT no_d"))
        .unwrap();
    let q = counts_query(&input, &t, &c, &ck);
    q.await_termination().unwrap();
    assert_eq!(
        rows_of(&format!("SELECT word, n FROM {t} ORDER BY word")),
        naive_counts(&BATCHES)
    );
    let _ = std::fs::remove_dir_all(&input);
}

#[test]
fn an_unreachable_database_fails_the_query_at_start_naming_it() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://postgres:secret@127.0.0.1:{port}/postgres");
    let input = MemoryStream::<Entry>::new();
    let q = Session::local()
        .start(read_stream::<Entry>(input.clone()).write_stream(Postgres::new(&url, "t")))
        .unwrap();
    let e = q
        .await_termination_timeout(Duration::from_secs(30))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("127.0.0.1:{port}")) && !e.contains("secret"),
        "{e}"
    );
}

/// An `array<string>` column (a `Field` of the test's own: the derive maps no Rust type to an
/// array; Kafka's headers are the runtime's one).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Tags(Vec<String>);

impl stream_core::Field for Tags {
    fn data_type() -> stream_core::DataType {
        stream_core::DataType::Array(Box::new(stream_core::DataType::String))
    }
    fn to_value(&self) -> stream_core::Value {
        stream_core::Value::Array(
            self.0
                .iter()
                .map(|t| stream_core::Value::Str(t.clone()))
                .collect(),
        )
    }
    fn cmp_field(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
    fn hash_field<H: std::hash::Hasher>(&self, state: &mut H) {
        std::hash::Hash::hash(&self.0, state)
    }
}

#[derive(Record)]
struct Address {
    city: String,
    zip: i64,
}

#[derive(Record)]
struct Rich {
    id: i64,
    data: Vec<u8>,
    address: Address,
    tags: Tags,
    note: Option<String>,
    at: Timestamp,
    window: Window,
    ok: bool,
    ratio: f64,
}

#[test]
fn binary_nested_array_and_window_columns_keep_their_values() {
    let (t, c) = tables("types");
    let input = MemoryStream::new();
    let sink = Postgres::<Rich>::new(url(), &t).commit_table(&c);
    let q = Session::local()
        .start(read_stream::<Rich>(input.clone()).write_stream(sink))
        .unwrap();
    let window = |s: i64| Window {
        start: Timestamp(s * 1000),
        end: Timestamp(s * 1000 + 10_000),
    };
    input.add_data([
        Rich {
            id: 1,
            data: vec![0x00, 0xff, 0x10],
            address: Address {
                city: "Zürich \"old\", \\ town".into(),
                zip: 8001,
            },
            tags: Tags(vec!["a".into(), "b,c".into()]),
            note: None,
            at: Timestamp(1_500),
            window: window(0),
            ok: true,
            ratio: 0.1,
        },
        Rich {
            id: 2,
            data: Vec::new(),
            address: Address {
                city: String::new(),
                zip: -1,
            },
            tags: Tags(Vec::new()),
            note: Some("n'1".into()),
            at: Timestamp(-2_000),
            window: window(-10),
            ok: false,
            ratio: -2.5e300,
        },
    ]);
    q.process_all_available().unwrap();
    q.stop().unwrap();
    type Row = (
        i64,
        String,
        String,
        i64,
        i32,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = client()
        .query(
            &format!(
                "SELECT id, encode(data, 'hex'), address->>'city', (address->>'zip')::bigint, \
                 jsonb_array_length(tags), tags->>1, note FROM {t} ORDER BY id"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                1,
                "00ff10".to_string(),
                "Zürich \"old\", \\ town".to_string(),
                8001,
                2,
                Some("b,c".to_string()),
                None
            ),
            (
                2,
                String::new(),
                String::new(),
                -1,
                0,
                None,
                Some("n'1".into())
            ),
        ]
    );
    let times: Vec<(i64, i64, i64, bool, f64)> = client()
        .query(
            &format!(
                "SELECT (extract(epoch from at) * 1000)::bigint, \
                 (extract(epoch from window_start) * 1000)::bigint, \
                 (extract(epoch from window_end) * 1000)::bigint, ok, ratio FROM {t} ORDER BY id"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        times,
        [
            (1_500, 0, 10_000, true, 0.1),
            (-2_000, -10_000, 0, false, -2.5e300)
        ]
    );
    let types: Vec<(String, String)> = client()
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_name = $1 ORDER BY ordinal_position",
            &[&t],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want = [
        ("id", "bigint"),
        ("data", "bytea"),
        ("address", "jsonb"),
        ("tags", "jsonb"),
        ("note", "text"),
        ("at", "timestamp with time zone"),
        ("window_start", "timestamp with time zone"),
        ("window_end", "timestamp with time zone"),
        ("ok", "boolean"),
        ("ratio", "double precision"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, want);
}

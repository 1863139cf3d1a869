//! The web UI in a real browser: Debian's Chromium, headless, driven over the DevTools protocol
//! on a pipe (`--remote-debugging-pipe`: no WebSocket client needed). A running and a failed
//! query are listed, every chart of the running query has data points, and the same page (not
//! reloaded) shows more of them a few seconds later. A screenshot is saved under `target/`
//! (`STREAM_UI_SCREENSHOT=path` saves another copy, e.g. `docs/ui.png` for the README).
//!
//! Chromium comes from `STREAM_CHROMIUM`, or from `scripts/chromium/start.sh`, which installs
//! it if it is missing.

mod ui_support;

use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream_runtime::prelude::*;
use stream_runtime::ui::Ui;
use ui_support::{wait_for, BOUND};

/// The chromium binary: `STREAM_CHROMIUM`, or what the start script prints.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("STREAM_CHROMIUM") {
        return p.into();
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/chromium/start.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/chromium/start.sh");
    assert!(
        out.status.success(),
        "{} failed: chromium is needed for this test",
        script.display()
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("the script prints a path")
            .trim(),
    )
}

/// A headless Chromium and its DevTools pipe.
struct Browser {
    child: Arc<Mutex<Child>>,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
    next_id: u64,
    done: Arc<AtomicBool>,
    profile: PathBuf,
}

impl Browser {
    fn launch() -> Browser {
        let profile =
            std::env::temp_dir().join(format!("stream-ui-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        // The pipe is Chromium's fds 3 (commands in) and 4 (answers out): the shell maps them
        // to our stdin and stdout.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(chromium())
            .args(["--headless", "--no-sandbox", "--disable-gpu"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args([
                "--remote-debugging-pipe",
                "--hide-scrollbars",
                "about:blank",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let to = child.stdin.take().unwrap();
        let from = BufReader::new(child.stdout.take().unwrap());
        let child = Arc::new(Mutex::new(child));
        // A browser that hangs is killed: the test then fails on the closed pipe.
        let done = Arc::new(AtomicBool::new(false));
        {
            let (child, done) = (child.clone(), done.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                while !done.load(Ordering::SeqCst) {
                    if start.elapsed() > BOUND * 4 {
                        let _ = child.lock().unwrap().kill();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
        Browser {
            child,
            to,
            from,
            next_id: 1,
            done,
            profile,
        }
    }

    /// Sends a command (to a page's session, if given) and returns its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("chromium reads commands");
        loop {
            let mut buf = Vec::new();
            let n = self.from.read_until(0, &mut buf).unwrap();
            assert!(n > 0, "chromium closed the pipe during {method}");
            buf.pop();
            let answer: Value = serde_json::from_slice(&buf).unwrap();
            if answer["id"] == json!(id) {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        let mut child = self.child.lock().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// What the page shows, read from its DOM.
const PROBE: &str = r#"JSON.stringify({
  active: [...document.querySelectorAll('#active-queries tbody tr')].map(r => r.innerText),
  finished: [...document.querySelectorAll('#finished-queries tbody tr')].map(r => r.innerText),
  charts: Object.fromEntries([...document.querySelectorAll('figure.chart')]
    .map(f => [f.id, f.querySelectorAll('svg .pt').length])),
  batches: document.querySelectorAll('#batches tbody tr').length,
  title: document.getElementById('detail-title').textContent,
  marker: window.__sameDocument === true,
})"#;

/// What the page shows, or `None` while it is not loaded yet (the probe throws).
fn probe(b: &mut Browser, page: &str) -> Option<Value> {
    let r = b.call(
        Some(page),
        "Runtime.evaluate",
        json!({ "expression": PROBE, "returnByValue": true }),
    );
    serde_json::from_str(r["result"]["value"].as_str()?).ok()
}

fn counts(v: &Value) -> Vec<(String, u64)> {
    let mut c: Vec<_> = v["charts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect();
    c.sort();
    c
}

#[derive(Record)]
struct Reading {
    timestamp: Timestamp,
    value: i64,
}

#[test]
fn the_page_lists_queries_and_its_charts_grow_live() {
    let session = Session::local();
    let ui = Ui::serve(&session, 0).unwrap();
    // Event time follows the wall clock; every 7th row is 10 s late and dropped.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let rate = RateMicroBatch::new(400)
        .start_timestamp(now)
        .advance_millis_per_batch(300);
    let running = session
        .start(stream! {
            read_stream::<RateRow>(rate)
                .map(|r: RateRow| Reading {
                    timestamp: Timestamp(r.timestamp.0 - if r.value % 7 == 0 { 10_000 } else { 0 }),
                    value: r.value,
                })
                .with_watermark(timestamp, "2 seconds")
                .group_by(window(timestamp, "1 second"))
                .agg(count() as n, sum(value) as total)
                .write_stream(Noop)
                .output_mode(Append)
                .trigger(ProcessingTime("300 milliseconds"))
                .query_name("windowed counts")
        })
        .unwrap();
    let failing = session
        .start(stream! {
            read_stream::<RateRow>(RateMicroBatch::new(10))
                .map(|r: RateRow| {
                    assert!(r.value != 25, "value 25 is cursed");
                    r
                })
                .write_stream(Noop)
                .query_name("cursed")
        })
        .unwrap();
    assert!(failing.await_termination_timeout(BOUND).is_err());

    let mut b = Browser::launch();
    let target = b.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target["targetId"], "flatten": true }),
    );
    let page = attached["sessionId"].as_str().unwrap().to_string();
    b.call(
        Some(&page),
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1400, "height": 1500, "deviceScaleFactor": 1, "mobile": false }),
    );
    b.call(Some(&page), "Page.navigate", json!({ "url": ui.url() }));

    // Both queries listed, the failed one with its error; every chart has points.
    let first = wait_for("the page to list both queries and draw every chart", || {
        let v = probe(&mut b, &page)?;
        let listed = v["active"].as_array()?.iter().any(|r| {
            r.as_str()
                .is_some_and(|t| t.contains("windowed counts") && t.contains(running.id()))
        });
        let failed = v["finished"].as_array()?.iter().any(|r| {
            r.as_str().is_some_and(|t| {
                t.contains("cursed") && t.contains("failed") && t.contains("value 25 is cursed")
            })
        });
        let drawn = counts(&v).len() == 6 && counts(&v).iter().all(|(_, n)| *n >= 2);
        (listed && failed && drawn).then_some(v)
    });
    assert!(first["title"].as_str().unwrap().contains("windowed counts"));
    assert!(first["batches"].as_u64().unwrap() >= 2);
    // Mark this document: the next look must find the mark (updated in place, not reloaded).
    b.call(
        Some(&page),
        "Runtime.evaluate",
        json!({ "expression": "window.__sameDocument = true" }),
    );
    let before = counts(&first);
    let later = wait_for("every chart to grow", || {
        let v = probe(&mut b, &page)?;
        let grew = counts(&v).iter().zip(&before).all(|((_, n), (_, m))| n > m);
        grew.then_some(v)
    });
    assert_eq!(later["marker"], json!(true), "the page was reloaded");

    let shot = b.call(
        Some(&page),
        "Page.captureScreenshot",
        json!({ "format": "png" }),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let artifact = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stream-ui/ui.png");
    std::fs::create_dir_all(artifact.parent().unwrap()).unwrap();
    std::fs::write(&artifact, &png).unwrap();
    eprintln!("screenshot: {}", artifact.display());
    if let Some(copy) = std::env::var_os("STREAM_UI_SCREENSHOT") {
        std::fs::write(copy, &png).unwrap();
    }
    b.call(None, "Browser.close", json!({}));
    running.stop().unwrap();
}

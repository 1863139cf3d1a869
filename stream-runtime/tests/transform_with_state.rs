//! `transform_with_state` against hand-worked results: value, list and map state per key,
//! event-time timers (each once, in time order, after the keys with rows), TTL in processing
//! time, and Spark's rules (at start, and a timer without a time mode as a query error naming
//! the key).

use std::time::Duration;
use stream_runtime::prelude::*;

mod steps;

use steps::run_steps;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    #[event_time]
    ts: Timestamp,
}

fn click(user: &str, page: &str, secs: i64) -> Click {
    Click {
        user: user.into(),
        page: page.into(),
        ts: Timestamp(secs * 1000),
    }
}

#[derive(Record)]
struct Summary {
    user: String,
    clicks: i64,
    pages: String,
    top: String,
}

/// Per user: the click count (value), the pages in order (list), clicks per page (map).
#[derive(Default)]
struct Summarize {
    clicks: Option<ValueState<i64>>,
    pages: Option<ListState<String>>,
    per_page: Option<MapState<String, i64>>,
}

impl StatefulProcessor<String, Click, Summary> for Summarize {
    fn init(&mut self, s: &mut StateDeclarations, _: OutputMode, _: TimeMode) {
        self.clicks = Some(s.value_state("clicks", None));
        self.pages = Some(s.list_state("pages", None));
        self.per_page = Some(s.map_state("per_page", None));
    }

    fn handle_input_rows(
        &self,
        user: &String,
        rows: GroupRows<Click>,
        h: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Summary> {
        let (clicks, pages, per_page) = (
            self.clicks.as_ref().unwrap(),
            self.pages.as_ref().unwrap(),
            self.per_page.as_ref().unwrap(),
        );
        let mut rows: Vec<Click> = rows.collect();
        rows.sort_by_key(|c| c.ts);
        for c in rows {
            let n = clicks.get(h).unwrap_or(0);
            clicks.update(h, n + 1);
            pages.append_value(h, c.page.clone());
            let p = per_page.get_value(h, &c.page).unwrap_or(0);
            per_page.update_value(h, &c.page, p + 1);
        }
        let top = per_page
            .iterator(h)
            .into_iter()
            .max_by_key(|(page, n)| (*n, std::cmp::Reverse(page.clone())))
            .map(|(page, _)| page)
            .unwrap_or_default();
        vec![Summary {
            user: user.clone(),
            clicks: clicks.get(h).unwrap_or(0),
            pages: pages.get(h).join(" "),
            top,
        }]
    }
}

#[test]
fn value_list_and_map_state_per_key_on_1_and_2_workers() {
    let steps = [
        vec![
            click("a", "home", 1),
            click("a", "shoes", 2),
            click("b", "home", 3),
        ],
        vec![click("a", "shoes", 4), click("c", "cart", 5)],
    ];
    // Worked by hand.
    let want = [
        vec![("a", 2, "home shoes", "home"), ("b", 1, "home", "home")],
        vec![
            ("a", 3, "home shoes shoes", "shoes"),
            ("c", 1, "cart", "cart"),
        ],
    ];
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let query = read_stream::<Click>(input.clone())
            .group_by_key(|c| c.user.clone())
            .transform_with_state(Summarize::default(), TimeMode::None, Update)
            .write_stream(sink.clone())
            .output_mode(Update);
        let session = Session::with_workers(workers);
        let got = run_steps(session, &input, query, &sink, &steps, |s| {
            (s.user.clone(), s.clicks, s.pages.clone(), s.top.clone())
        });
        let want: Vec<Vec<(String, i64, String, String)>> = want
            .iter()
            .map(|b| {
                b.iter()
                    .map(|(u, n, p, t)| (u.to_string(), *n, p.to_string(), t.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(got, want, "{workers} workers");
    }
}

#[derive(Record)]
struct Fired {
    user: String,
    /// The timer's time in seconds (0 for a row's own output).
    timer_secs: i64,
}

/// A timer 5 s after each click's event time.
struct Timers;

impl StatefulProcessor<String, Click, Fired> for Timers {
    fn init(&mut self, _: &mut StateDeclarations, _: OutputMode, _: TimeMode) {}

    fn handle_input_rows(
        &self,
        _: &String,
        rows: GroupRows<Click>,
        h: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Fired> {
        for c in rows {
            h.register_timer(c.ts.millis() + 5_000);
        }
        Vec::new()
    }

    fn handle_expired_timer(
        &self,
        user: &String,
        _: &mut ProcessorHandle<'_>,
        values: TimerValues,
        timer_ms: i64,
    ) -> Vec<Fired> {
        assert!(timer_ms < values.current_watermark_ms);
        vec![Fired {
            user: user.clone(),
            timer_secs: timer_ms / 1000,
        }]
    }
}

#[test]
fn event_time_timers_fire_once_each_when_the_watermark_passes() {
    // Watermark delay 10 s.
    let steps = [
        // Timers a@6, a@8, b@9; the watermark becomes 3 - 10 < 0 -> 0.
        vec![click("a", "x", 1), click("a", "y", 3), click("b", "x", 4)],
        // Watermark 20 - 10 = 10: a@6, a@8, b@9 fire (in the batch without data that
        // follows); a@25 registered.
        vec![click("a", "z", 20)],
        // Watermark 40 - 10 = 30: a@25 fires; c@45 registered.
        // b@5 is at or below the watermark (10): dropped, so no timer at 10.
        vec![click("c", "x", 40), click("b", "x", 5)],
    ];
    let want = vec![
        vec![],
        vec![
            ("a".to_string(), 6),
            ("a".to_string(), 8),
            ("b".to_string(), 9),
        ],
        vec![("a".to_string(), 25)],
    ];
    for workers in [1, 2] {
        let input = MemoryStream::new();
        let sink = MemorySink::new();
        let source = input.clone();
        let query = stream! {
            read_stream::<Click>(source)
                .with_watermark(ts, "10 seconds")
                .group_by_key(|c: &Click| c.user.clone())
                .transform_with_state(Timers, TimeMode::EventTime, Append)
                .write_stream(sink.clone())
                .output_mode(Append)
        };
        let session = Session::with_workers(workers);
        let got = run_steps(session, &input, query, &sink, &steps, |f| {
            (f.user.clone(), f.timer_secs)
        });
        assert_eq!(got, want, "{workers} workers");
    }
}

/// A value with a 300 ms TTL in processing time.
#[derive(Default)]
struct Remember {
    last: Option<ValueState<String>>,
}

impl StatefulProcessor<String, Click, Fired> for Remember {
    fn init(&mut self, s: &mut StateDeclarations, _: OutputMode, _: TimeMode) {
        self.last = Some(s.value_state("last", Some("300 milliseconds")));
    }

    fn handle_input_rows(
        &self,
        user: &String,
        rows: GroupRows<Click>,
        h: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Fired> {
        let last = self.last.as_ref().unwrap();
        // 1 if the value from before is still there, 0 if it expired (or never was).
        let remembered = i64::from(last.exists(h));
        for c in rows {
            last.update(h, c.page);
        }
        vec![Fired {
            user: user.clone(),
            timer_secs: remembered,
        }]
    }
}

#[test]
fn ttl_expires_values_in_processing_time() {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = read_stream::<Click>(input.clone())
        .group_by_key(|c| c.user.clone())
        .transform_with_state(Remember::default(), TimeMode::ProcessingTime, Update)
        .write_stream(sink.clone())
        .output_mode(Update);
    let q = Session::local().start(query).unwrap();
    let flags = |sink: &MemorySink<Fired>| -> Vec<i64> {
        sink.rows().iter().map(|f| f.timer_secs).collect()
    };
    input.add_data(vec![click("a", "x", 1)]);
    q.process_all_available().unwrap();
    // At once: still there.
    input.add_data(vec![click("a", "y", 2)]);
    q.process_all_available().unwrap();
    assert_eq!(flags(&sink), [0, 1]);
    // After the TTL: gone.
    std::thread::sleep(Duration::from_millis(600));
    input.add_data(vec![click("a", "z", 3)]);
    q.process_all_available().unwrap();
    q.stop().unwrap();
    assert_eq!(flags(&sink), [0, 1, 0]);
}

/// Declares a variable twice, or with a TTL, as the case says.
struct Declares(&'static str);

impl StatefulProcessor<String, Click, Fired> for Declares {
    fn init(&mut self, s: &mut StateDeclarations, _: OutputMode, _: TimeMode) {
        match self.0 {
            "twice" => {
                s.value_state::<i64>("v", None);
                s.list_state::<i64>("v", None);
            }
            "ttl" => {
                s.map_state::<String, i64>("m", Some("1 hour"));
            }
            _ => {}
        }
    }

    fn handle_input_rows(
        &self,
        user: &String,
        _: GroupRows<Click>,
        h: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Fired> {
        if user == "bad" {
            h.register_timer(1_000);
        }
        Vec::new()
    }
}

#[test]
fn spark_rules_at_start_and_while_running() {
    let start = |p: Declares, mode: TimeMode| {
        Session::local().start(
            read_stream::<Click>(MemoryStream::new())
                .group_by_key(|c| c.user.clone())
                .transform_with_state(p, mode, Update)
                .write_stream(MemorySink::new())
                .output_mode(Update),
        )
    };
    let err = start(Declares("twice"), TimeMode::None)
        .err()
        .expect("a duplicate variable is refused")
        .to_string();
    assert!(err.contains("`v` is declared twice"), "{err}");
    for mode in [TimeMode::None, TimeMode::EventTime] {
        let err = start(Declares("ttl"), mode)
            .err()
            .expect("TTL outside processing time is refused")
            .to_string();
        assert!(err.contains("needs TimeMode::ProcessingTime"), "{err}");
    }
    // A timer without a time mode: the query fails naming the key.
    let input = MemoryStream::new();
    let q = Session::local()
        .start(
            read_stream::<Click>(input.clone())
                .group_by_key(|c| c.user.clone())
                .transform_with_state(Declares("none"), TimeMode::None, Update)
                .write_stream(MemorySink::new())
                .output_mode(Update),
        )
        .unwrap();
    input.add_data(vec![click("good", "x", 1), click("bad", "x", 1)]);
    let err = q.process_all_available().unwrap_err().to_string();
    assert!(
        err.contains("\"bad\"") && err.contains("register_timer needs a time mode"),
        "{err}"
    );
}

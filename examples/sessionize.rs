//! Sessionization with `flat_map_groups_with_state` and event-time timeouts (Spark's
//! `StructuredSessionization` example): per user, clicks less than 30 seconds apart form one
//! session; a session is written once the watermark (10 seconds behind the latest click) passes
//! 30 seconds after its last click.
//!
//! Run: `cargo run --release --example sessionize` (built-in click events, no set-up).
//!
//! Each step adds clicks and prints the sessions it closed. Per user the state is the open
//! session; every call sets the key's timeout to the session's last click + 30 s, so the
//! function is called with `has_timed_out()` once the watermark passes it, and writes the
//! session then. A gap of 30 s inside one batch closes a session at once.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    #[event_time]
    ts: Timestamp,
}

/// A closed session.
#[derive(Record)]
struct Session {
    user: String,
    start: Timestamp,
    end: Timestamp,
    clicks: i64,
    pages: String,
}

/// The open session of a user (the state).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Open {
    start: i64,
    last: i64,
    clicks: i64,
    pages: Vec<String>,
}

/// Clicks further apart than this start a new session.
const GAP_MS: i64 = 30_000;

fn closed(user: &str, s: Open) -> Session {
    Session {
        user: user.to_string(),
        start: Timestamp(s.start),
        end: Timestamp(s.last + GAP_MS),
        clicks: s.clicks,
        pages: s.pages.join(" "),
    }
}

/// The function: extends the user's open session with the batch's clicks (in time order),
/// closing it where a gap is longer than `GAP_MS`; on a timeout, closes it.
fn sessionize(
    user: String,
    clicks: GroupRows<Click>,
    state: &mut GroupState<Open>,
) -> Vec<Session> {
    if state.has_timed_out() {
        let session = state.get().cloned();
        state.remove();
        return session.map(|s| closed(&user, s)).into_iter().collect();
    }
    let mut clicks: Vec<Click> = clicks.collect();
    clicks.sort_by_key(|c| c.ts);
    let mut out = Vec::new();
    let mut open = state.get().cloned();
    for c in clicks {
        let t = c.ts.millis();
        match &mut open {
            Some(s) if t <= s.last + GAP_MS => {
                s.start = s.start.min(t);
                s.last = s.last.max(t);
                s.clicks += 1;
                s.pages.push(c.page);
            }
            _ => {
                out.extend(open.take().map(|s| closed(&user, s)));
                open = Some(Open {
                    start: t,
                    last: t,
                    clicks: 1,
                    pages: vec![c.page],
                });
            }
        }
    }
    if let Some(s) = open {
        let timeout = s.last + GAP_MS;
        state.update(s);
        // Never below the watermark (Spark refuses that): a late-arriving session closes at
        // the next batch.
        state.set_timeout_timestamp_ms(timeout.max(state.get_current_watermark_ms()));
    }
    out
}

fn click(user: &str, page: &str, seconds: i64) -> Click {
    Click {
        user: user.into(),
        page: page.into(),
        ts: Timestamp(seconds * 1000),
    }
}

fn main() -> Result<(), StreamError> {
    let input = MemoryStream::new();
    let sink = MemorySink::new();
    let query = stream! {
        read_stream::<Click>(input.clone())
            .with_watermark(ts, "10 seconds")
            .group_by_key(|c: &Click| c.user.clone())
            .flat_map_groups_with_state(Append, EventTimeTimeout, sessionize)
            .write_stream(sink.clone())
            .output_mode(Append)
    }
    .start()?;
    let steps = [
        vec![
            click("ann", "home", 2),
            click("bob", "home", 5),
            click("ann", "shoes", 20),
        ],
        vec![click("ann", "cart", 40), click("bob", "search", 30)],
        // bob's gap from 30 s to 75 s is more than 30 s: his first session closes at once.
        vec![click("bob", "home", 75), click("cid", "home", 80)],
        // cid's gap from 80 s to 120 s closes his first session; then the watermark reaches
        // 110 s, past ann's timeout (last click 40 s + 30 s) and bob's second (105 s).
        vec![click("cid", "help", 120)],
        // The watermark reaches 190 s, past cid's second session's timeout (150 s); dan's
        // session stays open.
        vec![click("dan", "home", 200)],
    ];
    let mut seen = 0;
    for (i, step) in steps.into_iter().enumerate() {
        let shown: Vec<String> = step
            .iter()
            .map(|c| format!("{}:{}@{}s", c.user, c.page, c.ts.millis() / 1000))
            .collect();
        println!("step {i}: clicks {}", shown.join(", "));
        input.add_data(step);
        query.process_all_available()?;
        let rows = sink.rows();
        let mut new: Vec<&Session> = rows[seen..].iter().collect();
        new.sort();
        seen = rows.len();
        for s in new {
            println!(
                "  session {} [{}s, {}s) {} clicks: {}",
                s.user,
                s.start.millis() / 1000,
                s.end.millis() / 1000,
                s.clicks,
                s.pages
            );
        }
    }
    query.stop()?;
    Ok(())
}

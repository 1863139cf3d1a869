//! Session windows (a fixed gap, and a gap per row in milliseconds) in append and complete mode,
//! and `order_by` on an aggregation in complete mode.

use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    page: String,
    idle_ms: i64,
    #[event_time]
    at: Timestamp,
}

fn main() {
    let clicks = MemoryStream::<Click>::new();
    let sessions = stream! {
        read_stream::<Click>(clicks.clone())
            .with_watermark(at, "10 seconds")
            .group_by(session_window(at, "5 minutes"), user)
            .agg(count() as clicks)
            .select(user, session_window.start as start, session_window.end as end, clicks)
            .write_stream(Console::new())
            .output_mode(Append)
    };
    let dynamic = stream! {
        read_stream::<Click>(clicks.clone())
            .with_watermark(at, "10 seconds")
            .group_by(user, session_window(at, idle_ms.max(0) * 2) as visit)
            .agg(count() as clicks, max(at) as last)
            .write_stream(Console::new())
    };
    let sorted = stream! {
        read_stream::<Click>(clicks.clone())
            .group_by(session_window(at, "30 seconds"), user)
            .count()
            .order_by(count.desc(), user, session_window.start)
            .write_stream(Console::new())
            .output_mode(Complete)
    };
    let top_pages = stream! {
        read_stream::<Click>(clicks.clone())
            .group_by(page)
            .agg(count() as views, avg(idle_ms) as mean_idle)
            .order_by(desc(mean_idle), page.asc())
            .write_stream(Console::new())
            .output_mode(Complete)
    };
    let _ = (sessions, dynamic, sorted, top_pages);
}

use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    ts: Timestamp,
}

#[derive(Record)]
struct Session {
    user: String,
    clicks: i64,
}

fn main() {
    // Event-time timeouts after a watermark; an aggregation after an Append-mode operator in
    // Update mode; map in Update.
    let _sessions = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .group_by_key(|c: &Click| c.user.clone())
            .flat_map_groups_with_state(Append, EventTimeTimeout, |user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                if state.has_timed_out() {
                    let clicks = state.get().copied().unwrap_or(0);
                    state.remove();
                    return vec![Session { user, clicks }];
                }
                let clicks = state.get().copied().unwrap_or(0) + rows.len() as i64;
                state.update(clicks);
                state.set_timeout_timestamp_ms(state.get_current_watermark_ms() + 30_000);
                vec![]
            })
            .group_by_key(|s: &Session| s.user.clone())
            .count()
            .write_stream(Console::new())
            .output_mode(Update)
    };
    let _counts = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .map_groups_with_state(|user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>| {
                let clicks = state.get().copied().unwrap_or(0) + rows.len() as i64;
                state.update(clicks);
                Session { user, clicks }
            })
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // transform_with_state with a processor, event-time timers after a watermark.
    let _processor = stream! {
        read_stream::<Click>(MemoryStream::new())
            .with_watermark(ts, "10 seconds")
            .group_by_key(|c: &Click| c.user.clone())
            .transform_with_state(Expire, TimeMode::EventTime, Append)
            .write_stream(Console::new())
            .output_mode(Append)
    };
}

struct Expire;

impl StatefulProcessor<String, Click, Session> for Expire {
    fn init(&mut self, _: &mut StateDeclarations, _: OutputMode, _: TimeMode) {}
    fn handle_input_rows(
        &self,
        _: &String,
        rows: GroupRows<Click>,
        h: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Session> {
        for c in rows {
            h.register_timer(c.ts.millis() + 30_000);
        }
        Vec::new()
    }
    fn handle_expired_timer(
        &self,
        user: &String,
        _: &mut ProcessorHandle<'_>,
        _: TimerValues,
        _: i64,
    ) -> Vec<Session> {
        vec![Session { user: user.clone(), clicks: 0 }]
    }
}

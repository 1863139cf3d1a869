use stream_runtime::prelude::*;

#[derive(Record)]
struct Click {
    user: String,
    ts: Timestamp,
}

#[derive(Record)]
struct Count {
    user: String,
    n: i64,
}

fn count(user: String, rows: GroupRows<Click>, state: &mut GroupState<i64>) -> Count {
    let n = state.get().copied().unwrap_or(0) + rows.len() as i64;
    state.update(n);
    Count { user, n }
}

fn main() {
    // Event-time timeouts need a watermark.
    let _no_watermark = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .map_groups_with_state(EventTimeTimeout, count)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // Not on ungrouped rows.
    let _ungrouped = stream! {
        read_stream::<Click>(MemoryStream::new())
            .map_groups_with_state(NoTimeout, count)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // A typed key, not columns.
    let _columns = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by(user)
            .map_groups_with_state(NoTimeout, count)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // The operator's own mode is Append or Update.
    let _complete = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .flat_map_groups_with_state(Complete, NoTimeout, |u, r, s: &mut GroupState<i64>| Some(count(u, r, s)))
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // An unknown timeout.
    let _timeout = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .map_groups_with_state(EventTime, count)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // transform_with_state: event-time timers need a watermark; Append or Update only.
    let _tws_no_watermark = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .transform_with_state(Noop, TimeMode::EventTime, Update)
            .write_stream(Console::new())
            .output_mode(Update)
    };
    let _tws_complete = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .transform_with_state(Noop, TimeMode::None, Complete)
            .write_stream(Console::new())
            .output_mode(Update)
    };
}

struct Noop;

impl StatefulProcessor<String, Click, Count> for Noop {
    fn init(&mut self, _: &mut StateDeclarations, _: OutputMode, _: TimeMode) {}
    fn handle_input_rows(
        &self,
        _: &String,
        _: GroupRows<Click>,
        _: &mut ProcessorHandle<'_>,
        _: TimerValues,
    ) -> Vec<Count> {
        Vec::new()
    }
}

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
    // map_groups_with_state writes in Update mode only (Append is the default).
    let _map_in_append = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .map_groups_with_state(NoTimeout, count)
            .write_stream(Console::new())
    };
    // The operator's mode and the query's must match when no aggregation follows.
    let _flat_mismatch = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .flat_map_groups_with_state(Update, NoTimeout, |u, r, s: &mut GroupState<i64>| Some(count(u, r, s)))
            .write_stream(Console::new())
            .output_mode(Append)
    };
    // No aggregation before it.
    let _after_aggregation = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .count()
            .group_by_key(|c| c.key.clone())
            .flat_map_groups_with_state(Append, NoTimeout, |user: String, _r: GroupRows<KeyCount<String>>, _s: &mut GroupState<i64>| Some(Count { user, n: 0 }))
            .write_stream(Console::new())
            .output_mode(Update)
    };
    // An aggregation after it, in Append mode.
    let _then_count_in_append = stream! {
        read_stream::<Click>(MemoryStream::new())
            .group_by_key(|c: &Click| c.user.clone())
            .flat_map_groups_with_state(Append, NoTimeout, |u, r, s: &mut GroupState<i64>| Some(count(u, r, s)))
            .group_by_key(|c: &Count| c.user.clone())
            .count()
            .write_stream(Console::new())
            .output_mode(Append)
    };
}

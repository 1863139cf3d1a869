//! The `stream_stream_join` kind: `L.join(R, condition, how)` with each side's watermark, the
//! structured condition `on` (keys, time range, filters), and `left_window` / `right_window`.

use super::{field, text, DynRow, DynRowOut, InRow, Json, Outcome, Val};
use stream_core::{Timestamp, Window, WindowSpec};
use stream_runtime::prelude::*;

/// A side's window projection: the window's name and size.
struct SideWindow {
    name: String,
    spec: WindowSpec,
}

/// One input as the join sees it: its columns (after a window projection), event-time column,
/// and window.
struct Side {
    columns: Vec<String>,
    event_time: Option<String>,
    window: Option<SideWindow>,
}

fn side(scenario: &Json, query: &Json, name: &str) -> Result<Side, String> {
    let schema = scenario["inputs"][name]["schema"]
        .as_str()
        .ok_or(format!("scenario.json: no schema for input `{name}`"))?;
    let mut columns: Vec<String> = schema
        .split(',')
        .filter_map(|c| c.split_whitespace().next().map(String::from))
        .collect();
    let event_time = query
        .get(format!("{name}_event_time"))
        .and_then(|c| c.as_str())
        .map(String::from);
    let window = match query.get(format!("{name}_window")) {
        None => None,
        Some(w) => {
            let size = text(w, "size")?;
            let name = text(w, "as")?;
            let et = event_time
                .clone()
                .ok_or("a window needs the side's event time")?;
            columns.retain(|c| *c != et);
            columns.push(format!("{name}_start"));
            columns.push(format!("{name}_end"));
            let spec = WindowSpec::tumbling(&size).map_err(|e| e.to_string())?;
            Some(SideWindow { name, spec })
        }
    };
    Ok(Side {
        columns,
        event_time,
        window,
    })
}

fn time_of(col: String) -> impl Fn(&InRow) -> Timestamp + Send + Sync + 'static {
    move |r: &InRow| Timestamp(r.0.get(&col).int().unwrap_or(0))
}

fn window_of(name: &str) -> impl Fn(&InRow) -> Window + Send + Sync + 'static {
    let (start, end) = (format!("{name}_start"), format!("{name}_end"));
    move |r: &InRow| Window {
        start: Timestamp(r.0.get(&start).int().unwrap_or(0)),
        end: Timestamp(r.0.get(&end).int().unwrap_or(0)),
    }
}

/// Applies a side's watermark and window projection.
fn prepare(ds: Dataset<InRow>, query: &Json, name: &str, side: &Side) -> Dataset<InRow> {
    let ds = match (
        &side.event_time,
        query
            .get(format!("{name}_watermark"))
            .and_then(|w| w.as_str()),
    ) {
        (Some(et), Some(delay)) => ds.with_watermark_on(et, time_of(et.clone()), delay),
        _ => ds,
    };
    match (&side.window, &side.event_time) {
        (Some(w), Some(et)) => {
            let (spec, name, et) = (w.spec, w.name.clone(), et.clone());
            ds.map(move |InRow(DynRow(cols))| {
                let ts = cols
                    .iter()
                    .find(|(k, _)| *k == et)
                    .and_then(|(_, v)| v.int())
                    .unwrap_or(0);
                let win = spec
                    .windows_of(Timestamp(ts))
                    .next()
                    .expect("a tumbling window");
                let mut cols: Vec<(String, Val)> =
                    cols.into_iter().filter(|(k, _)| *k != et).collect();
                cols.push((format!("{name}_start"), Val::Int(win.start.millis())));
                cols.push((format!("{name}_end"), Val::Int(win.end.millis())));
                InRow(DynRow(cols))
            })
        }
        _ => ds,
    }
}

/// `<side>.<col> <op> <value>`: SQL's comparison, false when either side is NULL.
fn compare(v: &Val, op: &str, lit: &Val) -> bool {
    let same = matches!(
        (v, lit),
        (Val::Int(_), Val::Int(_)) | (Val::Str(_), Val::Str(_)) | (Val::Bool(_), Val::Bool(_))
    );
    if !same {
        return false;
    }
    match op {
        "=" => v == lit,
        "!=" => v != lit,
        "<" => v < lit,
        "<=" => v <= lit,
        ">" => v > lit,
        ">=" => v >= lit,
        _ => false,
    }
}

type Filter = Box<dyn Fn(&InRow) -> bool + Send + Sync>;

fn filters(on: &Json, side: &str) -> Result<Vec<Filter>, String> {
    let mut out: Vec<Filter> = Vec::new();
    for f in on
        .get("filters")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        if text(f, "side")? != side {
            continue;
        }
        let (col, op) = (text(f, "col")?, text(f, "op")?);
        let lit = Val::from_json(field(f, "value")?)?;
        out.push(Box::new(move |r: &InRow| {
            compare(&r.0.get(&col), &op, &lit)
        }));
    }
    Ok(out)
}

/// The query of a `stream_stream_join` scenario.
pub(crate) fn build(
    scenario: &Json,
    left: Dataset<InRow>,
    right: Dataset<InRow>,
) -> Result<Dataset<DynRowOut>, Outcome> {
    build_join(scenario, left, right).map_err(Outcome::Fail)
}

fn build_join(
    scenario: &Json,
    left: Dataset<InRow>,
    right: Dataset<InRow>,
) -> Result<Dataset<DynRowOut>, String> {
    let query = field(scenario, "query")?;
    let how = text(query, "how")?;
    let how = JoinType::parse(&how).ok_or(format!("unknown join `{how}`"))?;
    let (ls, rs) = (
        side(scenario, query, "left")?,
        side(scenario, query, "right")?,
    );
    let left = prepare(left, query, "left", &ls);
    let right = prepare(right, query, "right", &rs);
    let on = field(query, "on")?;
    // Key pairs; a pair of the two windows is window equality.
    let (mut lkeys, mut rkeys, mut windows) = (Vec::new(), Vec::new(), None);
    for pair in field(on, "keys")?
        .as_array()
        .ok_or("`keys` is not a list")?
    {
        let l = pair[0].as_str().ok_or("a key is not a string")?.to_string();
        let r = pair[1].as_str().ok_or("a key is not a string")?.to_string();
        let is_window = |s: &Side, c: &str| s.window.as_ref().is_some_and(|w| w.name == c);
        if is_window(&ls, &l) && is_window(&rs, &r) {
            windows = Some((l, r));
        } else {
            lkeys.push(l);
            rkeys.push(r);
        }
    }
    let key =
        |cols: Vec<String>| move |r: &InRow| cols.iter().map(|c| r.0.get(c)).collect::<Vec<Val>>();
    // A NULL in a key matches nothing (SQL): `Option` marks it for the engine.
    let nullable = |k: Vec<Val>| -> Vec<Option<Val>> {
        k.into_iter()
            .map(|v| Some(v).filter(|v| *v != Val::Null))
            .collect()
    };
    let (lk, rk) = (key(lkeys), key(rkeys));
    let mut cond = JoinOn::keys(
        move |l: &InRow| nullable(lk(l)),
        move |r: &InRow| nullable(rk(r)),
    );
    if let Some(range) = on.get("time_range") {
        let (lc, rc) = (text(range, "left")?, text(range, "right")?);
        cond = cond.time_range(
            (&lc, time_of(lc.clone())),
            (&rc, time_of(rc.clone())),
            &text(range, "lower")?,
            &text(range, "upper")?,
        );
    }
    if let Some((lw, rw)) = windows {
        let let_ = ls.event_time.clone().unwrap_or_default();
        let ret = rs.event_time.clone().unwrap_or_default();
        cond = cond.windows((&let_, window_of(&lw)), (&ret, window_of(&rw)));
    }
    let (lf, rf) = (filters(on, "left")?, filters(on, "right")?);
    if !lf.is_empty() {
        cond = cond.left_filter(move |l| lf.iter().all(|f| f(l)));
    }
    if !rf.is_empty() {
        cond = cond.right_filter(move |r| rf.iter().all(|f| f(r)));
    }
    let (lcols, rcols) = (ls.columns, rs.columns);
    let semi = how == JoinType::LeftSemi;
    let combine = move |l: Option<&InRow>, r: Option<&InRow>| {
        let cols = |row: Option<&InRow>, names: &[String]| -> Vec<(String, Val)> {
            (names.iter())
                .map(|c| (c.clone(), row.map_or(Val::Null, |r| r.0.get(c))))
                .collect()
        };
        let mut out = cols(l, &lcols);
        if !semi {
            out.extend(cols(r, &rcols));
        }
        DynRowOut(DynRow(out))
    };
    Ok(left.join_stream(right, cond, how, combine))
}

/// The kind's windows and filters on a hand-worked scenario (in this folder, not among Spark's
/// recorded ones): batch by batch, on 1 and 2 workers.
#[test]
fn hand_worked_windows_and_filters() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance_kinds/ss_join_windows_filters");
    let text = std::fs::read_to_string(dir.join("scenario.json")).unwrap();
    let scenario: Json = serde_json::from_str(&text).unwrap();
    for pattern in super::WORKER_PATTERNS {
        match super::run(&dir, &scenario, pattern) {
            Outcome::Pass => {}
            Outcome::Fail(why) | Outcome::Skip(why) => {
                panic!("{}: {why}", super::workers_label(pattern))
            }
        }
    }
}

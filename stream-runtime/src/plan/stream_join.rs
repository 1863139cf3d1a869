//! Stream-stream joins (docs/spark-semantics.md 1.8): two streams joined on equal keys, with an
//! optional time range between their event times, equal windows, and filters. Both sides' rows
//! wait in the join's state until the watermark says no row of the other side can match them
//! (Spark's state watermark), so that the state stays bounded; outer joins emit an unmatched
//! row with NULLs for the other side when it leaves the state.

use super::lower::lower_fn;
use super::nulls::has_null;
use super::{Dataset, Key};
use crate::checkpoint::OperatorDescription;
use crate::dataflow;
use crate::error::StreamError;
use std::sync::Arc;
use stream_core::join_rules::{check_stream_stream_join, StreamJoinShape};
use stream_core::rules::JoinType;
use stream_core::{Record, Timestamp, Window};

type Side<T, V> = (String, Arc<dyn Fn(&T) -> V + Send + Sync>);
type Pred<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;
type PairPred<L, R> = Arc<dyn Fn(&L, &R) -> bool + Send + Sync>;
/// The two event-time columns and the bounds (ms) of `right - left`.
type Range<L, R> = (Side<L, Timestamp>, Side<R, Timestamp>, i64, i64);

/// The condition of a stream-stream join: equal keys (required, as in Spark), and optionally a
/// time range between the two event times, equal windows, and filters. Built with
/// [`JoinOn::keys`] and its methods; each part is ANDed to the others.
pub struct JoinOn<L, R, K> {
    left_key: Arc<dyn Fn(&L) -> K + Send + Sync>,
    right_key: Arc<dyn Fn(&R) -> K + Send + Sync>,
    /// `right.time` in `[left.time + lower, left.time + upper]`, both ends included (ms).
    range: Option<Range<L, R>>,
    windows: Option<(Side<L, Window>, Side<R, Window>)>,
    left_filter: Option<Pred<L>>,
    right_filter: Option<Pred<R>>,
    pair_filter: Option<PairPred<L, R>>,
    error: Option<StreamError>,
}

impl<L, R, K> Clone for JoinOn<L, R, K> {
    fn clone(&self) -> Self {
        JoinOn {
            left_key: self.left_key.clone(),
            right_key: self.right_key.clone(),
            range: self.range.clone(),
            windows: self.windows.clone(),
            left_filter: self.left_filter.clone(),
            right_filter: self.right_filter.clone(),
            pair_filter: self.pair_filter.clone(),
            error: self.error.clone(),
        }
    }
}

impl<L, R, K> JoinOn<L, R, K> {
    /// `left_key(l) == right_key(r)`. A key holding a NULL (`None`) matches nothing, as in SQL.
    pub fn keys(
        left_key: impl Fn(&L) -> K + Send + Sync + 'static,
        right_key: impl Fn(&R) -> K + Send + Sync + 'static,
    ) -> Self {
        JoinOn {
            left_key: Arc::new(left_key),
            right_key: Arc::new(right_key),
            range: None,
            windows: None,
            left_filter: None,
            right_filter: None,
            pair_filter: None,
            error: None,
        }
    }

    /// `right.time >= left.time + lower AND right.time <= left.time + upper` (both ends
    /// included, as SQL's comparisons; `lower <= upper`, either may be negative), on the
    /// event-time columns named `left.0` and `right.0`, read by `left.1` and `right.1`.
    /// E.g. Spark's `rts >= lts AND rts <= lts + interval 10 seconds` is lower `"0 seconds"`,
    /// upper `"10 seconds"`; `lts >= rts - interval 1 hour` alone is not a range: give both ends.
    pub fn time_range(
        mut self,
        left: (&str, impl Fn(&L) -> Timestamp + Send + Sync + 'static),
        right: (&str, impl Fn(&R) -> Timestamp + Send + Sync + 'static),
        lower: &str,
        upper: &str,
    ) -> Self {
        let parse = |d: &str| stream_core::parse_duration(d).map_err(StreamError::from);
        match (parse(lower), parse(upper)) {
            (Ok(lo), Ok(hi)) if lo <= hi => {
                let l: Side<L, Timestamp> = (left.0.to_string(), Arc::new(left.1));
                let r: Side<R, Timestamp> = (right.0.to_string(), Arc::new(right.1));
                self.range = Some((l, r, lo, hi));
            }
            (Ok(_), Ok(_)) => {
                self.error.get_or_insert(StreamError::Analysis(format!(
                    "the time range of this join is empty: its lower end `{lower}` is after its \
                     upper end `{upper}`"
                )));
            }
            (Err(e), _) | (_, Err(e)) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// `left.window == right.window`: each side's event-time window (e.g. `window(ts, "10
    /// seconds")` computed after its watermark), read by `left.1` / `right.1`, of the event-time
    /// columns named `left.0` / `right.0` (the columns the watermarks are on).
    pub fn windows(
        mut self,
        left: (&str, impl Fn(&L) -> Window + Send + Sync + 'static),
        right: (&str, impl Fn(&R) -> Window + Send + Sync + 'static),
    ) -> Self {
        self.windows = Some((
            (left.0.to_string(), Arc::new(left.1)),
            (right.0.to_string(), Arc::new(right.1)),
        ));
        self
    }

    /// A condition on the left row alone: in an outer join a left row failing it is unmatched
    /// (it comes out with NULLs), not dropped.
    pub fn left_filter(mut self, f: impl Fn(&L) -> bool + Send + Sync + 'static) -> Self {
        self.left_filter = Some(Arc::new(f));
        self
    }

    /// A condition on the right row alone (see [`left_filter`](JoinOn::left_filter)).
    pub fn right_filter(mut self, f: impl Fn(&R) -> bool + Send + Sync + 'static) -> Self {
        self.right_filter = Some(Arc::new(f));
        self
    }

    /// A condition on both rows of a pair.
    pub fn filter(mut self, f: impl Fn(&L, &R) -> bool + Send + Sync + 'static) -> Self {
        self.pair_filter = Some(Arc::new(f));
        self
    }
}

/// The start of a [`JoinOn`] whose row types are known (see
/// [`Dataset::__join_stream_with`]): closures given to it need no type annotations.
pub struct JoinKeys<L, R>(std::marker::PhantomData<fn(&L, &R)>);

impl<L, R> JoinKeys<L, R> {
    /// [`JoinOn::keys`].
    pub fn keys<K>(
        self,
        left_key: impl Fn(&L) -> K + Send + Sync + 'static,
        right_key: impl Fn(&R) -> K + Send + Sync + 'static,
    ) -> JoinOn<L, R, K> {
        JoinOn::keys(left_key, right_key)
    }
}

impl<L: Record> Dataset<L> {
    /// [`join_stream`](Dataset::join_stream) with the condition built by `on` from the row
    /// types (what `stream!` generates).
    #[doc(hidden)]
    pub fn __join_stream_with<R: Record, K: Key, O: Record>(
        self,
        right: Dataset<R>,
        on: impl FnOnce(JoinKeys<L, R>) -> JoinOn<L, R, K>,
        how: JoinType,
        combine: impl Fn(Option<&L>, Option<&R>) -> O + Send + Sync + 'static,
    ) -> Dataset<O> {
        let on = on(JoinKeys(std::marker::PhantomData));
        self.join_stream(right, on, how, combine)
    }

    /// Joins this stream with another stream (Spark's `left.join(right, condition, how)`):
    /// `Inner`, `LeftOuter`, `RightOuter`, `FullOuter` or `LeftSemi`, in Append output mode.
    /// `combine` makes the output row: for a match `(Some(l), Some(r))`; for an outer side's
    /// row that matched nothing, once it can no longer match (the watermark passed its time
    /// bound), the other side `None`; for `LeftSemi` `(Some(l), None)` once per left row with
    /// a match. Outer and semi joins need a watermark on both inputs (semi: on the right) and a
    /// time range or equal windows, so that rows can leave the state.
    pub fn join_stream<R: Record, K: Key, O: Record>(
        self,
        right: Dataset<R>,
        on: JoinOn<L, R, K>,
        how: JoinType,
        combine: impl Fn(Option<&L>, Option<&R>) -> O + Send + Sync + 'static,
    ) -> Dataset<O> {
        let (left, right) = (self.ensure_unsorted("join"), right.ensure_unsorted("join"));
        let watermarked_l = |c: &str| left.meta.has_watermark_on(Some(c));
        let watermarked_r = |c: &str| right.meta.has_watermark_on(Some(c));
        // The columns whose watermarks bound each side's rows: the range's, else the windows'.
        let range_wm = on
            .range
            .as_ref()
            .map(|(l, r, _, _)| (watermarked_l(&l.0), watermarked_r(&r.0)));
        let window_wm = on
            .windows
            .as_ref()
            .map(|(l, r)| (watermarked_l(&l.0), watermarked_r(&r.0)));
        let any = (
            !left.meta.event_time.is_empty(),
            !right.meta.event_time.is_empty(),
        );
        let (wl, wr) = window_wm.or(range_wm).unwrap_or(any);
        let shape = StreamJoinShape {
            left_watermark: wl,
            right_watermark: wr,
            time_range: on.range.is_some(),
            window_key: on.windows.is_some(),
            aggregation_before: !left.meta.shape.aggregations.is_empty()
                || !right.meta.shape.aggregations.is_empty(),
        };
        let mut error = on.error.clone();
        if let Err(e) = check_stream_stream_join(how, &shape) {
            error.get_or_insert(e.into());
        }
        if left.meta.bounded || right.meta.bounded {
            error.get_or_insert(StreamError::Analysis(
                "join_stream joins two streams (read_stream); join a stream with a bounded \
                 dataset or a static table with join_static"
                    .into(),
            ));
        }
        let joins = left.meta.shape.stream_joins + right.meta.shape.stream_joins + 1;
        let (ops_l, ops_r) = (
            left.meta.operators.join(", "),
            right.meta.operators.join(", "),
        );
        // A bounded side is refused above, with this join's message rather than a union's.
        let mut right_meta = right.meta.clone();
        right_meta.bounded = left.meta.bounded;
        let mut meta = left.meta.clone().merge(right_meta);
        meta.shape.stream_joins = joins;
        meta.operators = vec![format!(
            "{} stream-stream join of [{ops_l}] and [{ops_r}]",
            how.name()
        )];
        meta.stateful.push(OperatorDescription {
            kind: "stream-stream join".into(),
            key_schema: std::any::type_name::<K>().into(),
            state_schema: format!(
                "({}, {})",
                std::any::type_name::<L>(),
                std::any::type_name::<R>()
            ),
            parameters: describe(how, &on),
            ..Default::default()
        });
        if let Some(e) = error {
            meta.error.get_or_insert(e);
        }
        // A side's rows are bounded by a window of, or a range on, its watermarked column.
        let evict = (wl && wr) || (on.windows.is_some() && (wl || wr));
        let (lower_l, lower_r) = (left.lower.clone(), right.lower.clone());
        let combine = Arc::new(combine);
        let lower = lower_fn(move |scope, ctx| {
            let (l_rows, r_rows) = (lower_l(scope, ctx), lower_r(scope, ctx));
            let op = ctx.state_op();
            let state = dataflow::JoinState {
                store: ctx.store(op, "stream-stream join"),
                groups: ctx.groups,
                workers: ctx.workers,
            };
            let (ls, rs, logic) = sides(&on, how, evict, (wl, wr), combine.clone());
            dataflow::stream_join(
                l_rows,
                r_rows,
                ls,
                rs,
                logic,
                state,
                0,
                ctx.metrics.clone(),
                op,
            )
        });
        Dataset {
            lower,
            meta,
            sort: None,
        }
    }
}

/// The operator's view of the condition: each side's key, lateness, expiry and filter, and the
/// condition on pairs. Expiries follow Spark's state watermarks (`StreamingJoinHelper`): with
/// equal windows a row leaves when the watermark reaches its window's end; with a range
/// `right.t in [left.t + lower, left.t + upper]` a left row leaves once the watermark `W`
/// satisfies `left.t <= W - upper - 1` and a right row once `right.t <= W + lower - 1`.
#[allow(clippy::type_complexity)]
fn sides<L: Record, R: Record, K: Key, O: Record>(
    on: &JoinOn<L, R, K>,
    how: JoinType,
    evict: bool,
    (wl, wr): (bool, bool),
    combine: Arc<dyn Fn(Option<&L>, Option<&R>) -> O + Send + Sync>,
) -> (
    dataflow::JoinSide<L, K>,
    dataflow::JoinSide<R, K>,
    dataflow::JoinLogic<L, R, O>,
) {
    type Bound<T> = Option<Box<dyn Fn(&T) -> i64>>;
    let (mut l_late, mut l_exp): (Bound<L>, Bound<L>) = (None, None);
    let (mut r_late, mut r_exp): (Bound<R>, Bound<R>) = (None, None);
    if let Some(((_, lt), (_, rt), lower, upper)) = on.range.clone() {
        let (lt2, rt2) = (lt.clone(), rt.clone());
        if wl {
            l_late = Some(Box::new(move |l: &L| lt2(l).millis()));
        }
        if wr {
            r_late = Some(Box::new(move |r: &R| rt2(r).millis()));
        }
        if evict {
            l_exp = Some(Box::new(move |l: &L| lt(l).millis() + upper + 1));
            r_exp = Some(Box::new(move |r: &R| rt(r).millis() - lower + 1));
        }
    }
    if let Some(((_, lw), (_, rw))) = on.windows.clone() {
        let (lw2, rw2) = (lw.clone(), rw.clone());
        if wl {
            l_late = Some(Box::new(move |l: &L| lw2(l).end.millis()));
        }
        if wr {
            r_late = Some(Box::new(move |r: &R| rw2(r).end.millis()));
        }
        if evict {
            l_exp = Some(Box::new(move |l: &L| lw(l).end.millis()));
            r_exp = Some(Box::new(move |r: &R| rw(r).end.millis()));
        }
    }
    let (lk, rk) = (on.left_key.clone(), on.right_key.clone());
    let (lf, rf) = (on.left_filter.clone(), on.right_filter.clone());
    let ls = dataflow::JoinSide {
        key: Box::new(move |l: &L| Some(lk(l)).filter(|k| !has_null(k))),
        late: l_late,
        expiry: l_exp,
        filter: Box::new(move |l: &L| lf.as_ref().is_none_or(|f| f(l))),
        outer: matches!(how, JoinType::LeftOuter | JoinType::FullOuter),
    };
    let rs = dataflow::JoinSide {
        key: Box::new(move |r: &R| Some(rk(r)).filter(|k| !has_null(k))),
        late: r_late,
        expiry: r_exp,
        filter: Box::new(move |r: &R| rf.as_ref().is_none_or(|f| f(r))),
        outer: matches!(how, JoinType::RightOuter | JoinType::FullOuter),
    };
    let (range, windows, pair) = (on.range.clone(), on.windows.clone(), on.pair_filter.clone());
    let matches = move |l: &L, r: &R| {
        range.as_ref().is_none_or(|((_, lt), (_, rt), lo, hi)| {
            let (lt, rt) = (lt(l).millis(), rt(r).millis());
            rt >= lt + lo && rt <= lt + hi
        }) && windows
            .as_ref()
            .is_none_or(|((_, lw), (_, rw))| lw(l) == rw(r))
            && pair.as_ref().is_none_or(|f| f(l, r))
    };
    let logic = dataflow::JoinLogic {
        matches: Box::new(matches),
        combine: Box::new(move |l, r| combine(l, r)),
        semi: how == JoinType::LeftSemi,
    };
    (ls, rs, logic)
}

/// The join's parameters in the checkpoint's description of the query.
fn describe<L, R, K>(how: JoinType, on: &JoinOn<L, R, K>) -> String {
    let mut parts = vec![how.name().to_string()];
    if let Some(((l, _), (r, _), lo, hi)) = &on.range {
        parts.push(format!("{r} between {l} + {lo} ms and {l} + {hi} ms"));
    }
    if let Some(((l, _), (r, _))) = &on.windows {
        parts.push(format!("equal windows of {l} and {r}"));
    }
    parts.join(", ")
}

//! Parse tests: bodies, chains, and the errors found while parsing.

use super::super::ops::aggregation::agg::{Agg, AggFunc, Count};
use super::super::ops::aggregation::group_by::{GroupBy, GroupByKey, GroupItem};
use super::super::ops::aggregation::order_by::OrderBy;
use super::super::ops::aggregation::window::SessionGapSpec;
use super::super::ops::join::Join;
use super::super::ops::projection::filter::{Filter, FilterFn};
use super::super::ops::projection::map::Map;
use super::super::ops::projection::select::Select;
use super::super::ops::Operator;
use super::*;
use quote::quote;
use std::any::Any;

/// The operator of a parsed call, if it is a `T`.
fn op<T: Operator>(call: &Call) -> Option<&T> {
    let any: &dyn Any = &*call.op;
    any.downcast_ref()
}

fn body(t: TokenStream) -> StreamBody {
    parse_body(t).unwrap_or_else(|e| panic!("{e}"))
}

fn err(t: TokenStream) -> String {
    match parse_body(t) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn parses_bindings_and_chains() {
    let b = body(quote! {
        let bids = read_stream::<Bid>(MemoryStream::new());
        bids.filter(price > 1_000 && auction != 3)
            .select(auction, price * 2 as double_price, lit(x) as c)
            .group_by(auction)
            .agg(count() as n, sum(double_price) as total)
            .write_stream(Console::new())
            .output_mode(Update)
            .trigger(ProcessingTime("1 second"))
            .query_name("bids")
    });
    assert_eq!(b.bindings.len(), 1);
    assert_eq!(b.bindings[0].name, "bids");
    assert!(matches!(
        &b.bindings[0].pipeline.source,
        Source::ReadStream {
            row_type: Some(_),
            ..
        }
    ));
    assert!(matches!(&b.result.source, Source::Name(n) if n == "bids"));
    let names: Vec<String> = b
        .result
        .calls
        .iter()
        .map(|c| c.method.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "filter",
            "select",
            "group_by",
            "agg",
            "write_stream",
            "output_mode",
            "trigger",
            "query_name"
        ]
    );
    let Some(Select(items)) = op(&b.result.calls[1]) else {
        panic!()
    };
    let names: Vec<String> = items.iter().map(|i| i.name.to_string()).collect();
    assert_eq!(names, ["auction", "double_price", "c"]);
    assert!(matches!(items[1].expr, ColExpr::Binary { .. }));
    assert!(matches!(items[2].expr, ColExpr::RustValue { .. }));
    let Some(Agg(aggs)) = op(&b.result.calls[3]) else {
        panic!()
    };
    assert_eq!(aggs[0].func, AggFunc::Count);
    assert_eq!(aggs[1].func, AggFunc::Sum);
    assert_eq!(aggs[1].name, "total");
}

#[test]
fn typed_closures_pass_through() {
    let b = body(quote! {
        read_stream::<Bid>(src)
            .filter(|b| b.price > 3)
            .map(|b: Bid| b)
            .group_by_key(|b| b.auction)
            .count()
    });
    assert!(matches!(op(&b.result.calls[0]), Some(FilterFn(_))));
    assert!(matches!(op(&b.result.calls[1]), Some(Map(_))));
    assert!(matches!(
        op(&b.result.calls[2]),
        Some(GroupByKey { by_key: true, .. })
    ));
    assert!(matches!(op(&b.result.calls[3]), Some(Count)));
}

#[test]
fn where_is_filter() {
    let b = body(quote!(read_stream::<Bid>(s)
        .r#where(price > 1)
        .where_(price < 9)));
    assert!(matches!(op(&b.result.calls[0]), Some(Filter(_))));
    assert!(matches!(op(&b.result.calls[1]), Some(Filter(_))));
}

#[test]
fn casts_and_aliases() {
    let b = body(quote!(
        read_stream::<Bid>(s).select(price as f64 as p, a + b as f64 as q)
    ));
    let Some(Select(items)) = op(&b.result.calls[0]) else {
        panic!()
    };
    assert_eq!(items[0].name, "p");
    assert!(matches!(items[0].expr, ColExpr::Cast { .. }));
    assert_eq!(items[1].name, "q");
    assert!(matches!(items[1].expr, ColExpr::Binary { .. }));
}

#[test]
fn sessions_sorting_and_joins() {
    let b = body(quote! {
        let people = read_static::<Person>(Files::json("people"));
        read_stream::<Bid>(s)
            .join(people, bidder == id && day == people.day, "left_outer")
            .group_by(session_window(t, "5 seconds"), a)
            .count()
            .order_by(count.desc(), desc(a), b, c.asc())
    });
    assert!(matches!(
        b.bindings[0].pipeline.source,
        Source::ReadStatic { .. }
    ));
    let Some(Join(j)) = op(&b.result.calls[0]) else {
        panic!()
    };
    assert_eq!(j.on.len(), 2);
    assert_eq!(j.how.as_ref().unwrap().value(), "left_outer");
    assert!(matches!(&j.other.source, Source::Name(n) if n == "people"));
    let Some(GroupBy(items)) = op(&b.result.calls[1]) else {
        panic!()
    };
    assert!(matches!(&items[0], GroupItem::Session(s)
        if s.name == "session_window" && matches!(s.gap, SessionGapSpec::Fixed(_))));
    let b = body(quote!(read_stream::<Bid>(s)
        .group_by(a, session_window(t, gap * 2) as s2)
        .count()));
    let Some(GroupBy(items)) = op(&b.result.calls[0]) else {
        panic!()
    };
    assert!(matches!(&items[1], GroupItem::Session(s)
        if s.name == "s2" && matches!(s.gap, SessionGapSpec::PerRow(_))));
    let b = body(quote!(read_stream::<Bid>(s).order_by(
        count.desc(),
        desc(a),
        b,
        c.asc()
    )));
    let Some(OrderBy(keys)) = op(&b.result.calls[0]) else {
        panic!()
    };
    let desc: Vec<bool> = keys.iter().map(|k| k.descending).collect();
    assert_eq!(desc, [true, true, false, false]);
}

#[test]
fn errors() {
    // A comparison is kept for the check: a time range or a filter of a stream-stream join.
    let b = body(quote!(read_stream::<Bid>(s).join(p, a == c && a > b)));
    let join = op::<Join>(&b.result.calls[0]).expect("a join");
    assert_eq!((join.0.on.len(), join.0.extra.len()), (1, 1));
    assert!(err(quote!(read_stream::<Bid>(s).join(p, a == 1)))
        .starts_with("each side of a join equality reads a column"));
    assert!(err(quote!(read_stream::<Bid>(s).join(p, a == b, left)))
        .starts_with("the join type is a string literal"));
    assert!(err(quote!(read_stream::<Bid>(s)
        .group_by(window(t, "1 second"), session_window(t, "1 second"))
        .count()))
    .starts_with("group by at most one"));
    assert!(err(quote!(read_stream::<Bid>(s).selec(a))).contains("unknown method `.selec`"));
    assert!(err(quote!(read_stream::<Bid>(s).selec(a))).contains("did you mean `.select`"));
    assert_eq!(
        err(quote!(read_stream::<Bid>(s)
            .group_by(a)
            .agg(median(price) as m))),
        "unknown aggregate function `median`; use one of count, sum, min, max, avg"
    );
    assert!(err(quote!(read_stream::<Bid>(s).select(a + 1))).contains("give this column a name"));
    assert!(
        err(quote!(read_stream::<Bid>(s).filter(a > 1 as b))).contains("only allowed at the top")
    );
    assert!(
        err(quote!(read_stream::<Bid>(s).output_mode(Sometimes))).contains("unknown output mode")
    );
    assert!(err(quote!(read_stream::<Bid>(s).trigger(Weekly))).contains("unknown trigger"));
    assert!(err(quote!(read_stream::<Bid>(s);)).contains("remove this `;`"));
    assert!(err(quote!(foo(s).filter(a))).contains("unknown source function"));
    assert!(err(quote!(read_stream::<Bid>(s).select(sum(a) as b)))
        .contains("only be used inside `.agg"));
}

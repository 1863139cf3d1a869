//! Expansion tests: the tokens generated for small bodies, and check errors.

use super::super::{check::check, parse::parse_body};
use super::*;

fn expand(t: TokenStream) -> String {
    let body = parse_body(t).unwrap();
    let plan = check(&body).unwrap_or_else(|e| panic!("{e}"));
    generate(&plan).to_string()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn filter_reads_columns_in_place() {
    let out = expand(quote!(
        read_stream::<Bid>(src).filter(price > 1_000 && auction != 3)
    ));
    assert!(out.contains(&squash(
        ":: stream_runtime :: read_stream :: < < Bid as DeriveRecord > :: Row > (src) . filter (move | __r | < _ as FilterCondition > :: into_bool (__r . price > 1_000 && __r . auction != 3))"
    )), "{out}");
}

#[test]
fn select_generates_a_row_struct() {
    let out = expand(quote!(
        read_stream::<Bid>(src).select(auction, price * 2 as double_price)
    ));
    assert!(
        out.contains("struct __Row1 < __C0 , __C1 > { auction : __C0 , double_price : __C1 }"),
        "{out}"
    );
    // `auction` is an output column read once: moved out; `price` is cloned into an expression.
    assert!(out.contains(". map (move | mut __r | {"), "{out}");
    assert!(out.contains("__Row1 { auction : (& :: stream_runtime :: __private :: column (& mut __r . auction)) . take_or_clone () , double_price : :: core :: clone :: Clone :: clone (& __r . price) * 2 }"), "{out}");
}

#[test]
fn select_clones_a_column_it_reads_twice() {
    let out = expand(quote!(
        read_stream::<Bid>(src).select(auction, auction as again)
    ));
    assert!(out.contains(". map (move | __r | __Row1 { auction : :: core :: clone :: Clone :: clone (& __r . auction) , again : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
}

#[test]
fn lit_is_hoisted() {
    let out = expand(quote!(read_stream::<Bid>(src).filter(price > lit(limit))));
    assert!(out.contains("let __lit0 = limit ;"), "{out}");
    assert!(out.contains("__r . price > __lit0"), "{out}");
}

#[test]
fn agg_generates_builder_and_finisher() {
    let out = expand(quote! {
        read_stream::<Bid>(src)
            .group_by(auction)
            .agg(count() as n, sum(price) as total)
            .write_stream(Console::new())
            .output_mode(Update)
            .trigger(ProcessingTime("1 second"))
    });
    assert!(
        out.contains("struct __Key1 < __C0 > { auction : __C0 }"),
        "{out}"
    );
    assert!(
        out.contains(
            "struct __Row2 < __C0 , __C1 , __C2 > { auction : __C0 , n : __C1 , total : __C2 }"
        ),
        "{out}"
    );
    assert!(out.contains(". group_by (move | __r | __Key1 { auction : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
    assert!(out.contains("__a . count () , __a . sum (move | __r | < _ as NumericColumn > :: into_numeric (:: core :: clone :: Clone :: clone (& __r . price)))"), "{out}");
    assert!(out.contains("move | __k , (__v0 , __v1 ,) | __Row2 { auction : __k . auction , n : __v0 , total : __v1 }"), "{out}");
    assert!(
        out.contains(". output_mode (:: stream_runtime :: OutputMode :: Update)"),
        "{out}"
    );
    assert!(
        out.contains(". trigger (:: stream_runtime :: Trigger :: ProcessingTime (1000i64))"),
        "{out}"
    );
}

#[test]
fn reused_bindings_are_cloned() {
    let out = expand(quote! {
        let a = read_stream::<Bid>(src);
        a.union(a)
    });
    assert!(
        out.contains("let a = :: stream_runtime :: read_stream :: < < Bid as DeriveRecord > :: Row > (src) ;"),
        "{out}"
    );
    assert!(
        out.contains(":: core :: clone :: Clone :: clone (& a) . union (a)"),
        "{out}"
    );
}

fn check_err(t: TokenStream) -> String {
    let body = parse_body(t).unwrap();
    match check(&body) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn check_errors() {
    let e = check_err(quote!(read_stream::<Bid>(s)
        .select(price)
        .filter(pricee > 1)));
    assert!(
        e.starts_with("unknown column `pricee` (did you mean `price`?)"),
        "{e}"
    );
    let e = check_err(quote!(read_stream::<Bid>(s)
        .write_stream(c)
        .output_mode(Complete)));
    assert!(e.contains("Complete output mode is not supported"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s)
        .group_by(a)
        .count()
        .write_stream(c)));
    assert!(
        e.contains("no `.output_mode(..)` is given, so this query writes in Append mode"),
        "{e}"
    );
    let e = check_err(quote!(read_stream::<Bid>(s)
        .write_stream(c)
        .trigger(ProcessingTime("1 secnd"))));
    assert!(e.contains("invalid duration `1 secnd`"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s).output_mode(Update)));
    assert!(e.contains("call `.write_stream(sink)` first"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s).group_by(a).filter(a > 1)));
    assert!(e.contains("comes `.agg(..)` or `.count()`"), "{e}");
    let e = check_err(quote! {
        let a = read_stream::<Bid>(s).select(x, y);
        read_stream::<Bid>(s).select(y, x).union(a)
    });
    assert!(
        e.contains("`.union` needs the same columns in the same order"),
        "{e}"
    );
    let e = check_err(quote!(read_stream::<Bid>(s).write_stream(c).filter(a > 1)));
    assert!(e.contains("not available after `.write_stream(..)`"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s)
        .write_stream(c)
        .start()
        .trigger(Once)));
    assert!(e.contains("comes after `.start()`"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s).select(a, a)));
    assert!(e.contains("appears twice"), "{e}");
    // A watermark on another column than the window's does not close the groups (on columns
    // the macro knows; on a user's type, see `an_append_error_on_unchecked_names_is_left_to_rustc`).
    let e = check_err(quote! {
        read_stream::<Bid>(s)
            .select(t1, t2)
            .with_watermark(t1, "1 minute")
            .group_by(window(t2, "1 minute"))
            .count()
            .write_stream(c)
    });
    assert!(e.contains("without a watermark"), "{e}");
}

#[test]
fn joins_sessions_and_sorting() {
    let out = expand(quote! {
        let people = read_static::<Person>(Files::json("people"));
        read_stream::<Bid>(s)
            .with_watermark(t, "1 second")
            .join(people, bidder == id, "left_outer")
            .group_by(session_window(t, "5 seconds"), people.state)
            .count()
            .order_by(count.desc())
            .write_stream(c)
            .output_mode(Complete)
    });
    assert!(out.contains("let people = :: stream_runtime :: read_static :: < < Person as DeriveRecord > :: Row > (Files :: json (\"people\")) ;"), "{out}");
    assert!(out.contains(". join_static (people , move | __r | { let __k = :: core :: clone :: Clone :: clone (& __r . bidder) ; __k } , move | __r | { let __k = :: core :: clone :: Clone :: clone (& __r . id) ; __k } , :: stream_runtime :: JoinType :: LeftOuter , :: stream_runtime :: __private :: join_outer)"), "{out}");
    assert!(out.contains(". group_by_session_on (:: stream_runtime :: __private :: fixed_session_gap (5000i64) , \"t\" , move | __r | < _ as EventTimeColumn > :: into_timestamp (:: core :: clone :: Clone :: clone (& __r . t)) , move | __r | __Key1 { state : __r . __table . as_ref () . map (| __t | :: core :: clone :: Clone :: clone (& __t . state)) })"), "{out}");
    assert!(out.contains(". order_by (move | __r | :: stream_runtime :: __private :: sort_key_desc (:: core :: clone :: Clone :: clone (& __r . count)))"), "{out}");
    // The static table on the left; a second join reaches the first table through the row.
    let out = expand(quote! {
        let people = read_static::<Person>(p);
        let cities = read_static::<City>(c);
        people
            .join(read_stream::<Bid>(s), id == bidder && day == day)
            .join(cities, people.city == name)
            .select(price, people.name as buyer, cities.country as country)
    });
    assert!(out.contains("people . join_stream (:: stream_runtime :: read_stream :: < < Bid as DeriveRecord > :: Row > (s) , move | __r | ({ let __k = :: core :: clone :: Clone :: clone (& __r . id) ; __k } , { let __k = :: core :: clone :: Clone :: clone (& __r . day) ; __k } ,) , move | __r | ({ let __k = :: core :: clone :: Clone :: clone (& __r . bidder) ; __k } , { let __k = :: core :: clone :: Clone :: clone (& __r . day) ; __k } ,) , :: stream_runtime :: JoinType :: Inner , :: stream_runtime :: __private :: static_join_inner)"), "{out}");
    assert!(out.contains(". join_static (cities , move | __r | { let __k = :: core :: clone :: Clone :: clone (& __r . __table . city) ; __k } , move | __r | { let __k = :: core :: clone :: Clone :: clone (& __r . name) ; __k }"), "{out}");
    assert!(out.contains("buyer : :: core :: clone :: Clone :: clone (& __r . __stream . __table . name) , country : :: core :: clone :: Clone :: clone (& __r . __table . country)"), "{out}");
}

#[test]
fn join_and_sort_errors() {
    let e = check_err(quote! {
        read_stream::<Bid>(s).join(read_stream::<Bid>(s2), a == b)
    });
    assert!(e.contains("bind it to a name first"), "{e}");
    let e = check_err(quote! {
        let p = read_static::<P>(x);
        read_stream::<Bid>(s).join(p, a > b)
    });
    assert!(e.starts_with("`>` in a join condition"), "{e}");
    let e = check_err(quote! {
        let p = read_static::<P>(x);
        read_stream::<Bid>(s).join(p, a == b, "full")
    });
    assert!(
        e.starts_with("full_outer join with a streaming Dataset on the left"),
        "{e}"
    );
    let e = check_err(quote!(
        read_stream::<Bid>(s).join(read_static::<P>(x), a == b)
    ));
    assert!(e.starts_with("bind the joined side to a name"), "{e}");
    let e = check_err(quote!(read_stream::<Bid>(s).select(a).order_by(a)));
    assert!(
        e.contains("sorts the result table of an aggregation"),
        "{e}"
    );
    let e = check_err(quote! {
        let p = read_static::<P>(x);
        read_stream::<Bid>(s).select(a).join(p, a == id).filter(zz > p.c)
    });
    assert!(
        e.starts_with("unknown column `zz`; the rows after `.join(..)` have only columns copied from the input's row type (rustc checks that it has them), and the static table's columns are written `p.column`"),
        "{e}"
    );
    let e = check_err(quote! {
        read_stream::<Bid>(s)
            .group_by(session_window(t, "-1 second"))
            .count()
    });
    assert!(e.contains("a session gap must be positive"), "{e}");
}

#[test]
fn watermarks_follow_projections_into_windows() {
    let out = expand(quote! {
        read_stream::<Bid>(s)
            .with_watermark(date_time, "10 seconds")
            .select(auction, date_time as t)
            .group_by(window(t, "10 seconds", "5 seconds"), auction)
            .agg(count() as n)
            .write_stream(c)
            .output_mode(Append)
    });
    // The window on `t` names the watermark's column, `date_time`, as the builder knows it.
    assert!(out.contains(". with_watermark_on (\"date_time\" , move | __r | < _ as EventTimeColumn > :: into_timestamp (:: core :: clone :: Clone :: clone (& __r . date_time)) , \"10 seconds\")"), "{out}");
    assert!(out.contains(". group_by_window_on (:: stream_runtime :: WindowSpec { size : 10000i64 , slide : 5000i64 , offset : 0i64 } , \"date_time\" , move | __r | < _ as EventTimeColumn > :: into_timestamp (:: core :: clone :: Clone :: clone (& __r . t)) , move | __r | __Key2 { auction : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
    assert!(out.contains("move | __w , __k , (__v0 ,) | __Row3 { window : __w , auction : __k . auction , n : __v0 }"), "{out}");
}

#[test]
fn chained_windows_and_event_time_keys_name_the_original_watermark() {
    let out = expand(quote! {
        read_stream::<Ev>(s)
            .with_watermark(ts, "10 seconds")
            .group_by(window(ts, "5 minutes"), word)
            .agg(count() as n)
            .group_by(window(window_time(window), "1 hour"), word)
            .agg(sum(n) as total)
            .write_stream(c)
    });
    assert_eq!(out.matches(". group_by_window_on (").count(), 2, "{out}");
    assert!(out.contains("offset : 0i64 } , \"ts\" , move | __r | < _ as EventTimeColumn > :: into_timestamp (:: stream_runtime :: window_time (:: core :: clone :: Clone :: clone (& __r . window)))"), "{out}");
    // Grouping by the watermarked column itself, in Append mode.
    let out = expand(quote! {
        read_stream::<Ev>(s)
            .with_watermark(ts, "5 seconds")
            .select(ts as at, user)
            .group_by(at, user)
            .agg(count() as n)
            .write_stream(c)
            .output_mode(Append)
    });
    assert!(out.contains(". group_by_event_time (\"ts\" , move | __r | < _ as EventTimeColumn > :: into_timestamp (:: core :: clone :: Clone :: clone (& __r . at)) , move | __r | __Key2 {"), "{out}");
    // A time column without a watermark is named by itself, made distinct from the watermark's
    // name where it would collide.
    let out = expand(quote! {
        read_stream::<Ev>(s)
            .with_watermark(a, "5 seconds")
            .select(b as a, user)
            .group_by(window(a, "1 minute"), user)
            .count()
            .write_stream(c)
            .output_mode(Update)
    });
    assert!(out.contains("offset : 0i64 } , \"a'\" , move"), "{out}");
}

#[test]
fn watermark_errors() {
    let e = check_err(quote! {
        read_stream::<Ev>(s)
            .with_watermark(ts, "10 seconds")
            .select(user, other)
            .with_watermark(other, "1 second")
    });
    assert!(e.starts_with("Redefining watermark is disallowed: these rows already have a watermark, on `ts` (a column dropped or aggregated since)"), "{e}");
    // Two inputs, each with its own watermark.
    expand(quote! {
        read_stream::<Ev>(s)
            .with_watermark(ts, "10 seconds")
            .union(read_stream::<Ev>(s2).with_watermark(ts, "1 second"))
    });
    let e = check_err(quote!(read_stream::<Ev>(s).with_idle_timeout("1 minute")));
    assert!(
        e.contains("call it right after that `.with_watermark"),
        "{e}"
    );
    let e = check_err(quote! {
        read_stream::<Ev>(s).with_watermark(ts, "1 second").with_idle_timeout("0 ms")
    });
    assert!(
        e.starts_with("an idle timeout must be positive, not `0 ms`"),
        "{e}"
    );
    let out = expand(quote! {
        read_stream::<Ev>(s).with_watermark(ts, "1 second").with_idle_timeout("1 minute")
    });
    assert!(out.contains(". with_idle_timeout (\"1 minute\")"), "{out}");
}

#[test]
fn count_of_a_column_counts_its_non_null_values() {
    let out = expand(quote! {
        read_stream::<Bid>(s).group_by(auction).agg(count(bidder), count() as n)
    });
    assert!(out.contains("__a . count_non_null (move | __r | :: core :: clone :: Clone :: clone (& __r . bidder))"), "{out}");
    assert!(out.contains("count_bidder : __v0"), "{out}");
}

#[test]
fn unknown_columns_list_only_columns_known_to_exist() {
    let e = check_err(quote!(read_stream::<Bid>(s)
        .select(auction, pricee, price * 2 as double)
        .select(prise)));
    assert!(e.starts_with("unknown column `prise`; the rows after `.select(..)` have the columns: double (and columns copied from the input's row type, which rustc checks); if `prise` is a Rust variable"), "{e}");
}

#[test]
fn an_append_error_on_unchecked_names_is_left_to_rustc() {
    let out = expand(quote! {
        read_stream::<Bid>(s)
            .with_watermark(date_tme, "10 seconds")
            .group_by(window(date_time, "10 seconds"), auction)
            .count()
            .write_stream(c)
    });
    assert!(out.contains(". __stream_probe (move | __r | < _ as ClosedByAWatermark > :: report (columns_exist ((& __r . date_tme , & __r . date_time , & __r . auction ,))))"), "{out}");
    assert!(!out.contains("group_by_window_on"), "{out}");
    // Known columns: the macro's own error.
    let e = check_err(quote! {
        read_stream::<Bid>(s)
            .with_watermark(date_time, "10 seconds")
            .select(date_time, auction)
            .group_by(auction)
            .count()
            .write_stream(c)
    });
    assert!(e.contains("Append output mode is not supported"), "{e}");
}

#[test]
fn batch_pipelines_read_limit_and_run() {
    let out = expand(quote!(read::<Bid>(src)
        .filter(price > 1)
        .order_by(price)
        .limit(3)
        .collect()));
    assert!(
        out.contains(":: stream_runtime :: read :: < < Bid as DeriveRecord > :: Row > (src)"),
        "{out}"
    );
    assert!(
        out.contains(". limit ({ let __n : usize = 3 ; __n }) . collect ()"),
        "{out}"
    );
    let out = expand(quote!(read::<Bid>(src).show()));
    assert!(out.contains(". show (20)"), "{out}");
    // A second watermark is no error on a batch query, which ignores both.
    expand(quote!(read::<Bid>(src)
        .with_watermark(a, "1 second")
        .with_watermark(b, "1 second")
        .write(sink)));
    // Every writer option is a streaming-only call.
    for e in [
        check_err(quote!(read::<Bid>(src).query_name("q"))),
        check_err(quote!(read::<Bid>(src).write(s).output_mode(Update))),
        check_err(quote!(read::<Bid>(src).write(s).checkpoint_location("cp"))),
    ] {
        assert!(e.contains("is for streaming queries"), "{e}");
    }
    let e = check_err(quote!(read_stream::<Bid>(src).show(3)));
    assert!(e.contains("runs a batch query"), "{e}");
}

//! `.group_by(item, ..)` with columns, named expressions and at most one `window(..)` or
//! `session_window(..)`; `.group_by(|row| key)` and `.group_by_key(|row| key)` with the user's
//! key function. A grouping is followed by `.agg(..)` or `.count()`.

use super::super::super::ast::{ColExpr, NamedExpr};
use super::super::super::check::{Checker, GenKind, Info, Key, Site, Stage};
use super::super::super::codegen::{event_time, row, value};
use super::super::super::parse::{expect_args, parse_named, split_alias, strip_groups};
use super::super::{Operator, Step};
use super::window::{
    check_session_window, check_window, event_time_column, parse_session_window, parse_window,
    LGap, LSession, LWindow, SessionItem, WindowItem,
};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{Error, Expr, ExprMethodCall, Ident, Result};

/// `.group_by(col, window(time, "10 seconds"), ...)` with columns and at most one window.
pub struct GroupBy(pub Vec<GroupItem>);

/// `.group_by(|row| key)` or `.group_by_key(|row| key)`: a typed key function.
pub struct GroupByKey {
    /// The key function, passed through.
    pub func: Expr,
    /// True for `group_by_key` (key: any `Key`), false for `group_by` (key: a `Record`).
    pub by_key: bool,
}

/// An item of `.group_by(...)`.
pub enum GroupItem {
    /// A column or a named expression.
    Column(NamedExpr),
    /// `window(time, "size"[, "slide"[, "offset"]])`.
    Window(WindowItem),
    /// `session_window(time, "gap")` or `session_window(time, gap_ms_expr)`.
    Session(SessionItem),
}

impl GroupItem {
    /// The `window` / `session_window` token of a window item.
    pub fn window_token(&self) -> Option<&Ident> {
        match self {
            GroupItem::Column(_) => None,
            GroupItem::Window(w) => Some(&w.func),
            GroupItem::Session(s) => Some(&s.func),
        }
    }
}

// ---- parse ----

/// Parses `.group_by(item, ..)` or `.group_by(|row| key)`.
pub fn parse_group_by(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let args: Vec<&Expr> = mc.args.iter().collect();
    if args.len() == 1 && matches!(strip_groups(args[0]), Expr::Closure(_)) {
        return Ok(Box::new(GroupByKey {
            func: args[0].clone(),
            by_key: false,
        }));
    }
    let items: Vec<GroupItem> = args
        .into_iter()
        .map(parse_group_item)
        .collect::<Result<_>>()?;
    let mut windows = items.iter().filter_map(GroupItem::window_token);
    if let (Some(_), Some(second)) = (windows.next(), windows.next()) {
        return Err(Error::new(
            second.span(),
            "group by at most one `window(..)` or `session_window(..)`",
        ));
    }
    Ok(Box::new(GroupBy(items)))
}

/// Parses `.group_by_key(|row| key)`.
pub fn parse_group_by_key(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".group_by_key(|row| row.key)")?;
    Ok(Box::new(GroupByKey {
        func: mc.args[0].clone(),
        by_key: true,
    }))
}

/// A group_by item: a column, a named expression, `window(..)` or `session_window(..)`.
fn parse_group_item(expr: &Expr) -> Result<GroupItem> {
    let (inner, alias) = split_alias(expr);
    if let Expr::Call(call) = strip_groups(&inner) {
        if let Expr::Path(p) = &*call.func {
            if let Some(func) = p.path.get_ident().filter(|f| *f == "session_window") {
                return parse_session_window(func, call, alias).map(GroupItem::Session);
            }
            if let Some(func) = p.path.get_ident().filter(|f| *f == "window") {
                return parse_window(func, call, alias).map(GroupItem::Window);
            }
        }
    }
    parse_named(expr).map(GroupItem::Column)
}

// ---- check ----

impl Operator for GroupBy {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a grouping is checked on rows")
        };
        let method = at.method;
        let items = &self.0;
        let mut window = None;
        let mut session = None;
        let mut window_name = None;
        let mut watermarked = false;
        let mut names = Vec::new();
        let mut columns = Vec::new();
        let tables = info.tables.clone();
        for item in items {
            match item {
                GroupItem::Column(named) => {
                    columns.extend(cx.items(
                        std::slice::from_ref(named),
                        &rows,
                        &tables,
                        "group_by",
                    ));
                    names.push(named.name.clone());
                }
                GroupItem::Window(w) => {
                    watermarked = event_time_column(&w.time)
                        .is_some_and(|c| info.watermarks.contains(&c.to_string()));
                    window = check_window(cx, w, &rows, &tables);
                    window_name = Some(w.name.clone());
                    names.push(w.name.clone());
                }
                GroupItem::Session(w) => {
                    if let ColExpr::Column(c) = &w.time {
                        watermarked = info.watermarks.contains(&c.to_string());
                    }
                    session = check_session_window(cx, w, &rows, &tables);
                    window_name = Some(w.name.clone());
                    names.push(w.name.clone());
                }
            }
        }
        let is_session = items.iter().any(|i| matches!(i, GroupItem::Session(_)));
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                cx.error(
                    n.span(),
                    format!("the column `{n}` appears twice in this group_by; rename one with `as other_name`"),
                );
            }
        }
        let key_names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
        let strukt = cx.new_struct("Key", GenKind::Columns(key_names));
        info.stage = Stage::Grouped {
            input: rows,
            key: Key::Columns {
                names,
                window: window_name,
                watermarked,
                session: is_session,
            },
            method: method.clone(),
        };
        Some(Box::new(GroupByStep {
            method,
            strukt,
            columns,
            window,
            session,
        }))
    }
}

impl Operator for GroupByKey {
    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a grouping is checked on rows")
        };
        let method = at.method;
        info.stage = Stage::Grouped {
            input: rows,
            key: Key::Opaque,
            method: method.clone(),
        };
        Some(Box::new(GroupByFnStep {
            method,
            func: self.func.clone(),
            by_key: self.by_key,
        }))
    }
}

// ---- codegen ----

/// `.group_by(|__r| K { col: expr, ... })`, or with a window
/// `.group_by_window(spec, |__r| time, |__r| K { .. })` (a session window:
/// `.group_by_session(..)`).
pub struct GroupByStep {
    /// The user's method token.
    pub method: Ident,
    /// The generated key struct.
    pub strukt: Ident,
    /// The key's columns (the window's excepted).
    pub columns: Vec<(Ident, ColExpr)>,
    /// The window, if one.
    pub window: Option<LWindow>,
    /// The session window, if one.
    pub session: Option<Box<LSession>>,
}

/// `.group_by(f)` / `.group_by_key(f)` with the user's key function.
pub struct GroupByFnStep {
    /// The user's method token.
    pub method: Ident,
    /// The key function.
    pub func: Expr,
    /// `group_by_key` rather than `group_by`.
    pub by_key: bool,
}

impl Step for GroupByStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            strukt,
            columns,
            window,
            session,
        } = self;
        let fields = columns.iter().map(|(n, e)| {
            let v = value(e, true);
            quote!(#n: #v)
        });
        let key = quote!(move |#r| #strukt { #(#fields),* });
        if let Some(s) = session {
            let t = event_time(&s.time);
            return match &s.gap {
                LGap::Fixed(ms, span) => {
                    let m = Ident::new("group_by_session", method.span());
                    let ms = proc_macro2::Literal::i64_suffixed(*ms);
                    let gap =
                        quote_spanned!(*span=> ::stream_runtime::__private::fixed_session_gap(#ms));
                    quote!(.#m(#gap, move |#r| #t, #key))
                }
                LGap::PerRow(e) => {
                    // A method of the support module, so that the gap's row type is known.
                    let m = Ident::new("__group_by_session_per_row", method.span());
                    let v = value(e, false);
                    let check = quote_spanned!(e.span()=> ::stream_runtime::__private::gap_millis);
                    quote!(.#m(move |#r| #check(#v), move |#r| #t, #key))
                }
            };
        }
        match window {
            None => {
                let m = Ident::new("group_by", method.span());
                quote!(.#m(#key))
            }
            Some(w) => {
                let m = Ident::new("group_by_window", method.span());
                let (size, slide, offset) = (
                    proc_macro2::Literal::i64_suffixed(w.size),
                    proc_macro2::Literal::i64_suffixed(w.slide),
                    proc_macro2::Literal::i64_suffixed(w.offset),
                );
                let spec = quote_spanned!(w.span=> ::stream_runtime::WindowSpec { size: #size, slide: #slide, offset: #offset });
                let t = event_time(&w.time);
                quote!(.#m(#spec, move |#r| #t, #key))
            }
        }
    }
}

impl Step for GroupByFnStep {
    fn generate(&self) -> TokenStream {
        let Self {
            method,
            func,
            by_key,
        } = self;
        let m = Ident::new(
            if *by_key { "group_by_key" } else { "group_by" },
            method.span(),
        );
        quote!(.#m(#func))
    }
}

//! `.group_by(item, ..)` with columns, named expressions and at most one `window(..)` or
//! `session_window(..)`; `.group_by(|row| key)` and `.group_by_key(|row| key)` with the user's
//! key function. A grouping is followed by `.agg(..)` or `.count()`.

use super::super::super::ast::{ColExpr, NamedExpr};
use super::super::super::check::{AppendProbe, Checker, GenKind, Info, Key, Rows, Site, Stage};
use super::super::super::codegen::{checked, event_time, row, value, Check};
use super::super::super::parse::{expect_args, parse_named, split_alias, strip_groups};
use super::super::{Operator, Step};
use super::watermark::column_name;
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
        // The event-time column the window is on, as the builder knows it.
        let mut time_name = String::new();
        let mut names = Vec::new();
        let mut columns = Vec::new();
        // A grouping column that carries a watermark itself: (its index, the watermark's name).
        let mut event_time_key = None;
        let tables = info.tables.clone();
        for item in items {
            match item {
                GroupItem::Column(named) => {
                    if let (ColExpr::Column(c), None, None) =
                        (&named.expr, &event_time_key, &window_name)
                    {
                        if let Some(w) = info.watermark_of(&c.to_string()) {
                            event_time_key = Some((columns.len(), w.origin.clone()));
                        }
                    }
                    columns.extend(cx.items(
                        std::slice::from_ref(named),
                        &rows,
                        &tables,
                        "group_by",
                    ));
                    names.push(named.name.clone());
                }
                GroupItem::Window(w) => {
                    let name = event_time_column(&w.time)
                        .map_or_else(|| column_name(&w.time), |c| c.to_string());
                    watermarked = info.watermark_of(&name).is_some();
                    time_name = info.event_time_name(&name);
                    window = check_window(cx, w, &rows, &tables);
                    window_name = Some(w.name.clone());
                    names.push(w.name.clone());
                }
                GroupItem::Session(w) => {
                    let name = column_name(&w.time);
                    watermarked = info.watermark_of(&name).is_some();
                    time_name = info.event_time_name(&name);
                    session = check_session_window(cx, w, &rows, &tables);
                    window_name = Some(w.name.clone());
                    names.push(w.name.clone());
                }
            }
        }
        // A window takes precedence: the key then groups by window, not by raw event time.
        let event_time_key = event_time_key.filter(|_| window_name.is_none());
        let is_session = items.iter().any(|i| matches!(i, GroupItem::Session(_)));
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                cx.error(
                    n.span(),
                    format!("the column `{n}` appears twice in this group_by; rename one with `as other_name`"),
                );
            }
        }
        if !watermarked && event_time_key.is_none() {
            let probe = append_probe(items, &rows, info);
            info.append_probe = match (&info.append_probe, probe) {
                (None, Some(p)) => Some(Ok(p)),
                _ => Some(Err(())),
            };
        }
        // The rows after the aggregation: the key's plain copies of unchecked columns are
        // unchecked too.
        let unchecked = cx.unchecked_copies(
            &rows,
            items.iter().filter_map(|i| match i {
                GroupItem::Column(n) => Some((&n.name, &n.expr)),
                _ => None,
            }),
        );
        info.unchecked = unchecked;
        let key_names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
        let strukt = cx.new_struct("Key", GenKind::Columns(key_names));
        let event_time_key = event_time_key.and_then(|(i, origin)| {
            columns.get(i).map(|(n, e)| EventTimeKey {
                column: n.clone(),
                time: e.clone(),
                origin,
            })
        });
        info.stage = Stage::Grouped {
            input: rows,
            key: Key::Columns {
                names,
                window: window_name,
                watermarked: watermarked || event_time_key.is_some(),
                session: is_session,
                event_time_key: event_time_key.as_ref().map(|k| k.column.clone()),
                origin: match &event_time_key {
                    Some(k) => Some(k.origin.clone()),
                    None => watermarked.then(|| time_name.clone()),
                },
            },
            method: method.clone(),
        };
        Some(Box::new(GroupByStep {
            method,
            strukt,
            columns,
            window,
            session,
            time_name,
            event_time_key,
        }))
    }
}

/// How rustc can check the names that decided that no watermark closes a grouping of rows of a
/// type the macro cannot see: the watermarks' columns (set on rows of the same type, so that
/// they can be read here) and the grouping's time column (or its columns, without a window).
/// `None` when some name cannot be read at the grouping.
fn append_probe(items: &[GroupItem], rows: &Rows, info: &Info) -> Option<AppendProbe> {
    if !matches!(rows, Rows::Opaque) || info.watermarks.is_empty() {
        return None;
    }
    let mut columns = Vec::new();
    for w in &info.watermarks {
        match &w.unchecked {
            Some((c, family)) if *family == info.family => columns.push(c.clone()),
            _ => return None,
        }
    }
    for item in items {
        match item {
            GroupItem::Column(named) => {
                if let ColExpr::Column(c) = &named.expr {
                    columns.push(c.clone());
                }
            }
            GroupItem::Window(WindowItem { time, .. })
            | GroupItem::Session(SessionItem { time, .. }) => match time {
                ColExpr::Column(c) => columns.push(c.clone()),
                _ => return None,
            },
        }
    }
    Some(AppendProbe {
        call: info.call,
        columns,
        watermarks: info.watermarks.len(),
    })
}

impl Operator for GroupByKey {
    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a grouping is checked on rows")
        };
        let method = at.method;
        // No watermark closes a typed grouping, whatever the names.
        info.append_probe = Some(Err(()));
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
    /// The window's event-time column, as the builder knows it (the watermark's column if the
    /// window's carries one).
    pub time_name: String,
    /// A grouping column that carries a watermark itself (no window).
    pub event_time_key: Option<EventTimeKey>,
}

/// A grouping column that carries a watermark: the grouping is `group_by_event_time`.
pub struct EventTimeKey {
    /// The key column.
    pub column: Ident,
    /// Its value.
    pub time: ColExpr,
    /// The watermark's column, as the builder knows it.
    pub origin: String,
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
            time_name,
            event_time_key,
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
                    let m = Ident::new("group_by_session_on", method.span());
                    let ms = proc_macro2::Literal::i64_suffixed(*ms);
                    let gap =
                        quote_spanned!(*span=> ::stream_runtime::__private::fixed_session_gap(#ms));
                    quote!(.#m(#gap, #time_name, move |#r| #t, #key).__record_key())
                }
                LGap::PerRow(e) => {
                    // A method of the support module, so that the gap's row type is known.
                    let m = Ident::new("__group_by_session_per_row_on", method.span());
                    let v = checked(Check::Gap, e.span(), value(e, false));
                    quote!(.#m(move |#r| #v, #time_name, move |#r| #t, #key).__record_key())
                }
            };
        }
        match (window, event_time_key) {
            (Some(w), _) => {
                let m = Ident::new("group_by_window_on", method.span());
                let (size, slide, offset) = (
                    proc_macro2::Literal::i64_suffixed(w.size),
                    proc_macro2::Literal::i64_suffixed(w.slide),
                    proc_macro2::Literal::i64_suffixed(w.offset),
                );
                let spec = quote_spanned!(w.span=> ::stream_runtime::WindowSpec { size: #size, slide: #slide, offset: #offset });
                let t = event_time(&w.time);
                quote!(.#m(#spec, #time_name, move |#r| #t, #key).__record_key())
            }
            (None, Some(k)) => {
                let m = Ident::new("group_by_event_time", method.span());
                let t = event_time(&k.time);
                let origin = &k.origin;
                quote!(.#m(#origin, move |#r| #t, #key).__record_key())
            }
            (None, None) => {
                let m = Ident::new("group_by", method.span());
                quote!(.#m(#key))
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

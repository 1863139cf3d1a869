//! `.with_watermark(col, "10 seconds")`: the event-time column and the watermark delay (one per
//! input, as in Spark); `.with_idle_timeout("1 minute")` right after it.

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, Info, Rows, Site, Stage, Watermark};
use super::super::super::codegen::{event_time, row};
use super::super::super::parse::{expect_args, parse_col_expr, strip_groups};
use super::super::{Operator, Step};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Lit, Result};

/// `.with_watermark(col, "10 seconds")`.
pub struct WithWatermark {
    /// The event-time column.
    pub column: ColExpr,
    /// The delay, a duration string (checked by `check`).
    pub delay: syn::LitStr,
}

/// `.with_idle_timeout("1 minute")`, right after `.with_watermark(..)`.
pub struct WithIdleTimeout(pub syn::LitStr);

/// A duration string literal argument, or an error saying how to write `usage`.
fn duration_arg(arg: &Expr, what: &str, usage: &str) -> Result<syn::LitStr> {
    match strip_groups(arg) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(Error::new(
            other.span(),
            format!("{what} is a duration string literal, checked at compile time: `{usage}`"),
        )),
    }
}

/// Parses `.with_watermark(column, "delay")`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    const USAGE: &str = ".with_watermark(event_time_column, \"10 seconds\")";
    expect_args(mc, 2, USAGE)?;
    let args: Vec<&Expr> = mc.args.iter().collect();
    let column = parse_col_expr(args[0])?;
    let delay = duration_arg(args[1], "the watermark delay", USAGE)?;
    Ok(Box::new(WithWatermark { column, delay }))
}

/// Parses `.with_idle_timeout("timeout")`.
pub fn parse_idle_timeout(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    const USAGE: &str = ".with_idle_timeout(\"1 minute\")";
    expect_args(mc, 1, USAGE)?;
    Ok(Box::new(WithIdleTimeout(duration_arg(
        &mc.args[0],
        "the idle timeout",
        USAGE,
    )?)))
}

/// The name the builder knows an event-time column by: the column's, or for an expression the
/// columns it reads (`(a, b)`), which no window of a plain column matches.
pub fn column_name(column: &ColExpr) -> String {
    match column {
        ColExpr::Column(c) => c.to_string(),
        other => {
            let mut cols = Vec::new();
            other.for_each_column(&mut |c| cols.push(c.to_string()));
            format!("({})", cols.join(", "))
        }
    }
}

impl Operator for WithWatermark {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a watermark is checked on rows")
        };
        let Self { column, delay } = self;
        match stream_core::parse_duration(&delay.value()) {
            Ok(ms) if ms < 0 => cx.error(delay.span(), "a watermark delay cannot be negative"),
            Ok(_) => {}
            Err(e) => cx.error(delay.span(), e),
        }
        let name = column_name(column);
        // A batch query ignores watermarks (as Spark's), so a second one is no error there.
        let first = info
            .event_time
            .first()
            .filter(|_| info.bounded != Some(true));
        if let Some((first, _)) = first {
            let after = if info.watermark_of(first).is_some() {
                String::new()
            } else {
                " (a column dropped or aggregated since)".to_string()
            };
            cx.error(
                column.span(),
                format!(
                    "Redefining watermark is disallowed: these rows already have a watermark, on \
                     `{first}`{after}, and Spark allows one `.with_watermark(..)` per input; remove \
                     this one and window by the first one's column, or move this one before the \
                     first and remove that one (inputs joined by `.union(..)` may each have their own)"
                ),
            );
        }
        info.watermarks.push(Watermark {
            column: name.clone(),
            origin: name.clone(),
            unchecked: match (column, &rows) {
                (ColExpr::Column(c), Rows::Opaque) => Some((c.clone(), info.family)),
                _ => None,
            },
        });
        info.event_time.push((name.clone(), column.span()));
        info.after_watermark = true;
        Some(Box::new(WithWatermarkStep {
            method: at.method,
            name,
            time: cx.expr(column, &rows, &info.tables),
            delay: delay.clone(),
        }))
    }
}

impl Operator for WithIdleTimeout {
    fn check(&self, cx: &mut Checker, at: Site, _: &mut Info) -> Option<Box<dyn Step>> {
        let timeout = &self.0;
        if !at.after_watermark {
            cx.error(
                at.method.span(),
                "`.with_idle_timeout(..)` lets the input of a watermark stop holding it back: call it \
                 right after that `.with_watermark(col, \"delay\")`",
            );
            return None;
        }
        match stream_core::parse_duration(&timeout.value()) {
            Ok(ms) if ms <= 0 => {
                cx.error(
                    timeout.span(),
                    format!(
                        "an idle timeout must be positive, not `{}`; write e.g. \"1 minute\"",
                        timeout.value()
                    ),
                );
                None
            }
            Ok(_) => Some(Box::new(WithIdleTimeoutStep {
                method: at.method,
                timeout: timeout.clone(),
            })),
            Err(e) => {
                cx.error(timeout.span(), e);
                None
            }
        }
    }
}

/// `.with_watermark_on("col", |__r| time, "delay")`.
pub struct WithWatermarkStep {
    /// The user's method token.
    pub method: Ident,
    /// The column's name, as the builder knows it.
    pub name: String,
    /// The event-time column.
    pub time: ColExpr,
    /// The delay, as written (the runtime parses it again).
    pub delay: syn::LitStr,
}

/// `.with_idle_timeout("timeout")`.
pub struct WithIdleTimeoutStep {
    /// The user's method token.
    pub method: Ident,
    /// The timeout, as written (the runtime parses it again).
    pub timeout: syn::LitStr,
}

impl Step for WithWatermarkStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            name,
            time,
            delay,
        } = self;
        let m = Ident::new("with_watermark_on", method.span());
        let t = event_time(time);
        quote!(.#m(#name, move |#r| #t, #delay))
    }
}

impl Step for WithIdleTimeoutStep {
    fn generate(&self) -> TokenStream {
        let Self { method, timeout } = self;
        quote!(.#method(#timeout))
    }
}

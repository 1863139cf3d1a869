//! `.with_watermark(col, "10 seconds")`: the event-time column and the watermark delay.

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, Info, Site, Stage};
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

/// Parses `.with_watermark(column, "delay")`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    const USAGE: &str = ".with_watermark(event_time_column, \"10 seconds\")";
    expect_args(mc, 2, USAGE)?;
    let args: Vec<&Expr> = mc.args.iter().collect();
    let column = parse_col_expr(args[0])?;
    let delay = match strip_groups(args[1]) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => s.clone(),
        other => {
            return Err(Error::new(
                other.span(),
                format!("the watermark delay is a duration string literal, checked at compile time: `{USAGE}`"),
            ))
        }
    };
    Ok(Box::new(WithWatermark { column, delay }))
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
        if let ColExpr::Column(c) = column {
            info.watermarks.push(c.to_string());
        }
        Some(Box::new(WithWatermarkStep {
            method: at.method,
            time: cx.expr(column, &rows, &info.tables),
            delay: delay.clone(),
        }))
    }
}

/// `.with_watermark(|__r| time, "delay")`.
pub struct WithWatermarkStep {
    /// The user's method token.
    pub method: Ident,
    /// The event-time column.
    pub time: ColExpr,
    /// The delay, as written (the runtime parses it again).
    pub delay: syn::LitStr,
}

impl Step for WithWatermarkStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            time,
            delay,
        } = self;
        let t = event_time(time);
        quote!(.#method(move |#r| #t, #delay))
    }
}

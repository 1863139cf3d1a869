//! `.filter(expr)`, `.r#where(expr)`, `.where_(expr)`: keep the rows where a column expression
//! holds; `.filter(|row| ..)`: a typed predicate, passed through.

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, Info, Site, Stage};
use super::super::super::codegen::{checked, row, value, Check};
use super::super::super::parse::{expect_args, parse_col_expr, strip_groups};
use super::super::{Operator, Step};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, ExprMethodCall, Ident, Result};

/// `.filter(expr)` / `.r#where(expr)` / `.where_(expr)` with a column expression.
pub struct Filter(pub ColExpr);

/// `.filter(|row| ...)`: a typed predicate on `&T`, passed through.
pub struct FilterFn(pub Expr);

/// Parses `.filter(..)` and its other names: a closure, or a column expression.
pub fn parse(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, &format!(".{name}(price > 10)"))?;
    let arg = &mc.args[0];
    let op: Box<dyn Operator> = match strip_groups(arg) {
        Expr::Closure(_) => Box::new(FilterFn(arg.clone())),
        e => Box::new(Filter(parse_col_expr(e)?)),
    };
    Ok(op)
}

impl Operator for Filter {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a filter is checked on rows")
        };
        Some(Box::new(FilterStep {
            method: at.method,
            pred: cx.expr(&self.0, &rows, &info.tables),
        }))
    }
}

impl Operator for FilterFn {
    fn check(&self, _: &mut Checker, at: Site, _: &mut Info) -> Option<Box<dyn Step>> {
        Some(Box::new(FilterFnStep {
            method: at.method,
            func: self.0.clone(),
        }))
    }
}

/// `.filter(|__r| pred)`.
pub struct FilterStep {
    /// The user's method token.
    pub method: Ident,
    /// The predicate.
    pub pred: ColExpr,
}

/// `.filter(f)` with the user's closure.
pub struct FilterFnStep {
    /// The user's method token.
    pub method: Ident,
    /// The closure.
    pub func: Expr,
}

impl Step for FilterStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let m = Ident::new("filter", self.method.span());
        let pred = checked(Check::Condition, self.pred.span(), value(&self.pred, false));
        quote!(.#m(move |#r| #pred))
    }
}

impl Step for FilterFnStep {
    fn generate(&self) -> TokenStream {
        let m = Ident::new("filter", self.method.span());
        let func = &self.func;
        quote!(.#m(#func))
    }
}

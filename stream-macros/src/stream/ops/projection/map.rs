//! `.map(f)` and `.flat_map(f)`: the user's typed functions, passed through; the rows after are
//! of a type the macro cannot see.

use super::super::super::check::{Checker, Info, Rows, Site, Stage};
use super::super::super::parse::expect_args;
use super::super::{Operator, Step};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, ExprMethodCall, Ident, Result};

/// `.map(f)`: a typed function, passed through.
pub struct Map(pub Expr);

/// `.flat_map(f)`: a typed function, passed through.
pub struct FlatMap(pub Expr);

/// Parses `.map(f)`.
pub fn parse_map(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".map(|row: Row| ...)")?;
    Ok(Box::new(Map(mc.args[0].clone())))
}

/// Parses `.flat_map(f)`.
pub fn parse_flat_map(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".flat_map(|row: Row| ...)")?;
    Ok(Box::new(FlatMap(mc.args[0].clone())))
}

/// The rows after a typed function: opaque, with no joined tables.
fn typed(cx: &mut Checker, method: Ident, func: &Expr, info: &mut Info) -> Option<Box<dyn Step>> {
    info.stage = Stage::Rows(Rows::Opaque);
    info.family = cx.new_family();
    info.unchecked.clear();
    info.tables.clear();
    // A typed function's rows are new: no column of them is a known window.
    info.windows.clear();
    Some(Box::new(MapStep {
        method,
        func: func.clone(),
    }))
}

impl Operator for Map {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        typed(cx, at.method, &self.0, info)
    }
}

impl Operator for FlatMap {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        typed(cx, at.method, &self.0, info)
    }
}

/// `.map(f)` / `.flat_map(f)` with the user's function.
pub struct MapStep {
    /// The user's method token (`map` or `flat_map`).
    pub method: Ident,
    /// The function.
    pub func: Expr,
}

impl Step for MapStep {
    fn generate(&self) -> TokenStream {
        let Self { method, func } = self;
        quote!(.#method(#func))
    }
}

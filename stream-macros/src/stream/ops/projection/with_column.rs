//! `.with_column(name, expr)`: add (or replace) a column. On known columns the rows become a
//! generated struct; otherwise the new column is added around the row (a `WithColumn` wrapper
//! dereferencing to it).

use super::super::super::ast::{ColExpr, NamedExpr};
use super::super::super::check::{Checker, GenKind, Info, Rows, Site, Stage};
use super::super::super::codegen::{row, value};
use super::super::super::parse::{expect_args, parse_col_expr, strip_groups};
use super::super::{Operator, Step};
use super::{copy_columns, ProjectStep};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Lit, Result};

/// `.with_column(name, expr)`.
pub struct WithColumn(pub NamedExpr);

/// Parses `.with_column(name, expr)` (the name also as a string).
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 2, ".with_column(name, expression)")?;
    let args: Vec<&Expr> = mc.args.iter().collect();
    let name = match strip_groups(args[0]) {
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
            p.path.get_ident().unwrap().clone()
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse::<Ident>().map_err(|_| {
            Error::new(
                s.span(),
                "a column name must be a Rust identifier, e.g. `bonus`",
            )
        })?,
        other => {
            return Err(Error::new(
                other.span(),
                "the first argument of `.with_column` is the new column's name: `.with_column(bonus, price + 1)`",
            ))
        }
    };
    let expr = parse_col_expr(args[1])?;
    Ok(Box::new(WithColumn(NamedExpr { name, expr })))
}

impl Operator for WithColumn {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a projection is checked on rows")
        };
        let (method, item) = (at.method, &self.0);
        let window = super::select::window_item(info, &item.name, &item.expr);
        info.watermarks.retain(|w| item.name != w.column);
        info.windows.retain(|w| item.name != w.column);
        info.windows.extend(window);
        info.unchecked.retain(|c| item.name != c);
        if matches!(rows, Rows::Known { .. }) {
            let copy = cx.unchecked_copies(&rows, [(&item.name, &item.expr)]);
            info.unchecked.extend(copy);
        }
        let value = cx.expr(&item.expr, &rows, &info.tables);
        match rows {
            // Rows with joined tables keep them: the new column is added around the row.
            Rows::Known { mut columns, .. } if !info.tables.is_empty() => {
                if !columns.contains(&item.name) {
                    columns.push(item.name.clone());
                }
                info.stage = Stage::Rows(Rows::Known {
                    strukt: None,
                    columns,
                    origin: "`.with_column(..)`".into(),
                });
                let strukt = cx.new_struct("WithColumn", GenKind::WithColumn(item.name.clone()));
                Some(Box::new(ExtendStep {
                    method,
                    strukt,
                    column: item.name.clone(),
                    value,
                }))
            }
            Rows::Known { columns, .. } => {
                let mut out = copy_columns(&columns);
                match out.iter_mut().find(|(n, _)| *n == item.name) {
                    Some(slot) => slot.1 = value,
                    None => out.push((item.name.clone(), value)),
                }
                let names: Vec<Ident> = out.iter().map(|(n, _)| n.clone()).collect();
                let strukt = cx.new_struct("Row", GenKind::Columns(names.clone()));
                info.stage = Stage::Rows(Rows::Known {
                    strukt: Some(strukt.clone()),
                    columns: names,
                    origin: "`.with_column(..)`".into(),
                });
                Some(Box::new(ProjectStep {
                    method,
                    strukt,
                    columns: out,
                }))
            }
            Rows::Opaque => {
                let strukt = cx.new_struct("WithColumn", GenKind::WithColumn(item.name.clone()));
                Some(Box::new(ExtendStep {
                    method,
                    strukt,
                    column: item.name.clone(),
                    value,
                }))
            }
        }
    }
}

/// `.map(|__r| S { __base: __r, column: expr })`.
pub struct ExtendStep {
    /// The user's method token.
    pub method: Ident,
    /// The generated `WithColumn` wrapper.
    pub strukt: Ident,
    /// The new column.
    pub column: Ident,
    /// Its value.
    pub value: ColExpr,
}

impl Step for ExtendStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            strukt,
            column,
            value: v,
        } = self;
        let m = Ident::new("map", method.span());
        let v = value(v, true);
        let tmp = Ident::new("__v", Span::mixed_site());
        quote!(.#m(move |#r| { let #tmp = #v; #strukt { __base: #r, #column: #tmp } }))
    }
}

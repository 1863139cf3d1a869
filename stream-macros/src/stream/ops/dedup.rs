//! Deduplication: `.drop_duplicates()` (all columns), `.drop_duplicates(col, ..)` and
//! `.drop_duplicates_within_watermark(col, ..)` (Spark's `dropDuplicates` and
//! `dropDuplicatesWithinWatermark`). The rows flow on unchanged.
//!
//! On rows with a watermark, the builder is told the watermarked column (late rows are
//! dropped) and whether the key holds it (its state is released once the watermark reaches
//! it); `drop_duplicates_within_watermark` needs a watermark. Both are refused after an
//! aggregation (`stream_core::rules::check_deduplication`).

use super::super::ast::ColExpr;
use super::super::check::{Checker, Info, Site, Stage};
use super::super::codegen::{event_time, row, value};
use super::super::parse::{parse_col_expr, strip_groups};
use super::{Operator, Step};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Error, ExprMethodCall, Ident, Result};

/// `.drop_duplicates(col, ..)` or `.drop_duplicates_within_watermark(col, ..)`; no column:
/// all of them.
pub struct DropDuplicates {
    /// The key's columns (empty: the whole row).
    pub columns: Vec<Ident>,
    /// `drop_duplicates_within_watermark`.
    pub within: bool,
}

/// Parses `.drop_duplicates(..)` and `.drop_duplicates_within_watermark(..)`: column names.
pub fn parse(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let mut columns = Vec::new();
    for arg in &mc.args {
        match parse_col_expr(strip_groups(arg)) {
            Ok(ColExpr::Column(c)) => columns.push(c),
            _ => {
                return Err(Error::new(
                    arg.span(),
                    format!(
                    "`.{name}` takes column names, the key of a duplicate: `.{name}(user, ts)`, \
                         or `.{name}()` for all columns; compute another key with \
                         `.with_column(expr as key)` first"
                ),
                ))
            }
        }
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(Error::new(
                c.span(),
                format!("the column `{c}` appears twice in this `.{name}`; name it once"),
            ));
        }
    }
    Ok(Box::new(DropDuplicates {
        columns,
        within: name == "drop_duplicates_within_watermark",
    }))
}

impl Operator for DropDuplicates {
    fn streaming_only(&self) -> bool {
        // Spark rejects dropDuplicatesWithinWatermark on batch Datasets.
        self.within
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a deduplication is checked on rows")
        };
        let method = at.method;
        let key: Vec<ColExpr> = (self.columns.iter())
            .map(|c| cx.expr(&ColExpr::Column(c.clone()), &rows, &info.tables))
            .collect();
        // The watermarked column of the rows, if one is a plain column (the builder reads it).
        let watermark = info.watermarks.iter().find_map(|w| {
            let column = syn::parse_str::<Ident>(&w.column).ok()?;
            Some((
                Ident::new(&column.to_string(), method.span()),
                w.origin.clone(),
            ))
        });
        if let Err(e) =
            stream_core::rules::check_deduplication(&info.shape, self.within, watermark.is_some())
        {
            cx.error(method.span(), e);
            return None;
        }
        let time = watermark.map(|(column, origin)| {
            let holds = self.columns.is_empty() || self.columns.contains(&column);
            EventTime {
                origin,
                time: ColExpr::Column(column),
                holds,
            }
        });
        Some(Box::new(DropDuplicatesStep {
            method,
            key,
            within: self.within,
            time,
        }))
    }
}

/// The watermarked event-time column a deduplication reads.
pub struct EventTime {
    /// Its name, as the builder knows it.
    pub origin: String,
    /// Its value.
    pub time: ColExpr,
    /// The key holds it.
    pub holds: bool,
}

/// `.drop_duplicates(|__r| key)`, `.drop_duplicates_all()`, or with the watermarked column
/// `.drop_duplicates_on(col, |__r| time, holds, |__r| key)` /
/// `.drop_duplicates_within_watermark_on(col, |__r| time, |__r| key)`.
pub struct DropDuplicatesStep {
    /// The user's method token.
    pub method: Ident,
    /// The key's columns (empty: the whole row).
    pub key: Vec<ColExpr>,
    /// `drop_duplicates_within_watermark`.
    pub within: bool,
    /// The watermarked column, if the rows carry one.
    pub time: Option<EventTime>,
}

impl Step for DropDuplicatesStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            key,
            within,
            time,
        } = self;
        // The key's column names, for the checkpoint's description of the query.
        let columns = key
            .iter()
            .filter_map(|e| match e {
                ColExpr::Column(c) => Some(c.to_string()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(", ");
        let record = (!columns.is_empty()).then(|| quote!(.__dedup_key_columns(#columns)));
        let key = if key.is_empty() {
            quote!(move |#r| ::std::clone::Clone::clone(#r))
        } else {
            let values = key.iter().map(|e| value(e, true));
            quote!(move |#r| (#(#values,)*))
        };
        let name = |n: &str| Ident::new(n, method.span());
        let call = match (time, within) {
            (Some(t), true) => {
                let (m, origin, at) = (
                    name("drop_duplicates_within_watermark_on"),
                    &t.origin,
                    event_time(&t.time),
                );
                quote!(.#m(#origin, move |#r| #at, #key))
            }
            (Some(t), false) => {
                let (m, origin, at, holds) = (
                    name("drop_duplicates_on"),
                    &t.origin,
                    event_time(&t.time),
                    t.holds,
                );
                quote!(.#m(#origin, move |#r| #at, #holds, #key))
            }
            // Checked above: a deduplication within the watermark has one.
            (None, _) if self.key.is_empty() => {
                let m = name("drop_duplicates_all");
                quote!(.#m())
            }
            (None, _) => {
                let m = name("drop_duplicates");
                quote!(.#m(#key))
            }
        };
        quote!(#call #record)
    }
}

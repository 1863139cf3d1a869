//! `.select(item, ..)`: project the rows on columns and named expressions (`expr as name`).

use super::super::super::ast::{ColExpr, NamedExpr};
use super::super::super::check::{Checker, GenKind, Info, Rows, Site, Stage, Watermark};
use super::super::super::parse::parse_named;
use super::super::{Operator, Step};
use super::ProjectStep;
use syn::{Error, ExprMethodCall, Ident, Result};

/// `.select(item, ...)`.
pub struct Select(pub Vec<NamedExpr>);

/// Parses `.select(item, ..)`, or `.select(from_json::<T>(col))`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    if let Some(op) = super::from_json::parse_in_select(mc)? {
        return Ok(op);
    }
    if mc.args.is_empty() {
        return Err(Error::new(
            mc.method.span(),
            "`.select` needs at least one column: `.select(auction, price * 2 as double_price)`",
        ));
    }
    Ok(Box::new(Select(
        mc.args.iter().map(parse_named).collect::<Result<_>>()?,
    )))
}

impl Operator for Select {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a projection is checked on rows")
        };
        let items = &self.0;
        // Event-time columns keep their watermark through a projection (also renamed).
        info.watermarks = items
            .iter()
            .filter_map(|i| match &i.expr {
                ColExpr::Column(c) => info.watermark_of(&c.to_string()).map(|w| Watermark {
                    column: i.name.to_string(),
                    origin: w.origin.clone(),
                    unchecked: None,
                }),
                _ => None,
            })
            .collect();
        info.windows = items
            .iter()
            .filter_map(|i| window_item(info, &i.name, &i.expr))
            .collect();
        let unchecked = cx.unchecked_copies(&rows, items.iter().map(|i| (&i.name, &i.expr)));
        let columns = cx.items(items, &rows, &info.tables, "select");
        info.unchecked = unchecked;
        info.tables.clear();
        let names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
        let strukt = cx.new_struct("Row", GenKind::Columns(names.clone()));
        info.stage = Stage::Rows(Rows::Known {
            strukt: Some(strukt.clone()),
            columns: names,
            origin: "`.select(..)`".into(),
        });
        Some(Box::new(ProjectStep {
            method: at.method,
            strukt,
            columns,
        }))
    }
}

/// The watermarked window a projected column `name = expr` is: `window(time, "size")` of a
/// column with a watermark, or a copy of such a window.
pub fn window_item(info: &Info, name: &Ident, expr: &ColExpr) -> Option<Watermark> {
    let origin = match expr {
        ColExpr::Column(c) => info.window_of(&c.to_string())?.origin.clone(),
        ColExpr::Call { func, args, .. }
            if func
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "tumbling_window") =>
        {
            let ColExpr::Column(time) = args.first()? else {
                return None;
            };
            info.watermark_of(&time.to_string())?.origin.clone()
        }
        _ => return None,
    };
    Some(Watermark {
        column: name.to_string(),
        origin,
        unchecked: None,
    })
}

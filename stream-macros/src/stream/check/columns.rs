//! Column expressions checked against the rows that flow in: known columns, joined static
//! tables' names, hoisted `lit(..)` values.

use super::super::ast::{ColExpr, NamedExpr};
use super::super::suggest::did_you_mean;
use super::{Checker, JTable, Rows};
use proc_macro2::Span;
use syn::Ident;

/// Replaces the names of joined static tables, `people` and `people.state`, by table
/// references (the most recent join wins when two tables have the same name).
pub fn resolve_tables(e: &ColExpr, tables: &[JTable]) -> ColExpr {
    let find = |c: &Ident| {
        tables.iter().rposition(|t| t.name == *c).map(|i| {
            let t = &tables[i];
            (tables.len() - 1 - i, t.optional)
        })
    };
    if tables.is_empty() {
        return e.clone();
    }
    match e {
        ColExpr::Column(c) => match find(c) {
            Some((depth, optional)) => ColExpr::Table {
                name: c.clone(),
                depth,
                optional,
                member: None,
            },
            None => e.clone(),
        },
        ColExpr::Field { base, dot, member } => match &**base {
            ColExpr::Column(c) => match find(c) {
                Some((depth, optional)) => ColExpr::Table {
                    name: c.clone(),
                    depth,
                    optional,
                    member: Some((*dot, member.clone())),
                },
                None => e.clone(),
            },
            _ => e.map_children(&mut |c| resolve_tables(c, tables)),
        },
        _ => e.map_children(&mut |c| resolve_tables(c, tables)),
    }
}

/// True if `e` reads the table `name`: `name` or `name.col`.
pub fn mentions(e: &ColExpr, name: &Ident) -> bool {
    let mut found = false;
    e.for_each_column(&mut |c| found |= c == name);
    found
}

/// The expression over the table's own rows: `people.id` becomes `id`.
pub fn unqualify(e: &ColExpr, name: &Ident) -> ColExpr {
    match e {
        ColExpr::Field { base, member, .. } => match (&**base, member) {
            (ColExpr::Column(c), syn::Member::Named(col)) if c == name => {
                ColExpr::Column(col.clone())
            }
            _ => e.map_children(&mut |c| unqualify(c, name)),
        },
        _ => e.map_children(&mut |c| unqualify(c, name)),
    }
}

/// The columns, for messages: `a, b, c`.
pub fn names(cols: &[Ident]) -> String {
    cols.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker {
    /// Resolves the joined tables' names (`people.state`), checks the columns an expression
    /// reads against known rows, and hoists its `lit(..)`s.
    pub fn expr(&mut self, e: &ColExpr, rows: &Rows, tables: &[JTable]) -> ColExpr {
        let e = resolve_tables(e, tables);
        match rows {
            Rows::Opaque => e.for_each_column(&mut |c| {
                self.seen_columns.insert(c.to_string());
            }),
            Rows::Known { columns, .. } => self
                .seen_columns
                .extend(columns.iter().map(|c| c.to_string())),
        }
        if let Rows::Known {
            columns, origin, ..
        } = rows
        {
            let mut unknown = Vec::new();
            e.for_each_column(&mut |c| {
                if !columns.contains(c) {
                    unknown.push(c.clone());
                }
            });
            let known: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            // Only the columns known to exist are listed: a plain copy of a column of the
            // user's type may be misspelled (rustc checks it once this error is fixed).
            let checked: Vec<Ident> = columns
                .iter()
                .filter(|c| !self.unchecked.contains(&c.to_string()))
                .cloned()
                .collect();
            let copied = if checked.len() == columns.len() {
                ""
            } else {
                " (and columns copied from the input's row type, which rustc checks)"
            };
            let listed = if checked.is_empty() {
                "only columns copied from the input's row type (rustc checks that it has them)"
                    .to_string()
            } else {
                format!("the columns: {}{copied}", names(&checked))
            };
            let qualified = match tables {
                [] => String::new(),
                [t] => format!(
                    ", and the static table's columns are written `{}.column`",
                    t.name
                ),
                _ => format!(
                    ", and the static tables' columns are written {}",
                    tables
                        .iter()
                        .map(|t| format!("`{}.column`", t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            for c in unknown {
                let s = c.to_string();
                let hint = did_you_mean(&s, known.iter().map(String::as_str));
                // Every bare name is a column: a Rust value is passed with `lit(..)`.
                let value = if hint.is_empty() && !self.seen_columns.contains(&s) {
                    format!("; if `{s}` is a Rust variable rather than a column, pass its value with `lit({s})`")
                } else {
                    String::new()
                };
                self.error(
                    c.span(),
                    format!("unknown column `{s}`{hint}; the rows after {origin} have {listed}{qualified}{value}"),
                );
            }
        }
        self.hoist(&e)
    }

    /// Moves the `lit(..)` values of an expression into variables evaluated once, before the
    /// pipelines.
    pub fn hoist(&mut self, e: &ColExpr) -> ColExpr {
        match e {
            ColExpr::RustValue { func, expr } => {
                let var = Ident::new(&format!("__lit{}", self.lits.len()), Span::mixed_site());
                self.lits.push((var.clone(), (**expr).clone()));
                ColExpr::Hoisted {
                    func: func.clone(),
                    var,
                }
            }
            _ => e.map_children(&mut |c| self.hoist(c)),
        }
    }

    /// Checks named items (select, group_by): columns exist, names are unique.
    pub fn items(
        &mut self,
        items: &[NamedExpr],
        rows: &Rows,
        tables: &[JTable],
        what: &str,
    ) -> Vec<(Ident, ColExpr)> {
        let mut out: Vec<(Ident, ColExpr)> = Vec::new();
        for item in items {
            let e = self.expr(&item.expr, rows, tables);
            if out.iter().any(|(n, _)| *n == item.name) {
                self.error(
                    item.name.span(),
                    format!(
                        "the column `{}` appears twice in this {what}; rename one with `as other_name`",
                        item.name
                    ),
                );
                continue;
            }
            out.push((item.name.clone(), e));
        }
        out
    }
}

//! `.union(other)`: the rows of both pipelines (a `let` name or a pipeline), with the same
//! columns in the same order.

use super::super::super::ast::Pipeline;
use super::super::super::check::{
    names, sorted_message, Checker, Info, Lowered, Rows, Site, Stage,
};
use super::super::super::codegen::pipeline;
use super::super::super::parse::{expect_args, parse_pipeline};
use super::super::{Operator, Step};
use super::{copy_columns, ProjectStep};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{ExprMethodCall, Ident, Result};

/// `.union(other)`.
pub struct Union(pub Box<Pipeline>);

/// Parses `.union(other)`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".union(other)")?;
    Ok(Box::new(Union(Box::new(parse_pipeline(&mc.args[0])?))))
}

impl Operator for Union {
    fn nested(&self) -> Option<&Pipeline> {
        Some(&self.0)
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a union is checked on rows")
        };
        let method = at.method;
        let (mut lowered, other_info) = cx.pipeline(&self.0);
        info.shape
            .aggregations
            .extend(other_info.shape.aggregations.iter().cloned());
        info.shape.sorted |= other_info.shape.sorted;
        info.failed |= other_info.failed;
        if other_info.append_probe.is_some() {
            info.append_probe = Some(Err(()));
        }
        info.watermarks
            .extend(other_info.watermarks.iter().cloned());
        info.event_time
            .extend(other_info.event_time.iter().cloned());
        if let Some(at) = &other_info.sorted_at {
            let (what, before) = sorted_message(at, info.bounded);
            cx.error(
                at.span(),
                format!("`.{at}(..)` {what}: call it after `.union(..)`, right before {before}"),
            );
        }
        match (info.bounded, other_info.bounded) {
            (Some(a), Some(b)) if a != b => cx.error(
                method.span(),
                "Union between streaming and batch Datasets is not supported: one side reads a \
                 stream (`read_stream(..)`), the other bounded input (`read(..)`); read both the \
                 same way, or join the stream with the batch side",
            ),
            (None, b) => info.bounded = b,
            _ => {}
        }
        if info.tables != other_info.tables {
            cx.error(
                method.span(),
                "`.union` needs rows joined with the same static tables on both sides; \
                 `.select(..)` the same columns on both sides first",
            );
        }
        match other_info.stage {
            Stage::Rows(other_rows) => {
                if let (
                    Rows::Known {
                        strukt: Some(mine),
                        columns: a,
                        ..
                    },
                    Rows::Known {
                        strukt: theirs,
                        columns: b,
                        ..
                    },
                ) = (&rows, &other_rows)
                {
                    if a != b {
                        cx.error(
                            method.span(),
                            format!(
                                "`.union` needs the same columns in the same order on both sides: \
                                 this side has ({}), the other has ({}); `.select(..)` the same columns on both",
                                names(a),
                                names(b)
                            ),
                        );
                    } else if theirs.as_ref() != Some(mine) {
                        // Same columns in another generated struct: convert it.
                        lowered.steps.push(Box::new(ProjectStep {
                            method: method.clone(),
                            strukt: mine.clone(),
                            columns: copy_columns(b),
                        }));
                    }
                }
            }
            _ => cx.error(
                method.span(),
                "`.union` takes a dataset (a pipeline before `.group_by` or `.write_stream`)",
            ),
        }
        Some(Box::new(UnionStep {
            method,
            other: Box::new(lowered),
        }))
    }
}

/// `.union(other)`.
pub struct UnionStep {
    /// The user's method token.
    pub method: Ident,
    /// The other pipeline.
    pub other: Box<Lowered>,
}

impl Step for UnionStep {
    fn generate(&self) -> TokenStream {
        let method = &self.method;
        let other = pipeline(&self.other);
        quote!(.#method(#other))
    }
}

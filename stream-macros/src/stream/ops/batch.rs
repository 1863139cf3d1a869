//! Batch queries: a pipeline that starts with `read::<T>(source)` reads bounded inputs whole
//! and runs once (Spark's `spark.read ... collect()`). Its actions run it: `.collect()` (the
//! result's rows), `.show(n)` (the console table) and `.write(sink)` (the whole result, once).
//! Every other operator is the streaming one; the calls that only mean something on a stream
//! (`write_stream` and the writer's options) are errors here, and the actions are errors on a
//! stream (the dispatcher asks [`Operator::streaming_only`] and [`Operator::runs_batch`]).

use super::super::check::{Checker, Info, Site, Stage};
use super::super::parse::expect_args;
use super::{Operator, Step};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Error, Expr, ExprMethodCall, Ident, Result};

/// `.collect()`.
pub struct Collect;

/// `.show()` / `.show(n)`.
pub struct Show(pub Option<Expr>);

/// `.write(sink)`.
pub struct Write(pub Expr);

/// Parses `.collect()`.
pub fn parse_collect(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 0, ".collect()")?;
    Ok(Box::new(Collect))
}

/// Parses `.show()` and `.show(n)`.
pub fn parse_show(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    if mc.args.len() > 1 {
        return Err(Error::new(
            mc.method.span(),
            "`.show` takes the number of rows to print, or nothing for 20: write `.show(10)`",
        ));
    }
    Ok(Box::new(Show(mc.args.first().cloned())))
}

/// Parses `.write(sink)`.
pub fn parse_write(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".write(Files::json(\"out\"))")?;
    Ok(Box::new(Write(mc.args[0].clone())))
}

/// The error for a streaming-only call (`.trigger`, `.output_mode`, ..) on a batch pipeline.
pub fn streaming_only(m: &str) -> String {
    let call = if m == "start" {
        ".start()".to_string()
    } else {
        format!(".{m}(..)")
    };
    let instead = match m {
        "write_stream" => {
            "write the result with `.write(sink)`, or get it with `.collect()` or `.show(n)`"
        }
        "trigger" => "it needs no trigger: remove it",
        "output_mode" => "its result is the whole table, written once: remove it",
        "checkpoint_location" => {
            "it keeps no checkpoint (each run reads all of its input): remove it"
        }
        _ => "remove it",
    };
    format!(
        "`{call}` is for streaming queries, and this pipeline is a batch query: it reads \
         bounded input with `read(..)` and runs once over all of it, so {instead}; to run it as \
         a stream, read with `read_stream(..)`"
    )
}

/// The error for a batch action (`.collect()`, ..) on a stream.
pub fn batch_only(m: &str) -> String {
    format!(
        "`.{m}` runs a batch query, and this pipeline reads a stream (`read_stream(..)`), which \
         never ends: write it with `.write_stream(sink)` and `.start()` it, or read bounded input \
         with `read::<T>(source)` to run it once over all of it"
    )
}

/// Where the batch actions may be written, for messages.
pub const ACTIONS: &str = "`.collect()`, `.show(n)` or `.write(sink)`";

/// The check every action shares: the pipeline ends here.
fn run(at: Site, info: &mut Info) -> Ident {
    info.stage = Stage::Done(at.method.clone());
    at.method
}

impl Operator for Collect {
    fn runs_batch(&self) -> bool {
        true
    }
    fn allowed_after_sort(&self) -> bool {
        true
    }
    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = run(at, info);
        Some(Box::new(ActionStep(quote!(.#method()))))
    }
}

impl Operator for Show {
    fn runs_batch(&self) -> bool {
        true
    }
    fn allowed_after_sort(&self) -> bool {
        true
    }
    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = run(at, info);
        let n = match &self.0 {
            Some(n) => quote!(#n),
            // Spark's default.
            None => quote!(20),
        };
        Some(Box::new(ActionStep(quote!(.#method(#n)))))
    }
}

impl Operator for Write {
    fn runs_batch(&self) -> bool {
        true
    }
    fn allowed_after_sort(&self) -> bool {
        true
    }
    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = run(at, info);
        let sink = &self.0;
        Some(Box::new(ActionStep(quote!(.#method(#sink)))))
    }
}

/// An action's builder call, `.collect()` / `.show(n)` / `.write(sink)` (the same methods on
/// `Dataset`).
pub struct ActionStep(pub TokenStream);

impl Step for ActionStep {
    fn generate(&self) -> TokenStream {
        self.0.clone()
    }
}

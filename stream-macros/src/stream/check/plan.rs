//! The checked, lowered body that codegen turns into code.

use super::super::ops::Step;
use syn::{Expr, Ident, Type};

/// The checked, lowered body.
pub struct Plan {
    /// An Append-mode error left to rustc: the result pipeline is cut before the grouping's
    /// call, which checks the probe's columns and reports the message if they exist.
    pub deferred: Option<(super::AppendProbe, String, proc_macro2::Span)>,
    /// Row and key structs to declare.
    pub structs: Vec<GenStruct>,
    /// `lit(..)` values, evaluated once before the pipelines: `let var = expr;`.
    pub lits: Vec<(Ident, Expr)>,
    /// The `let` bindings.
    pub bindings: Vec<(Ident, Lowered)>,
    /// The result.
    pub result: Lowered,
}

/// A struct the expansion declares.
pub struct GenStruct {
    /// Its name.
    pub name: Ident,
    /// Its shape.
    pub kind: GenKind,
}

/// The shape of a generated struct.
pub enum GenKind {
    /// A row (or key) whose columns the macro knows; one type parameter per column.
    Columns(Vec<Ident>),
    /// A row of unknown columns (`__base`, dereferenced to) plus one more column.
    WithColumn(Ident),
}

/// A lowered pipeline.
pub struct Lowered {
    /// Where it starts.
    pub source: LSource,
    /// What it does: one lowered step per call (an error drops the call).
    pub steps: Vec<Box<dyn Step>>,
}

/// Where a lowered pipeline starts.
#[derive(Clone)]
pub enum LSource {
    /// `read_stream::<T>(arg)`.
    ReadStream {
        /// The user's `read_stream` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source expression.
        arg: Box<Expr>,
    },
    /// `read::<T>(arg)`.
    Read {
        /// The user's `read` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source expression.
        arg: Box<Expr>,
    },
    /// `read_static::<T>(arg)`.
    ReadStatic {
        /// The user's `read_static` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source expression.
        arg: Box<Expr>,
    },
    /// A binding; cloned if it is used again later.
    Name {
        /// The binding.
        ident: Ident,
        /// Clone instead of moving it.
        clone: bool,
    },
}

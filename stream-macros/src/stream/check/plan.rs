//! The checked, lowered body that codegen turns into code.

use super::super::ast::{AggFunc, ColExpr};
use super::super::ops::Step;
use proc_macro2::Span;
use syn::{Expr, Ident, Type};

/// The checked, lowered body.
pub struct Plan {
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

/// A lowered aggregate.
pub struct LAgg {
    /// The user's function token.
    pub func_token: Ident,
    /// The function.
    pub func: AggFunc,
    /// Its argument.
    pub arg: Option<ColExpr>,
}

/// The key columns an aggregation's output starts with.
pub enum KeyOut {
    /// The grouping columns in order: the window's (`window`), or those of the generated key
    /// struct, copied one by one.
    Fields {
        /// All grouping columns, in order.
        fields: Vec<Ident>,
        /// The one that is the window, if any.
        window: Option<Ident>,
    },
    /// The whole key, as one column called `key`.
    Whole,
}

/// One step of a lowered pipeline, of an operator not yet in a family module of `ops`.
/// `method` is the user's method token (for spans).
pub enum LegacyStep {
    /// `.filter(|__r| pred)`.
    Filter { method: Ident, pred: ColExpr },
    /// `.filter(f)` with the user's closure.
    FilterFn { method: Ident, func: Expr },
    /// `.map(|__r| S { col: expr, ... })`.
    Project {
        method: Ident,
        strukt: Ident,
        columns: Vec<(Ident, ColExpr)>,
    },
    /// `.map(|__r| S { __base: __r, column: expr })`.
    Extend {
        method: Ident,
        strukt: Ident,
        column: Ident,
        value: ColExpr,
    },
    /// `.map(f)` with the user's function.
    Map { method: Ident, func: Expr },
    /// `.flat_map(f)` with the user's function.
    FlatMap { method: Ident, func: Expr },
    /// `.union(other)`.
    Union { method: Ident, other: Box<Lowered> },
    /// `.with_watermark(|__r| time, "delay")`.
    WithWatermark {
        method: Ident,
        time: ColExpr,
        delay: syn::LitStr,
    },
    /// `.group_by(|__r| K { col: expr, ... })`, or with a window
    /// `.group_by_window(spec, |__r| time, |__r| K { .. })`.
    GroupBy {
        method: Ident,
        strukt: Ident,
        columns: Vec<(Ident, ColExpr)>,
        window: Option<LWindow>,
        session: Option<Box<LSession>>,
    },
    /// `.group_by(f)` / `.group_by_key(f)` with the user's key function.
    GroupByFn {
        method: Ident,
        func: Expr,
        by_key: bool,
    },
    /// `.agg(|__a| (..), |__k, (..)| S { .. })`.
    Agg {
        method: Ident,
        aggs: Vec<LAgg>,
        names: Vec<Ident>,
        key: KeyOut,
        strukt: Ident,
    },
    /// The runtime's `.count()` on a grouping by key.
    CountKey { method: Ident },
    /// `.order_by(move |__r| (key, Reverse(key), ..))`.
    OrderBy {
        method: Ident,
        keys: Vec<(ColExpr, bool)>,
    },
}

/// A checked `window(..)` of a group_by.
pub struct LWindow {
    /// Size, slide and start offset in milliseconds.
    pub size: i64,
    /// See `size`.
    pub slide: i64,
    /// See `size`.
    pub offset: i64,
    /// The `window` token.
    pub span: Span,
    /// The event-time column.
    pub time: ColExpr,
}

/// A checked `session_window(..)` of a group_by.
pub struct LSession {
    /// The event-time column.
    pub time: ColExpr,
    /// The gap.
    pub gap: LGap,
}

/// A checked session gap.
pub enum LGap {
    /// The same for every row, in milliseconds, with the string's span.
    Fixed(i64, Span),
    /// Per row, in milliseconds.
    PerRow(ColExpr),
}

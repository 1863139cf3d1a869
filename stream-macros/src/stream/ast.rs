//! The syntax tree of a `stream!` body, as written by the user (before any checks).
//!
//! Every node keeps the user's tokens (and so their spans): errors found later by `check` and
//! errors found by rustc in the generated code point at what the user wrote.
//!
//! This is the generic part: the body, its pipelines and sources, column expressions. What a
//! method call means is its operator's (a `Box<dyn Operator>`), whose syntax lives in its
//! family's module of `ops`.

use super::ops::Operator;
use proc_macro2::Span;
use syn::{BinOp, Expr, Ident, Lit, Type, UnOp};

/// The whole body: `let` bindings, then the resulting pipeline.
pub struct StreamBody {
    /// `let name = pipeline;`, in order.
    pub bindings: Vec<Binding>,
    /// The final expression.
    pub result: Pipeline,
}

/// `let name = pipeline;`
pub struct Binding {
    /// The binding's name.
    pub name: Ident,
    /// What it names.
    pub pipeline: Pipeline,
}

/// A source followed by a chain of method calls.
pub struct Pipeline {
    /// Where the rows come from.
    pub source: Source,
    /// The method calls, in order.
    pub calls: Vec<Call>,
}

/// The start of a pipeline.
pub enum Source {
    /// `read_stream::<T>(source)` (the type argument is optional).
    ReadStream {
        /// The `read_stream` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source, any Rust expression.
        arg: Box<Expr>,
    },
    /// `read::<T>(source)`: a bounded dataset, read whole (a batch query, or a table joined with
    /// a stream).
    Read {
        /// The `read` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source, any Rust expression.
        arg: Box<Expr>,
    },
    /// `read_static::<T>(source)`: a static table (only as a `let` binding, joined with a stream).
    ReadStatic {
        /// The `read_static` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source, any Rust expression.
        arg: Box<Expr>,
    },
    /// The name of a `let` binding of this body, or of a `Dataset` (or a `StaticTable`) from the
    /// surrounding code.
    Name(Ident),
}

/// One `.method(args)` of a chain.
pub struct Call {
    /// The method's name, as written (its span is used for errors about the call).
    pub method: Ident,
    /// What the call means: the operator its family's parse function made of it.
    pub op: Box<dyn Operator>,
}

/// An output column: an expression and its name.
#[derive(Clone)]
pub struct NamedExpr {
    /// The column's name (given with `as name`, or the column's own name).
    pub name: Ident,
    /// Its value.
    pub expr: ColExpr,
}

/// A column expression: every bare identifier is a column of the current row.
#[derive(Clone)]
pub enum ColExpr {
    /// A column: `price`.
    Column(Ident),
    /// A literal: `1_000`, `"x"`, `2.5`, `true`.
    Lit(Lit),
    /// `lit(rust_expr)`: a Rust value, evaluated once when the pipeline is built.
    RustValue {
        /// The `lit` token.
        func: Ident,
        /// The value.
        expr: Box<Expr>,
    },
    /// A `lit(..)` whose value `check` moved into the variable `var`, evaluated once when the
    /// pipeline is built (never produced by `parse`).
    Hoisted {
        /// The `lit` token.
        func: Ident,
        /// The variable holding the value.
        var: Ident,
    },
    /// `!e`, `-e`.
    Unary {
        /// The operator.
        op: UnOp,
        /// The operand.
        expr: Box<ColExpr>,
    },
    /// `a op b`.
    Binary {
        /// Left operand.
        left: Box<ColExpr>,
        /// The operator.
        op: BinOp,
        /// Right operand.
        right: Box<ColExpr>,
    },
    /// `(e)`.
    Paren {
        /// The parentheses.
        paren: syn::token::Paren,
        /// The inner expression.
        expr: Box<ColExpr>,
    },
    /// `e as f64`: a cast to a primitive type.
    Cast {
        /// The value.
        expr: Box<ColExpr>,
        /// The `as` token.
        as_token: syn::token::As,
        /// The primitive type.
        ty: Box<Type>,
    },
    /// `&e`.
    Ref {
        /// The `&` token.
        and_token: syn::token::And,
        /// The referenced expression.
        expr: Box<ColExpr>,
    },
    /// `e.field`.
    Field {
        /// The struct-valued expression.
        base: Box<ColExpr>,
        /// The `.` token.
        dot: syn::token::Dot,
        /// The field.
        member: syn::Member,
    },
    /// `e.method(args)`: a Rust method called on a column value.
    MethodCall {
        /// The receiver.
        receiver: Box<ColExpr>,
        /// The `.` token.
        dot: syn::token::Dot,
        /// The method.
        method: Ident,
        /// `::<T>` if given.
        turbofish: Option<syn::AngleBracketedGenericArguments>,
        /// The parentheses.
        paren: syn::token::Paren,
        /// The arguments (column expressions).
        args: Vec<ColExpr>,
    },
    /// A column of a joined static table, `people.state`, or the table's whole row, `people`
    /// (never produced by `parse`: `check` resolves the table's name).
    Table {
        /// The user's table name token.
        name: Ident,
        /// How many joins were made after this table's (the row path to it).
        depth: usize,
        /// The table side is optional (an outer join): the value is an `Option`.
        optional: bool,
        /// The column, if one: `.state`.
        member: Option<(syn::token::Dot, syn::Member)>,
    },
    /// `path::to::function(args)`: a Rust function (path of two or more segments) applied to
    /// column expressions.
    Call {
        /// The function's path.
        func: syn::ExprPath,
        /// The parentheses.
        paren: syn::token::Paren,
        /// The arguments (column expressions).
        args: Vec<ColExpr>,
    },
}

impl ColExpr {
    /// The span of the expression's first token (enough to point at it).
    pub fn span(&self) -> Span {
        use syn::spanned::Spanned;
        match self {
            ColExpr::Column(i) => i.span(),
            ColExpr::Lit(l) => l.span(),
            ColExpr::RustValue { func, .. } | ColExpr::Hoisted { func, .. } => func.span(),
            ColExpr::Table { name, .. } => name.span(),
            ColExpr::Unary { op, .. } => op.span(),
            ColExpr::Binary { left, .. } => left.span(),
            ColExpr::Paren { paren, .. } => paren.span.open(),
            ColExpr::Cast { expr, .. } => expr.span(),
            ColExpr::Ref { and_token, .. } => and_token.span,
            ColExpr::Field { base, .. } => base.span(),
            ColExpr::MethodCall { receiver, .. } => receiver.span(),
            ColExpr::Call { func, .. } => func.span(),
        }
    }

    /// The same node with its sub-expressions replaced by `f`'s results.
    pub fn map_children(&self, f: &mut dyn FnMut(&ColExpr) -> ColExpr) -> ColExpr {
        let mut b = |e: &ColExpr| Box::new(f(e));
        match self {
            ColExpr::Column(_)
            | ColExpr::Lit(_)
            | ColExpr::RustValue { .. }
            | ColExpr::Hoisted { .. }
            | ColExpr::Table { .. } => self.clone(),
            ColExpr::Unary { op, expr } => ColExpr::Unary {
                op: *op,
                expr: b(expr),
            },
            ColExpr::Binary { left, op, right } => ColExpr::Binary {
                left: b(left),
                op: *op,
                right: b(right),
            },
            ColExpr::Paren { paren, expr } => ColExpr::Paren {
                paren: *paren,
                expr: b(expr),
            },
            ColExpr::Cast { expr, as_token, ty } => ColExpr::Cast {
                expr: b(expr),
                as_token: *as_token,
                ty: ty.clone(),
            },
            ColExpr::Ref { and_token, expr } => ColExpr::Ref {
                and_token: *and_token,
                expr: b(expr),
            },
            ColExpr::Field { base, dot, member } => ColExpr::Field {
                base: b(base),
                dot: *dot,
                member: member.clone(),
            },
            ColExpr::MethodCall {
                receiver,
                dot,
                method,
                turbofish,
                paren,
                args,
            } => ColExpr::MethodCall {
                receiver: b(receiver),
                dot: *dot,
                method: method.clone(),
                turbofish: turbofish.clone(),
                paren: *paren,
                args: args.iter().map(|a| *b(a)).collect(),
            },
            ColExpr::Call { func, paren, args } => ColExpr::Call {
                func: func.clone(),
                paren: *paren,
                args: args.iter().map(|a| *b(a)).collect(),
            },
        }
    }

    /// Calls `f` on every column this expression reads.
    pub fn for_each_column(&self, f: &mut dyn FnMut(&Ident)) {
        match self {
            ColExpr::Column(i) => f(i),
            ColExpr::Lit(_)
            | ColExpr::RustValue { .. }
            | ColExpr::Hoisted { .. }
            | ColExpr::Table { .. } => {}
            ColExpr::Unary { expr, .. }
            | ColExpr::Paren { expr, .. }
            | ColExpr::Cast { expr, .. }
            | ColExpr::Ref { expr, .. } => expr.for_each_column(f),
            ColExpr::Field { base, .. } => base.for_each_column(f),
            ColExpr::Binary { left, right, .. } => {
                left.for_each_column(f);
                right.for_each_column(f);
            }
            ColExpr::MethodCall { receiver, args, .. } => {
                receiver.for_each_column(f);
                args.iter().for_each(|a| a.for_each_column(f));
            }
            ColExpr::Call { args, .. } => args.iter().for_each(|a| a.for_each_column(f)),
        }
    }
}

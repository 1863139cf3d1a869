//! The writer and its options: `.write_stream(sink)`, then `.output_mode(..)`, `.trigger(..)`,
//! `.query_name(..)`, `.checkpoint_location(..)` and `.start()`.

use super::super::check::{Checker, Info, Site, Stage, Writer};
use super::super::codegen::rt;
use super::super::parse::{expect_args, last_ident, strip_groups};
use super::{Operator, Place, Step};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Lit, Result};

/// `.write_stream(sink)`: any Rust expression as the sink.
pub struct WriteStream(pub Expr);

/// `.output_mode(Append | Update | Complete)`.
pub struct OutputMode(pub ModeSpec);

/// `.trigger(...)`.
pub struct Trigger(pub TriggerSpec);

/// `.query_name(name)`.
pub struct QueryName(pub Expr);

/// `.checkpoint_location(dir)`.
pub struct CheckpointLocation(pub Expr);

/// `.start()`.
pub struct Start;

/// `Append`, `Update` or `Complete`.
#[derive(Clone)]
pub struct ModeSpec {
    /// The mode.
    pub mode: stream_core::OutputMode,
    /// Where it was written.
    pub span: Span,
}

/// A trigger, as written.
#[derive(Clone)]
pub enum TriggerSpec {
    /// `ProcessingTime("1 second")`: the string literal (checked by `check`).
    ProcessingTime(syn::LitStr),
    /// `ProcessingTime(1000)`: milliseconds.
    ProcessingTimeMs(syn::LitInt),
    /// `AvailableNow`
    AvailableNow(Span),
    /// `Once`
    Once(Span),
    /// `Default`
    Default(Span),
}

/// Parses `.write_stream(sink)`.
pub fn parse_write_stream(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".write_stream(Console::new())")?;
    Ok(Box::new(WriteStream(mc.args[0].clone())))
}

/// Parses `.output_mode(mode)`.
pub fn parse_output_mode(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".output_mode(Update)")?;
    Ok(Box::new(OutputMode(parse_mode(&mc.args[0])?)))
}

/// Parses `.trigger(trigger)`.
pub fn parse_trigger(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".trigger(ProcessingTime(\"1 second\"))")?;
    Ok(Box::new(Trigger(parse_trigger_spec(&mc.args[0])?)))
}

/// Parses `.query_name(name)`.
pub fn parse_query_name(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".query_name(\"name\")")?;
    Ok(Box::new(QueryName(mc.args[0].clone())))
}

/// Parses `.checkpoint_location(dir)`.
pub fn parse_checkpoint_location(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".checkpoint_location(\"/path/to/checkpoint\")")?;
    Ok(Box::new(CheckpointLocation(mc.args[0].clone())))
}

/// Parses `.start()`.
pub fn parse_start(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 0, ".start()")?;
    Ok(Box::new(Start))
}

/// `Append`, `Update` or `Complete` (also as a string).
pub fn parse_mode(expr: &Expr) -> Result<ModeSpec> {
    use stream_core::OutputMode;
    const HOW: &str = "use Append, Update or Complete";
    let (name, span) = match strip_groups(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => (s.value().to_ascii_lowercase(), s.span()),
        e => match last_ident(e) {
            Some(id) => (id.to_string().to_ascii_lowercase(), id.span()),
            None => {
                return Err(Error::new(e.span(), format!("unknown output mode; {HOW}")));
            }
        },
    };
    let mode = match name.as_str() {
        "append" => OutputMode::Append,
        "update" => OutputMode::Update,
        "complete" => OutputMode::Complete,
        other => {
            return Err(Error::new(
                span,
                format!("unknown output mode `{other}`; {HOW}"),
            ))
        }
    };
    Ok(ModeSpec { mode, span })
}

/// A trigger: `ProcessingTime(..)`, `AvailableNow`, `Once` or `Default`.
fn parse_trigger_spec(expr: &Expr) -> Result<TriggerSpec> {
    const HOW: &str = "use ProcessingTime(\"1 second\"), AvailableNow, Once or Default";
    match strip_groups(expr) {
        Expr::Call(call) => {
            let Some(f) = last_ident(&call.func) else {
                return Err(Error::new(
                    call.func.span(),
                    format!("unknown trigger; {HOW}"),
                ));
            };
            if f != "ProcessingTime" {
                return Err(Error::new(
                    f.span(),
                    format!("unknown trigger `{f}`; {HOW}"),
                ));
            }
            if call.args.len() != 1 {
                return Err(Error::new(
                    f.span(),
                    "`ProcessingTime` takes one interval: `ProcessingTime(\"1 second\")`",
                ));
            }
            match strip_groups(&call.args[0]) {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Ok(TriggerSpec::ProcessingTime(s.clone())),
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(i), ..
                }) => Ok(TriggerSpec::ProcessingTimeMs(i.clone())),
                other => Err(Error::new(
                    other.span(),
                    "`ProcessingTime` takes a duration string literal such as \"1 second\" (checked at compile time), or milliseconds as an integer literal",
                )),
            }
        }
        e => match last_ident(e) {
            Some(id) if id == "AvailableNow" => Ok(TriggerSpec::AvailableNow(id.span())),
            Some(id) if id == "Once" => Ok(TriggerSpec::Once(id.span())),
            Some(id) if id == "Default" => Ok(TriggerSpec::Default(id.span())),
            Some(id) if id == "ProcessingTime" => Err(Error::new(
                id.span(),
                "`ProcessingTime` needs an interval: `ProcessingTime(\"1 second\")`",
            )),
            Some(id) if id == "Continuous" => Err(Error::new(
                id.span(),
                format!("continuous triggers are not supported by `stream!` yet; {HOW}"),
            )),
            Some(id) => Err(Error::new(
                id.span(),
                format!("unknown trigger `{id}`; {HOW}"),
            )),
            None => Err(Error::new(e.span(), format!("unknown trigger; {HOW}"))),
        },
    }
}

/// The writer that flows into a writer option (the dispatcher calls them on writers only).
fn writer(at: Site) -> Writer {
    match at.input {
        Stage::Writer(w) => w,
        _ => unreachable!("writer options are checked on a writer"),
    }
}

impl Operator for WriteStream {
    fn streaming_only(&self) -> bool {
        true
    }

    fn allowed_after_sort(&self) -> bool {
        true
    }

    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method;
        info.stage = Stage::Writer(Writer {
            method: method.clone(),
            mode: None,
            trigger: false,
            name: false,
            checkpoint: false,
            started: false,
            checked: false,
        });
        Some(Box::new(WriteStreamStep {
            method,
            sink: self.0.clone(),
        }))
    }
}

impl Operator for OutputMode {
    fn place(&self) -> Place {
        Place::Writer
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method.clone();
        let mut w = writer(at);
        if w.mode.is_some() {
            cx.error(method.span(), "`.output_mode` is given twice; keep one");
        }
        w.mode = Some((self.0.mode, self.0.span));
        info.stage = Stage::Writer(w);
        Some(Box::new(OutputModeStep {
            method,
            mode: self.0.mode,
            span: self.0.span,
        }))
    }
}

impl Operator for Trigger {
    fn place(&self) -> Place {
        Place::Writer
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method.clone();
        let mut w = writer(at);
        if w.trigger {
            cx.error(method.span(), "`.trigger` is given twice; keep one");
        }
        w.trigger = true;
        info.stage = Stage::Writer(w);
        let trigger = check_trigger(cx, &self.0)?;
        Some(Box::new(TriggerStep { method, trigger }))
    }
}

impl Operator for QueryName {
    fn place(&self) -> Place {
        Place::Writer
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method.clone();
        let mut w = writer(at);
        if w.name {
            cx.error(method.span(), "`.query_name` is given twice; keep one");
        }
        w.name = true;
        info.stage = Stage::Writer(w);
        Some(Box::new(QueryNameStep {
            method,
            name: self.0.clone(),
        }))
    }
}

impl Operator for CheckpointLocation {
    fn place(&self) -> Place {
        Place::Writer
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method.clone();
        let mut w = writer(at);
        if w.checkpoint {
            cx.error(
                method.span(),
                "`.checkpoint_location` is given twice; keep one",
            );
        }
        w.checkpoint = true;
        info.stage = Stage::Writer(w);
        Some(Box::new(CheckpointLocationStep {
            method,
            dir: self.0.clone(),
        }))
    }
}

impl Operator for Start {
    fn place(&self) -> Place {
        Place::Writer
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method.clone();
        let mut w = writer(at);
        w.started = true;
        info.stage = Stage::Writer(w);
        cx.finish(info);
        Some(Box::new(StartStep { method }))
    }
}

/// A checked trigger.
pub enum LTrigger {
    /// Every `ms` milliseconds.
    ProcessingTime(i64, Span),
    /// `AvailableNow`
    AvailableNow(Span),
    /// `Once`
    Once(Span),
    /// `Default`
    Default(Span),
}

/// Checks a trigger's interval (a duration string with `stream_core`'s rules, or milliseconds).
fn check_trigger(cx: &mut Checker, spec: &TriggerSpec) -> Option<LTrigger> {
    Some(match spec {
        TriggerSpec::ProcessingTime(lit) => match stream_core::parse_duration(&lit.value()) {
            Ok(ms) if ms < 0 => {
                cx.error(lit.span(), "a trigger interval cannot be negative");
                return None;
            }
            Ok(ms) => LTrigger::ProcessingTime(ms, lit.span()),
            Err(e) => {
                cx.error(lit.span(), e);
                return None;
            }
        },
        TriggerSpec::ProcessingTimeMs(lit) => match lit.base10_parse::<i64>() {
            Ok(ms) => LTrigger::ProcessingTime(ms, lit.span()),
            Err(e) => {
                cx.push_error(e);
                return None;
            }
        },
        TriggerSpec::AvailableNow(s) => LTrigger::AvailableNow(*s),
        TriggerSpec::Once(s) => LTrigger::Once(*s),
        TriggerSpec::Default(s) => LTrigger::Default(*s),
    })
}

/// `.write_stream(sink)`.
pub struct WriteStreamStep {
    /// The user's method token.
    pub method: Ident,
    /// The sink.
    pub sink: Expr,
}

/// `.output_mode(mode)`.
pub struct OutputModeStep {
    /// The user's method token.
    pub method: Ident,
    /// The mode.
    pub mode: stream_core::OutputMode,
    /// Where the mode was written.
    pub span: Span,
}

/// `.trigger(trigger)`.
pub struct TriggerStep {
    /// The user's method token.
    pub method: Ident,
    /// The trigger.
    pub trigger: LTrigger,
}

/// `.query_name(name)`.
pub struct QueryNameStep {
    /// The user's method token.
    pub method: Ident,
    /// The name, any Rust expression.
    pub name: Expr,
}

/// `.checkpoint_location(dir)`.
pub struct CheckpointLocationStep {
    /// The user's method token.
    pub method: Ident,
    /// The directory, any Rust expression.
    pub dir: Expr,
}

/// `.start()`.
pub struct StartStep {
    /// The user's method token.
    pub method: Ident,
}

impl Step for WriteStreamStep {
    fn generate(&self) -> TokenStream {
        let Self { method, sink } = self;
        quote!(.#method(#sink))
    }
}

impl Step for OutputModeStep {
    fn generate(&self) -> TokenStream {
        let rt = rt();
        let Self { method, mode, span } = self;
        let m = Ident::new(mode.name(), *span);
        quote!(.#method(#rt::OutputMode::#m))
    }
}

impl Step for TriggerStep {
    fn generate(&self) -> TokenStream {
        let rt = rt();
        let Self { method, trigger } = self;
        let t = match trigger {
            LTrigger::ProcessingTime(ms, span) => {
                let ms = proc_macro2::Literal::i64_suffixed(*ms);
                quote_spanned!(*span=> #rt::Trigger::ProcessingTime(#ms))
            }
            LTrigger::AvailableNow(span) => quote_spanned!(*span=> #rt::Trigger::AvailableNow),
            LTrigger::Once(span) => quote_spanned!(*span=> #rt::Trigger::Once),
            LTrigger::Default(span) => quote_spanned!(*span=> #rt::Trigger::Default),
        };
        quote!(.#method(#t))
    }
}

impl Step for QueryNameStep {
    fn generate(&self) -> TokenStream {
        let Self { method, name } = self;
        quote!(.#method(#name))
    }
}

impl Step for CheckpointLocationStep {
    fn generate(&self) -> TokenStream {
        let Self { method, dir } = self;
        quote!(.#method(#dir))
    }
}

impl Step for StartStep {
    fn generate(&self) -> TokenStream {
        let method = &self.method;
        quote!(.#method())
    }
}

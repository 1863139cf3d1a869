//! What `#[stream::main]` expands to: the session from the command line (the engine's flags,
//! and the application's, parsed by [`AppFlags`]), `main` run with it, and the process's exit
//! code from how it ended.

use super::args::{parse, USAGE};
use super::Session;
use crate::error::StreamError;
use std::fmt::Display;
use std::process::ExitCode;

/// The application's own flags, parsed by `#[stream::main]` from what the engine's flags left
/// (a `main(session: Session, args: A)` gets them as `A`).
///
/// With the `clap` feature of `stream-runtime`, every `clap::Parser` (`#[derive(Parser)]`) is
/// one: its `--help` then shows the application's flags and the engine's.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not parse the application's flags",
    label = "not a parser of command-line flags",
    note = "derive `clap::Parser` for `{Self}` and enable the `clap` feature of `stream-runtime`, or implement `stream_runtime::session::AppFlags`"
)]
pub trait AppFlags: Sized {
    /// Parses `args` (the command line without the program's name and the engine's flags).
    /// `about` is `main`'s doc comment and `engine_usage` the engine's flags, for `--help`.
    /// May print help or an error and exit, as a command-line parser does.
    fn parse_app_flags(program: &str, about: &str, args: &[String], engine_usage: &str) -> Self;
}

// Not recommended: for a type that is no parser, rustc then says that `AppFlags` is missing
// (whose note says what to do), not that `clap::Parser` is.
#[cfg(feature = "clap")]
#[diagnostic::do_not_recommend]
impl<T: clap::Parser> AppFlags for T {
    fn parse_app_flags(program: &str, about: &str, args: &[String], engine_usage: &str) -> Self {
        let mut command = T::command();
        if command.get_about().is_none() && !about.is_empty() {
            command = command.about(about.to_string());
        }
        // `-h` is the engine's (a host file): help is `--help` only.
        let command = command
            .bin_name(program.to_string())
            .disable_help_flag(true)
            .arg(
                clap::Arg::new("help")
                    .long("help")
                    .action(clap::ArgAction::Help)
                    .help("Print help"),
            )
            .after_help(engine_usage.to_string());
        let argv = std::iter::once(program.to_string()).chain(args.iter().cloned());
        let parsed = command
            .try_get_matches_from(argv)
            .and_then(|mut m| T::from_arg_matches_mut(&mut m));
        parsed.unwrap_or_else(|e| e.exit())
    }
}

/// The type of `main`'s first parameter: the [`Session`] built from the command line.
#[diagnostic::on_unimplemented(
    message = "the first parameter of `main` is the session, not `{Self}`",
    label = "`#[stream::main]` passes the `Session` built from the command line here",
    note = "declare it `session: Session` (the worker and process counts are the session's: `session.workers()`, `session.processes()`)"
)]
pub trait SessionParam {
    /// The parameter's value.
    fn from_session(session: Session) -> Self;
}

#[diagnostic::do_not_recommend]
impl SessionParam for Session {
    fn from_session(session: Session) -> Self {
        session
    }
}

/// How `main` ended: `()`, or a `Result` whose error is printed.
#[diagnostic::on_unimplemented(
    message = "`#[stream::main]` cannot report `{Self}`",
    label = "`main` must return `()` or `Result<(), E>` where `E` implements `Display`",
    note = "e.g. `fn main(session: Session) -> Result<(), StreamError>`"
)]
pub trait MainResult {
    /// The error to print, if `main` failed.
    fn error(self) -> Option<String>;
}

// The impls are not recommended, so that rustc's message for another type is the trait's own
// (no list of the impls, in this crate's files).
#[diagnostic::do_not_recommend]
impl MainResult for () {
    fn error(self) -> Option<String> {
        None
    }
}

#[diagnostic::do_not_recommend]
impl<E: Display> MainResult for Result<(), E> {
    fn error(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// The program's name, as its user typed it.
fn program() -> String {
    std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".into())
}

/// `#[stream::main]` on `fn main(session: Session)`. The generated code turns `main`'s result
/// into its error with `<_ as MainResult>::error`, spanned on the return type (a projection,
/// not a bound of this function, so that rustc's message names no item of this crate).
pub fn run(about: &str, main: impl FnOnce(Session) -> Option<String>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help") {
        let about = if about.is_empty() {
            String::new()
        } else {
            format!("{about}\n\n")
        };
        println!("{about}Usage: {} [ARGS] [OPTIONS]\n\n{USAGE}", program());
        return ExitCode::SUCCESS;
    }
    match parse(args, false) {
        Ok(session) => finish(&session.clone(), main(session)),
        Err(e) => usage_error(&e),
    }
}

/// `#[stream::main]` on `fn main(session: Session, args: A)`: `parse_flags` is
/// `<A as AppFlags>::parse_app_flags`, named by the generated code on the user's type.
pub fn run_with_flags<A>(
    about: &str,
    parse_flags: fn(&str, &str, &[String], &str) -> A,
    main: impl FnOnce(Session, A) -> Option<String>,
) -> ExitCode {
    let session = match parse(std::env::args().skip(1), true) {
        Ok(s) => s,
        Err(e) => return usage_error(&e),
    };
    let flags = parse_flags(&program(), about, session.app_args(), USAGE);
    finish(&session.clone(), main(session, flags))
}

fn usage_error(e: &StreamError) -> ExitCode {
    eprintln!("{}: {e}", program());
    ExitCode::from(2)
}

/// Exit 1 with the error printed if `main` failed, or else if a query of the session failed
/// (and `reset_terminated` was not called since); 0 otherwise.
fn finish(session: &Session, error: Option<String>) -> ExitCode {
    let error = error.or_else(|| {
        match session
            .streams()
            .await_any_termination_timeout(std::time::Duration::ZERO)
        {
            Err(e) => Some(format!("a query failed: {e}")),
            Ok(_) => None,
        }
    });
    match error {
        Some(e) => {
            eprintln!("{}: error: {e}", program());
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

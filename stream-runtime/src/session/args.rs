//! The engine's command-line flags: `-w N` worker threads per process, `-n N` processes, `-p I`
//! this process's index, `-h FILE` a host file; the rest belongs to the application.

use super::Session;
use crate::error::{Result, StreamError};

/// Flags that belong to the engine, each followed by a value.
const ENGINE_FLAGS: [(&str, &str); 5] = [
    ("-w", "--workers"),
    ("-n", "--processes"),
    ("-p", "--process"),
    ("-h", "--hostfile"),
    ("--ui-port", "--ui-port"),
];

/// The engine's flags, as `--help` prints them.
pub const USAGE: &str = "\
Engine options (Structured Streaming for Rust):
  -w, --workers N      worker threads per process (default 1)
  -n, --processes N    processes in the cluster (default 1)
  -p, --process I      this process's index, from 0 (default 0)
  -h, --hostfile FILE  the cluster's addresses, one `host:port` per line, process 0 first
                       (a bare host gets port 2101 + its index; default localhost:2101, ...)
      --ui-port PORT   serve the live web UI and Prometheus /metrics on 127.0.0.1:PORT
                       (0: any free port; process 0 serves it; feature `ui`)
      --help           print this help";

impl Session {
    /// A session configured from this program's command line: the engine's flags (see
    /// [`USAGE`](Session::USAGE)), and positional arguments, which are the application's
    /// ([`Session::app_args`]). An unknown flag, or `-w 0`, is an error; `--help` prints the
    /// usage and exits. An application with flags of its own uses
    /// [`from_args_with_app_flags`](Session::from_args_with_app_flags).
    pub fn from_args() -> Result<Session> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--help") {
            println!("{USAGE}");
            std::process::exit(0);
        }
        Self::from_arg_list(args)
    }

    /// As [`Session::from_args`], from the given arguments (without the program name).
    pub fn from_arg_list(args: impl IntoIterator<Item = String>) -> Result<Session> {
        parse(args, false)
    }

    /// As [`Session::from_args`], but flags the engine does not know are left in
    /// [`app_args`](Session::app_args) for the application's own parser (which should reject
    /// what it does not know, and print [`USAGE`](Session::USAGE) with its own `--help`).
    pub fn from_args_with_app_flags() -> Result<Session> {
        parse(std::env::args().skip(1), true)
    }

    /// The engine's flags, for an application's `--help`.
    pub const USAGE: &'static str = USAGE;
}

pub(super) fn parse(args: impl IntoIterator<Item = String>, app_flags: bool) -> Result<Session> {
    let mut s = Session::local();
    let mut ui_port = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let Some(&(short, _)) = ENGINE_FLAGS.iter().find(|(s, l)| flag == *s || flag == *l) else {
            let is_flag = arg.starts_with('-') && arg.len() > 1 && arg.parse::<f64>().is_err();
            if is_flag && !app_flags {
                return Err(StreamError::Config(format!(
                    "unknown flag `{arg}`\n{USAGE}"
                )));
            }
            s.app_args.push(arg);
            continue;
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| StreamError::Config(format!("`{flag}` needs a value\n{USAGE}")))?;
        let number = || -> Result<usize> {
            value.parse().map_err(|_| {
                StreamError::Config(format!("`{flag}` takes a whole number, not `{value}`"))
            })
        };
        match short {
            "-w" => {
                s.workers = number()?;
                if s.workers == 0 {
                    return Err(StreamError::Config(
                        "`-w 0`: a process needs at least one worker thread".into(),
                    ));
                }
            }
            "-n" => {
                s.processes = number()?;
                if s.processes == 0 {
                    return Err(StreamError::Config(
                        "`-n 0`: a cluster needs at least one process".into(),
                    ));
                }
            }
            "-p" => s.process = number()?,
            "--ui-port" => {
                ui_port = Some(value.parse::<u16>().map_err(|_| {
                    StreamError::Config(format!("`--ui-port` takes a port number, not `{value}`"))
                })?)
            }
            _ => s.hostfile = Some(value.clone()),
        }
    }
    if s.process >= s.processes {
        return Err(StreamError::Config(format!(
            "process index -p {} must be below the number of processes -n {}",
            s.process, s.processes
        )));
    }
    match ui_port {
        None => Ok(s),
        #[cfg(feature = "ui")]
        Some(port) => s.ui_port(port),
        #[cfg(not(feature = "ui"))]
        Some(_) => Err(StreamError::Config(
            "`--ui-port`: this program was built without the web UI (enable the `ui` feature \
             of stream-runtime)"
                .into(),
        )),
    }
}

/// A host file's line as an address: `host:port`, or a bare host, which gets port
/// `2101 + index`.
pub(super) fn address(line: &str, index: usize) -> String {
    let bare = !line.contains(':') || (line.starts_with('[') && line.ends_with(']'));
    if bare {
        format!("{line}:{}", 2101 + index)
    } else {
        line.to_string()
    }
}

/// The addresses query `k` of a cluster session listens on: each port plus `k` times the
/// number of processes, so that the session's queries run at once, each on its own
/// connections (query 0 uses the host file's ports; with the default ports 2101 + i, query `k`
/// of `n` processes uses 2101 + k·n + i).
pub(super) fn query_ports(addresses: &[String], k: usize) -> Result<Vec<String>> {
    let shift = k * addresses.len();
    addresses
        .iter()
        .map(|a| {
            let port = a
                .rsplit_once(':')
                .and_then(|(host, p)| Some((host, p.parse::<usize>().ok()?)));
            match port {
                Some((host, p)) if p + shift <= usize::from(u16::MAX) => {
                    Ok(format!("{host}:{}", p + shift))
                }
                _ => Err(StreamError::Config(format!(
                    "query {k} of this session would listen on `{a}`'s port + {shift}, which is \
                     no port: fewer queries per session, or lower ports in the host file"
                ))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn engine_flags_are_split_from_application_arguments() {
        let s = Session::from_arg_list(args("data -w 4 out -n 2 -p 1 -h hosts.txt")).unwrap();
        assert_eq!(s.workers(), 4);
        assert_eq!(s.processes(), 2);
        assert_eq!(s.process_index(), 1);
        assert_eq!(s.hostfile.as_deref(), Some("hosts.txt"));
        assert_eq!(s.app_args(), &args("data out")[..]);
        let s = Session::from_arg_list(args("--workers=3 x")).unwrap();
        assert_eq!((s.workers(), s.app_args()), (3, &args("x")[..]));
        assert!(Session::from_arg_list(args("-w")).is_err());
        assert!(Session::from_arg_list(args("-w two")).is_err());
        assert!(Session::from_arg_list(args("-n 2 -p 2")).is_err());
        // A negative number is an argument, not a flag.
        assert_eq!(
            Session::from_arg_list(args("-5")).unwrap().app_args(),
            &args("-5")[..]
        );
    }

    #[test]
    fn unknown_flags_and_zero_workers_are_refused() {
        let e = Session::from_arg_list(args("--limit 3"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown flag `--limit`") && e.contains("-w, --workers"),
            "{e}"
        );
        let e = Session::from_arg_list(args("-w 0"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least one worker"), "{e}");
        assert!(Session::from_arg_list(args("-n 0")).is_err());
        // An application with flags of its own gets them.
        let s = parse(args("--limit 3 -w 2"), true).unwrap();
        assert_eq!((s.workers(), s.app_args()), (2, &args("--limit 3")[..]));
    }

    #[test]
    fn the_ui_port_is_a_number() {
        let e = Session::from_arg_list(args("--ui-port x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`--ui-port` takes a port number"), "{e}");
        assert!(Session::from_arg_list(args("--ui-port 70000")).is_err());
    }

    #[test]
    fn each_query_of_a_cluster_gets_its_own_ports() {
        let hosts = args("localhost:2101 [::1]:2102");
        assert_eq!(query_ports(&hosts, 0).unwrap(), hosts);
        assert_eq!(
            query_ports(&hosts, 3).unwrap(),
            args("localhost:2107 [::1]:2108")
        );
        let e = query_ports(&args("h:65535 h:2"), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("query 1") && e.contains("`h:65535`"), "{e}");
    }

    #[test]
    fn query_addresses_are_the_cluster_slots_of_the_session() {
        assert!(Session::from_arg_list(args("-w 2"))
            .unwrap()
            .query_addresses(0)
            .unwrap()
            .is_empty());
        let s = Session::from_arg_list(args("-n 2")).unwrap();
        assert_eq!(
            s.query_addresses(0).unwrap(),
            args("localhost:2101 localhost:2102")
        );
        assert_eq!(
            s.query_addresses(1).unwrap(),
            args("localhost:2103 localhost:2104")
        );
    }

    #[test]
    fn a_bare_host_gets_a_port_by_index() {
        assert_eq!(address("node7", 1), "node7:2102");
        assert_eq!(address("10.0.0.2:4000", 1), "10.0.0.2:4000");
        assert_eq!(address("[::1]", 0), "[::1]:2101");
        assert_eq!(address("[::1]:9000", 0), "[::1]:9000");
    }
}

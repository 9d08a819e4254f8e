//! `ignition`, the command line of Ignition for Rust (feature `cli`).
//!
//! ```text
//! ignition new NAME [--path DIR] [--port N] [--kafka] [--dir OUT]
//! ```
//!
//! `ignition new openstack-driver` creates the crate of a VIM driver in
//! `./openstack-driver`: the driver with its own configuration section, tests running
//! Ignition's conformance run, a Dockerfile and Kubernetes manifests. See
//! `docs/writing-a-driver.md`.
//!
//! It is a binary of the `ignition` crate rather than a `cargo generate` template: one
//! `cargo install ignition --features cli` and one command, no other tool; the templates
//! are embedded, so the generator and the crate it points at are always the same
//! release; and CI generates, builds and tests a driver with nothing installed.

// A command-line tool: it prints to stdout, and its modules are `pub` only within it.
#![allow(unreachable_pub, clippy::print_stdout)]

mod generate;
mod names;

use std::path::PathBuf;
use std::process::ExitCode;

use generate::{IgnitionSource, NewError, Options, DEFAULT_PORT};
use names::Names;

const USAGE: &str = "\
usage: ignition new NAME [--path DIR] [--port N] [--kafka] [--dir OUT]

Creates the crate of a VIM driver called NAME (e.g. openstack-driver) in ./NAME.

options:
  --path DIR   depend on the local ignition crate in DIR (or in DIR/ignition) instead of
               the published version
  --port N     the driver's application.port (default 7777)
  --kafka      configure Kafka (messaging: connection_address and topics) for task events
               and the job queue, instead of Ignition's embedded default
  --dir OUT    create the project in OUT instead of ./NAME (OUT must not exist)
  -h, --help   this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(message) => {
            print!("{message}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ignition: {error}");
            if matches!(error, NewError::Usage(_)) {
                eprintln!("(ignition new --help for the options)");
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs the command line: what to print on success.
fn run(args: &[String]) -> Result<String, NewError> {
    match args.first().map(String::as_str) {
        Some("new") => {
            let Some(options) = parse_new(&args[1..])? else {
                return Ok(USAGE.to_string());
            };
            let started = std::time::Instant::now();
            let written = generate::generate(&options)?;
            Ok(format!(
                "Created {} ({} files, {} ms) in {}\n\nNext:\n  cd {}\n  cargo test\n",
                options.names.crate_name,
                written.len(),
                started.elapsed().as_millis(),
                options.dir.display(),
                options.dir.display(),
            ))
        }
        Some("-h" | "--help" | "help") | None => Ok(USAGE.to_string()),
        Some("-V" | "--version") => Ok(format!("ignition {}\n", env!("CARGO_PKG_VERSION"))),
        Some(other) => Err(NewError::Usage(format!(
            "unknown command `{other}`; the command is `ignition new NAME`"
        ))),
    }
}

/// The options of `ignition new`; `None` for `--help`.
fn parse_new(args: &[String]) -> Result<Option<Options>, NewError> {
    let usage = |message: String| NewError::Usage(message);
    let mut name = None;
    let (mut path, mut port, mut kafka, mut dir) = (None, None, false, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // `--option value` and `--option=value` alike.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |flag: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--kafka" if inline.is_none() => kafka = true,
            "--path" => path = Some(PathBuf::from(value(flag)?)),
            "--dir" => dir = Some(PathBuf::from(value(flag)?)),
            "--port" => {
                let text = value(flag)?;
                port = Some(
                    text.parse::<u16>()
                        .ok()
                        .filter(|port| *port != 0)
                        .ok_or_else(|| usage(format!("--port {text}: not a port (1 to 65535)")))?,
                );
            }
            _ if flag.starts_with('-') => return Err(usage(format!("unknown option `{arg}`"))),
            _ if name.is_none() => name = Some(arg.clone()),
            _ => return Err(usage(format!("unexpected argument `{arg}`: one NAME only"))),
        }
    }
    let name =
        name.ok_or_else(|| usage("a NAME is needed, e.g. `ignition new openstack-driver`".into()))?;
    let names = Names::new(&name).map_err(|error| usage(error.to_string()))?;
    let ignition = match path {
        Some(path) => IgnitionSource::local(&path)?,
        None => IgnitionSource::published(),
    };
    Ok(Some(Options {
        dir: dir.unwrap_or_else(|| PathBuf::from(&names.crate_name)),
        names,
        port: port.unwrap_or(DEFAULT_PORT),
        kafka,
        ignition,
    }))
}

#[cfg(test)]
mod tests;

//! `ignition`, the command line of Ignition for Rust (feature `cli`).
//!
//! ```text
//! ignition new NAME [--kind vim|resource] [--kafka] [--port N] [--dir OUT]
//!                   [--from CLONE | --path DIR]
//! ignition vendor [--from CLONE] [--dir PROJECT]
//! ```
//!
//! `ignition new openstack-driver` creates the project of a driver in
//! `./openstack-driver`: the driver with its own configuration section, tests, a
//! Dockerfile and Kubernetes manifests, and Ignition itself in `vendor/` (no registry has
//! it: see `source.rs`). `ignition vendor` replaces that copy with a newer one. See
//! `docs/writing-a-driver.md`.
//!
//! It is a binary of the `ignition` crate rather than a `cargo generate` template: one
//! `cargo install --locked --path ignition --features cli` in a clone and one command, no
//! other tool; the templates are embedded, so the generator and the framework it vendors
//! come from the same clone; and CI generates, builds and tests a driver with nothing
//! installed.

// A command-line tool: it prints to stdout, and its modules are `pub` only within it.
#![allow(unreachable_pub, clippy::print_stdout)]

mod generate;
mod names;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;

use generate::{Kind, NewError, Options, DEFAULT_PORT};
use names::Names;
use source::IgnitionSource;

const USAGE: &str = "\
usage: ignition new NAME [--kind vim|resource] [--kafka] [--port N] [--dir OUT]
                         [--from CLONE | --path DIR]
       ignition vendor [--from CLONE] [--dir PROJECT]

ignition new creates the project of a driver called NAME (e.g. openstack-driver) in
./NAME: a workspace of its own, with Ignition copied into vendor/ from the clone of
Ignition's repository this command was installed from, at its HEAD.

  --kind KIND   vim (default): a VIM driver, LM 1.x's Infrastructure API (#[vim_driver]);
                resource: a resource driver, LM 2.x/3.x's Resource Driver API
                (#[resource_driver])
  --kafka       configure Kafka (messaging: connection_address, topics, credentials from a
                Secret) for task events and the job queue, instead of Ignition's embedded
                default; adds a PodDisruptionBudget and spreads the replicas
  --port N      the driver's application.port (default 7777)
  --dir OUT     create the project in OUT instead of ./NAME (OUT must not exist)
  --from CLONE  vendor Ignition from this clone of its repository instead
  --path DIR    depend on the ignition crate in DIR (or DIR/ignition) in place instead of
                vendoring it: for work on Ignition itself (`ignition vendor` before a
                docker build)
  -h, --help    this text

ignition vendor replaces the project's vendor/ignition-rs with the clone's HEAD (the
upgrade; --dir PROJECT: the project, default .) and points its ignition dependency there.
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
            let generated = generate::generate(&options)?;
            Ok(format!(
                "Created {} ({} files, {} ms) in {}\n{}\n\nNext:\n  cd {}\n  cargo test\n",
                options.names.crate_name,
                generated.written.len(),
                started.elapsed().as_millis(),
                options.dir.display(),
                generated.ignition,
                options.dir.display(),
            ))
        }
        Some("vendor") => {
            let Some(parsed) = Parsed::from(&args[1..], &["--from", "--dir"], &[])? else {
                return Ok(USAGE.to_string());
            };
            if let Some(extra) = parsed.positional.first() {
                return Err(NewError::Usage(format!(
                    "unexpected argument `{extra}`: ignition vendor takes options only"
                )));
            }
            let clone = source::find_clone(parsed.value("--from").map(std::path::Path::new))?;
            let project = PathBuf::from(parsed.value("--dir").unwrap_or("."));
            source::revendor(&project, &clone)
        }
        Some("-h" | "--help" | "help") | None => Ok(USAGE.to_string()),
        Some("-V" | "--version") => Ok(format!("ignition {}\n", env!("CARGO_PKG_VERSION"))),
        Some(other) => Err(NewError::Usage(format!(
            "unknown command `{other}`; the commands are `ignition new NAME` and `ignition \
             vendor`"
        ))),
    }
}

/// The options of `ignition new`; `None` for `--help`.
fn parse_new(args: &[String]) -> Result<Option<Options>, NewError> {
    let usage = NewError::Usage;
    let Some(parsed) = Parsed::from(
        args,
        &["--kind", "--port", "--dir", "--from", "--path"],
        &["--kafka"],
    )?
    else {
        return Ok(None);
    };
    let name = match parsed.positional.as_slice() {
        [name] => name,
        [] => {
            return Err(usage(
                "a NAME is needed, e.g. `ignition new openstack-driver`".into(),
            ))
        }
        [_, extra, ..] => {
            return Err(usage(format!(
                "unexpected argument `{extra}`: one NAME only"
            )))
        }
    };
    let names = Names::new(name).map_err(|error| usage(error.to_string()))?;
    let kind = match parsed.value("--kind") {
        None => Kind::Vim,
        Some(text) => Kind::parse(text).ok_or_else(|| {
            usage(format!(
                "--kind {text}: not a kind of driver (vim or resource)"
            ))
        })?,
    };
    let port = match parsed.value("--port") {
        None => DEFAULT_PORT,
        Some(text) => text
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| usage(format!("--port {text}: not a port (1 to 65535)")))?,
    };
    let ignition = match (parsed.value("--path"), parsed.value("--from")) {
        (Some(_), Some(_)) => {
            return Err(usage(
                "--path and --from exclude each other: depend on a checkout in place, or \
                 vendor a clone"
                    .into(),
            ))
        }
        (Some(path), None) => IgnitionSource::path(std::path::Path::new(path))?,
        (None, from) => IgnitionSource::Clone(source::find_clone(from.map(std::path::Path::new))?),
    };
    Ok(Some(Options {
        dir: parsed
            .value("--dir")
            .map_or_else(|| PathBuf::from(&names.crate_name), PathBuf::from),
        names,
        kind,
        port,
        kafka: parsed.switches.contains(&"--kafka"),
        ignition,
    }))
}

/// A command's arguments: its options' values, its switches, its other arguments.
#[derive(Debug, Default)]
struct Parsed {
    values: Vec<(String, String)>,
    switches: Vec<&'static str>,
    positional: Vec<String>,
}

impl Parsed {
    /// Reads `args` (`--option value` and `--option=value` alike), accepting the options
    /// `valued` and the switches `switches`; `None` for `--help`.
    fn from(
        args: &[String],
        valued: &[&str],
        switches: &[&'static str],
    ) -> Result<Option<Self>, NewError> {
        let mut parsed = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
                _ => (arg.as_str(), None),
            };
            if flag == "-h" || flag == "--help" {
                return Ok(None);
            } else if let Some(switch) = switches.iter().find(|s| **s == flag) {
                if inline.is_some() {
                    return Err(NewError::Usage(format!("unknown option `{arg}`")));
                }
                parsed.switches.push(switch);
            } else if valued.contains(&flag) {
                let value = inline
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| NewError::Usage(format!("{flag} needs a value")))?;
                parsed.values.push((flag.to_string(), value));
            } else if flag.starts_with('-') {
                return Err(NewError::Usage(format!("unknown option `{arg}`")));
            } else {
                parsed.positional.push(arg.clone());
            }
        }
        Ok(Some(parsed))
    }

    /// The value of option `flag` (the last one given).
    fn value(&self, flag: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(given, _)| given == flag)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
mod tests;

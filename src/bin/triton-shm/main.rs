//! `triton-shm`: inspect and clean up POSIX shared memory the way the
//! library sees it. Made for macOS, where no system tool lists shared
//! memory, and useful anywhere. Run `triton-shm --help`.

// Functions stay under 80 lines of code (clippy.toml).
#![warn(clippy::too_many_lines)]

mod commands;
mod output;

use std::process::ExitCode;
use triton_shm::name::NamingPolicy;

const HELP: &str = "\
triton-shm: inspect and clean up POSIX shared memory as triton-shm sees it

USAGE:
    triton-shm [--json] <COMMAND> [OPTIONS] [ARGS]

COMMANDS:
    normalize NAME...     Show each name's system name under every naming policy
                          (seed normalisation, darwin, posix) and why one refuses it
    list                  List the regions recorded in journals: owner pid, alive or
                          dead, size, age
    reap [--dry-run]      Unlink the regions of dead owners and remove their journals;
                          --dry-run only reports what would be unlinked
    inspect KEY           Say whether the region exists and how big the OS says it is
    unlink KEY            Unlink the region (shm_unlink of its system name)
    demo                  Create, write, read, register and clean up a region
    help [COMMAND]        Show this text

OPTIONS:
    --json                One JSON document on stdout instead of readable text
    --naming POLICY       platform (default), darwin or posix: how KEY becomes a
                          system name (inspect, unlink, demo)
    --state-dir DIR       Journal directory (list, reap); default: TRITON_SHM_STATE_DIR,
                          else triton-shm-<uid> under the temporary directory
    -h, --help            Show this text
    -V, --version         Show the version

EXIT STATUS:
    0   success (inspect: the region exists)
    1   the operation failed, or (inspect, unlink) the region does not exist
    2   usage error: unknown command or option, missing argument

EXAMPLES:
    triton-shm normalize /path/with/slashes //input0
    triton-shm list --json
    triton-shm reap --dry-run
    triton-shm inspect --naming darwin /input0
";

/// Parsed command line.
pub struct Args {
    pub json: bool,
    pub dry_run: bool,
    pub naming: NamingPolicy,
    pub state_dir: Option<std::path::PathBuf>,
    pub command: String,
    pub operands: Vec<std::ffi::OsString>,
}

/// A subcommand's entry point.
type Command = fn(&Args) -> commands::Outcome;

fn usage_error(message: &str) -> ExitCode {
    eprintln!("triton-shm: {message}\nRun 'triton-shm --help' for the commands and options.");
    ExitCode::from(2)
}

fn parse(mut raw: impl Iterator<Item = std::ffi::OsString>) -> Result<Option<Args>, String> {
    let mut args = Args {
        json: false,
        dry_run: false,
        naming: NamingPolicy::platform(),
        state_dir: None,
        command: String::new(),
        operands: Vec::new(),
    };
    while let Some(arg) = raw.next() {
        match arg.to_str() {
            Some("--json") => args.json = true,
            Some("--dry-run") => args.dry_run = true,
            Some("-h" | "--help") => return Ok(None),
            Some("-V" | "--version") => {
                println!(
                    "triton-shm {}",
                    triton_shm::ffi::version::VERSION.to_string_lossy()
                );
                std::process::exit(0);
            }
            Some("--naming") => {
                let word = raw
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .unwrap_or_default();
                args.naming = word.parse().map_err(|e| format!("--naming: {e}"))?;
            }
            Some("--state-dir") => {
                let dir = raw.next().ok_or("--state-dir needs a directory")?;
                args.state_dir = Some(dir.into());
            }
            Some(flag) if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if args.command.is_empty() => {
                args.command = arg
                    .into_string()
                    .map_err(|_| "the command is not valid UTF-8".to_owned())?
            }
            _ => args.operands.push(arg),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => return usage_error(&message),
    };
    // Commands with a fixed number of operands.
    let fixed: Option<(usize, Command)> = match args.command.as_str() {
        "list" => Some((0, commands::list)),
        "reap" => Some((0, commands::reap)),
        "demo" => Some((0, commands::demo)),
        "inspect" => Some((1, commands::inspect)),
        "unlink" => Some((1, commands::unlink)),
        _ => None,
    };
    let outcome = match (args.command.as_str(), fixed) {
        (_, Some((n, run))) if args.operands.len() == n => run(&args),
        (_, Some((n, _))) => {
            return usage_error(&format!(
                "'{}' takes {n} argument(s), got {}",
                args.command,
                args.operands.len()
            ))
        }
        ("" | "help", _) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        ("normalize", _) if args.operands.is_empty() => {
            return usage_error("'normalize' needs at least one NAME")
        }
        ("normalize", _) => commands::normalize(&args),
        (other, _) => return usage_error(&format!("unknown command '{other}'")),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(message) => {
            eprintln!("triton-shm {}: {message}", args.command);
            ExitCode::from(1)
        }
    }
}

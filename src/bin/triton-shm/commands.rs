//! The subcommands. Each returns `Ok(true)` on success, `Ok(false)` when
//! the answer is "no" (exit 1 without an error message), `Err` on failure.

use crate::output::{num, Json};
use crate::Args;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use triton_shm::journal::{self, JournalFormat, JournalInfo, Record, RecordKind};
use triton_shm::name::{self, NamingPolicy};
use triton_shm::os::{self, OpenFlags};
use triton_shm::{Options, Registry};

/// What a command reports: `Ok(true)` success, `Ok(false)` "no" (exit 1),
/// `Err` a failure with its message.
pub type Outcome = Result<bool, String>;

fn emit(args: &Args, json: Json, text: impl FnOnce() -> String) {
    if args.json {
        println!("{}", json.render());
    } else {
        print!("{}", text());
    }
}

/// Whole seconds from `since` (seconds since the epoch) to now, by the
/// library's clock, the one its records are stamped with; 0 for a time to
/// come.
fn age_seconds(since: i64) -> i64 {
    os::now_ns()
        .div_euclid(1_000_000_000)
        .saturating_sub(since)
        .max(0)
}

fn age(since: i64) -> String {
    match age_seconds(since) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn options(args: &Args) -> Result<Options, String> {
    let mut options = Options::from_env().map_err(|e| e.message().to_owned())?;
    if args.state_dir.is_some() {
        options.state_dir.clone_from(&args.state_dir);
    }
    Ok(options)
}

/// One policy's answer for a name: the system name or why it is refused.
fn policy_answer(result: Result<Vec<u8>, name::NameError>) -> (Json, String) {
    match result {
        Ok(n) => (
            Json::Obj(vec![("name", Json::bytes(&n)), ("error", Json::Null)]),
            format!("'{}'", n.escape_ascii()),
        ),
        Err(e) => (
            Json::Obj(vec![
                ("name", Json::Null),
                ("error", Json::Str(e.to_string())),
            ]),
            format!("refused: {e}"),
        ),
    }
}

pub fn normalize(args: &Args) -> Outcome {
    let mut items = Vec::new();
    let mut text = String::new();
    for operand in &args.operands {
        let key = operand.as_bytes();
        let (seed_json, seed_text) = policy_answer(name::normalize(key));
        let (darwin_json, darwin_text) = policy_answer(NamingPolicy::Darwin.system_name(key));
        let (posix_json, posix_text) = policy_answer(NamingPolicy::Posix.system_name(key));
        let reserved = name::is_reserved(key, &[]);
        text += &format!(
            "'{}'\n  seed normalisation: {seed_text}\n  darwin:             {darwin_text}\n  posix:              {posix_text}\n  platform policy:    {}\n",
            key.escape_ascii(),
            NamingPolicy::platform()
        );
        if reserved {
            text += "  reserved:           yes, a Triton backend's own region; opening or creating it is refused\n";
        }
        items.push(Json::Obj(vec![
            ("key", Json::bytes(key)),
            ("seed", seed_json),
            ("darwin", darwin_json),
            ("posix", posix_json),
            ("platform", Json::Str(NamingPolicy::platform().to_string())),
            ("reserved", Json::Bool(reserved)),
        ]));
    }
    emit(args, Json::Arr(items), || text);
    Ok(true)
}

/// What a record knows, in a word: `created` (with its identity),
/// `creating` (the owner died before it could record one), `registered`,
/// or `text` (a record of an earlier version's text journal).
fn kind_word(r: &Record) -> &'static str {
    match r.kind {
        RecordKind::Created { .. } => "created",
        RecordKind::Intent => "creating",
        RecordKind::Registered => "registered",
        RecordKind::Legacy => "text",
    }
}

fn journal_json(j: &JournalInfo) -> Json {
    let header = j.header.as_ref();
    Json::Obj(vec![
        ("file", Json::Str(j.file.clone())),
        ("pid", header.map_or(Json::Null, |h| num(h.pid))),
        ("alive", Json::Bool(j.alive)),
        ("started", header.map_or(Json::Null, |h| num(h.started))),
        (
            "format",
            header.map_or(Json::Null, |h| {
                Json::Str(match h.format {
                    JournalFormat::Slots => "slots".to_owned(),
                    JournalFormat::Text => "text".to_owned(),
                })
            }),
        ),
        (
            "boot_id",
            header
                .and_then(|h| h.boot_id.clone())
                .map_or(Json::Null, Json::Str),
        ),
        ("bad_lines", num(j.bad_lines as u64)),
        ("error", j.error.clone().map_or(Json::Null, Json::Str)),
        (
            "regions",
            Json::Arr(
                j.regions
                    .iter()
                    .map(|r| {
                        let (device, inode) = match r.kind {
                            RecordKind::Created { device, inode, .. } => (num(device), num(inode)),
                            _ => (Json::Null, Json::Null),
                        };
                        Json::Obj(vec![
                            ("name", Json::bytes(&r.name)),
                            ("kind", Json::Str(kind_word(r).to_owned())),
                            ("device", device),
                            ("inode", inode),
                            ("size", num(r.size)),
                            ("since", num(r.since)),
                            ("age_seconds", num(age_seconds(r.since))),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

pub fn list(args: &Args) -> Outcome {
    let options = options(args)?;
    let dir = options.state_dir_path();
    let journals = journal::list_journals(&dir).map_err(|e| e.message().to_owned())?;
    emit(
        args,
        Json::Obj(vec![
            ("state_dir", Json::bytes(dir.as_os_str().as_bytes())),
            (
                "journals",
                Json::Arr(journals.iter().map(journal_json).collect()),
            ),
        ]),
        || {
            let mut text = format!("state directory {}\n", dir.display());
            if journals.is_empty() {
                text += "no journals: no process has recorded regions here\n";
            }
            for j in &journals {
                let pid = j
                    .header
                    .as_ref()
                    .map_or("?".to_owned(), |h| h.pid.to_string());
                let state = if j.alive {
                    "alive"
                } else {
                    "dead (reap will clean up)"
                };
                text += &format!(
                    "{}  pid {pid}  {state}  {} region(s)\n",
                    j.file,
                    j.regions.len()
                );
                if let Some(e) = &j.error {
                    text += &format!("  unreadable: {e}\n");
                }
                for r in &j.regions {
                    text += &format!(
                        "  '{}'  {} bytes  {} old  {}\n",
                        r.name.escape_ascii(),
                        r.size,
                        age(r.since),
                        kind_word(r)
                    );
                }
            }
            text
        },
    );
    Ok(true)
}

pub fn reap(args: &Args) -> Outcome {
    let options = options(args)?;
    let report = journal::reap(&options, args.dry_run).map_err(|e| e.message().to_owned())?;
    let verb = if args.dry_run {
        "would unlink"
    } else {
        "unlinked"
    };
    emit(
        args,
        Json::Obj(vec![
            ("dry_run", Json::Bool(args.dry_run)),
            ("journals_reaped", num(report.journals_reaped as u64)),
            ("journals_live", num(report.journals_live as u64)),
            ("journals_skipped", num(report.journals_skipped as u64)),
            ("regions_unlinked", num(report.regions_unlinked as u64)),
            (
                "regions_already_gone",
                num(report.regions_already_gone as u64),
            ),
            ("regions_failed", num(report.regions_failed as u64)),
            ("regions_left_alone", num(report.regions_left_alone as u64)),
            ("regions_deferred", num(report.regions_deferred as u64)),
            ("regions_in_use", num(report.regions_in_use as u64)),
        ]),
        || {
            format!(
                "{} journal(s) of dead owners: {verb} {} region(s), {} already gone, {} left alone \
                 (not the object recorded, or not ours), {} kept for a retry, {} deferred \
                 (a live journal lists them too), {} in use (a live process holds them); \
                 {} live journal(s) left alone, {} skipped\n",
                report.journals_reaped,
                report.regions_unlinked,
                report.regions_already_gone,
                report.regions_left_alone,
                report.regions_failed,
                report.regions_deferred,
                report.regions_in_use,
                report.journals_live,
                report.journals_skipped
            )
        },
    );
    Ok(report.regions_failed == 0)
}

fn system_name(args: &Args) -> Result<(Vec<u8>, CString), String> {
    let key = args.operands[0].as_bytes();
    let system = args.naming.system_name(key).map_err(|e| {
        format!(
            "'{}' cannot be a {} name: {e}",
            key.escape_ascii(),
            args.naming
        )
    })?;
    let c = CString::new(system.clone()).map_err(|_| "the name contains a NUL byte".to_owned())?;
    Ok((system, c))
}

/// A failed system call on `system`, worded as the library words its own.
fn os_failure(errno: i32, call: &str, system: &[u8]) -> String {
    triton_shm::Error::from_errno(errno, format_args!("{call} '{}'", system.escape_ascii()))
        .message()
        .to_owned()
}

pub fn inspect(args: &Args) -> Outcome {
    let (system, c_name) = system_name(args)?;
    let backend = os::system();
    let found = match backend.open(&c_name, OpenFlags::EXISTING) {
        Ok(fd) => {
            use std::os::fd::AsFd;
            Some(
                backend
                    .size(fd.as_fd())
                    .map_err(|errno| os_failure(errno, "fstat", &system))?,
            )
        }
        Err(libc::ENOENT) => None,
        Err(errno) => return Err(os_failure(errno, "shm_open", &system)),
    };
    emit(
        args,
        Json::Obj(vec![
            ("key", Json::bytes(args.operands[0].as_bytes())),
            ("system_name", Json::bytes(&system)),
            ("naming", Json::Str(args.naming.to_string())),
            ("exists", Json::Bool(found.is_some())),
            ("size", found.map_or(Json::Null, num)),
        ]),
        || match found {
            Some(size) => format!(
                "'{}' exists: {size} bytes (on macOS, the size rounded up to a page)\n",
                system.escape_ascii()
            ),
            None => format!("'{}' does not exist\n", system.escape_ascii()),
        },
    );
    Ok(found.is_some())
}

pub fn unlink(args: &Args) -> Outcome {
    let (system, c_name) = system_name(args)?;
    let removed = match os::system().unlink(&c_name) {
        Ok(()) => true,
        Err(libc::ENOENT) => false,
        Err(errno) => return Err(os_failure(errno, "shm_unlink", &system)),
    };
    emit(
        args,
        Json::Obj(vec![
            ("system_name", Json::bytes(&system)),
            ("unlinked", Json::Bool(removed)),
        ]),
        || {
            if removed {
                format!("unlinked '{}'\n", system.escape_ascii())
            } else {
                format!(
                    "'{}' does not exist; nothing to unlink\n",
                    system.escape_ascii()
                )
            }
        },
    );
    Ok(removed)
}

pub fn demo(args: &Args) -> Outcome {
    let key = format!("/triton-shm-demo-{}", std::process::id());
    let registry = Registry::new(Options {
        naming: args.naming,
        ..options(args)?
    })
    .map_err(|e| e.message().to_owned())?;
    let fail = |e: triton_shm::Error| e.message().to_owned();
    let system = registry.system_name(key.as_bytes()).map_err(fail)?;
    let region = registry.create_region(key.as_bytes(), 4096).map_err(fail)?;
    let greeting = b"Hello from triton-shm!";
    let wrote = region.write_at(0, greeting);
    let reader = registry
        .open_region(key.as_bytes(), 6, greeting.len() - 6)
        .map_err(fail)?;
    let mut back = vec![0u8; greeting.len() - 6];
    let read = reader.read_at(0, &mut back);
    let tracked = registry.count();
    reader.close().map_err(fail)?;
    region.close().map_err(fail)?;
    let gone = registry.open_region(key.as_bytes(), 0, 1).is_err();
    let stats = registry.stats();
    let ok = wrote && read && back == greeting[6..] && gone;
    emit(
        args,
        Json::Obj(vec![
            ("key", Json::Str(key.clone())),
            ("system_name", Json::bytes(&system)),
            ("read_back", Json::bytes(&back)),
            ("tracked_while_open", num(tracked as u64)),
            ("removed_after_close", Json::Bool(gone)),
            ("stats", Json::Str(stats.to_string())),
            ("ok", Json::Bool(ok)),
        ]),
        || {
            format!(
                "key '{key}' -> system name '{}' ({} naming)\n\
                 created and mapped 4096 bytes, wrote '{}'\n\
                 opened again at unaligned offset 6, read back '{}'\n\
                 tracked while open: {tracked}\n\
                 closed both; the region is {}\n\
                 stats: {stats}\n",
                system.escape_ascii(),
                args.naming,
                greeting.escape_ascii(),
                back.escape_ascii(),
                if gone { "gone" } else { "STILL THERE" }
            )
        },
    );
    Ok(ok)
}

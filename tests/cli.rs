//! The `triton-shm` tool, run as the real binary; `--json` output parsed.
//! One behaviour per test.
// Not under miri: every test here makes system calls (it runs the tool as a child process).
#![cfg(not(miri))]

mod common;

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use triton_shm::journal::{created_line, header_line};

fn run(args: &[&str], state_dir: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_triton-shm"));
    cmd.args(args);
    if let Some(dir) = state_dir {
        cmd.env("TRITON_SHM_STATE_DIR", dir);
    }
    cmd.output().expect("run triton-shm")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A state directory of this test alone, under the temporary directory,
/// with `mode`; removed when dropped.
struct StateDir(PathBuf);

impl StateDir {
    fn new(tag: &str, mode: u32) -> StateDir {
        // unique_key gives "/tsm<tag><pid>_<n>": unique per test and process.
        let unique = common::unique_key(tag);
        let dir = std::env::temp_dir().join(format!("tsm-cli-{}", unique.trim_start_matches('/')));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        StateDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The journal a dead process (pid 424242) left: it created `key`, 4096
/// bytes, which still exists. Returns the state directory and the key.
fn dead_owners_journal() -> (StateDir, String) {
    let dir = StateDir::new("dead", 0o700);
    let key = common::unique_key("dead");
    common::create_object(&key);
    std::fs::write(
        dir.path().join("424242-0-0.journal"),
        header_line(424242, "posix", 0) + &created_line(key.as_bytes(), 4096, 0),
    )
    .unwrap();
    (dir, key)
}

// ---- help and usage ----------------------------------------------------------

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let out = run(&["--help"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in [
        "normalize",
        "list",
        "reap",
        "--dry-run",
        "inspect",
        "unlink",
        "demo",
        "--json",
        "EXIT STATUS",
    ] {
        assert!(text.contains(word), "--help does not mention {word}");
    }
}

#[test]
fn an_unknown_command_exits_2_and_names_it() {
    let out = run(&["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown command 'frobnicate'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_command_missing_its_argument_exits_2() {
    let out = run(&["inspect"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unknown_naming_policy_exits_2_and_lists_the_choices() {
    let out = run(&["--naming", "windows", "inspect", "/x"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("platform | darwin | posix"),
        "{}",
        stderr(&out)
    );
}

// ---- normalize ---------------------------------------------------------------

/// `normalize --json` of one name: its entry.
fn normalize_one(name: &str) -> Value {
    let out = run(&["--json", "normalize", name], None);
    assert!(out.status.success(), "{}", stderr(&out));
    json(&out)[0].clone()
}

#[test]
fn normalize_answers_for_each_name_in_the_order_given() {
    let names = [
        "/path/with/slashes",
        "///",
        "/triton_python_backend_shm_region_0",
    ];
    let out = run(&["--json", "normalize", names[0], names[1], names[2]], None);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    for (i, name) in names.iter().enumerate() {
        assert_eq!(v[i], normalize_one(name), "entry {i}");
    }
}

#[test]
fn normalize_gives_the_seed_and_darwin_names() {
    let v = normalize_one("/path/with/slashes");
    assert_eq!(v["seed"]["name"], "/path_with_slashes");
    assert_eq!(v["darwin"]["name"], "/path_with_slashes");
}

#[test]
fn normalize_says_posix_refuses_an_inner_slash() {
    let v = normalize_one("/path/with/slashes");
    assert!(v["posix"]["error"].as_str().unwrap().contains("'/'"), "{v}");
}

#[test]
fn normalize_says_an_all_slash_name_is_empty() {
    let v = normalize_one("///");
    assert!(
        v["seed"]["error"].as_str().unwrap().contains("empty"),
        "{v}"
    );
}

#[test]
fn normalize_marks_a_python_backend_name_reserved() {
    let v = normalize_one("/triton_python_backend_shm_region_0");
    assert_eq!(v["reserved"], true);
}

#[test]
fn normalize_gives_the_darwin_length_limit_of_a_long_name() {
    let v = normalize_one("/triton_python_backend_shm_region_0");
    assert!(
        v["darwin"]["error"]
            .as_str()
            .unwrap()
            .contains("limit is 31"),
        "{v}"
    );
}

// ---- demo ----------------------------------------------------------------------

fn assert_demo_runs_a_whole_lifecycle(naming: &str) {
    let out = run(&["--json", "--naming", naming, "demo"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["removed_after_close"], true);
    assert_eq!(v["read_back"], "from triton-shm!");
}

#[test]
fn demo_runs_a_whole_lifecycle_under_posix_naming() {
    assert_demo_runs_a_whole_lifecycle("posix");
}

#[test]
fn demo_runs_a_whole_lifecycle_under_darwin_naming() {
    assert_demo_runs_a_whole_lifecycle("darwin");
}

// ---- inspect and unlink ----------------------------------------------------------

#[test]
fn inspect_exits_0_and_reports_an_existing_objects_size() {
    let key = common::unique_key("cli");
    common::create_object(&key);
    let out = run(&["--json", "inspect", &key], None);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(
        (v["exists"].as_bool(), v["size"].as_u64()),
        (Some(true), Some(4096))
    );
    common::remove_object(&key);
}

#[test]
fn unlink_exits_0_and_removes_the_object() {
    let key = common::unique_key("cli");
    common::create_object(&key);
    let out = run(&["--json", "unlink", &key], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["unlinked"], true);
    assert!(!common::object_exists(&key));
}

#[test]
fn inspect_exits_1_for_a_missing_object() {
    let key = common::unique_key("cli");
    let out = run(&["--json", "inspect", &key], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["exists"], false);
}

#[test]
fn unlink_exits_1_for_a_missing_object() {
    let key = common::unique_key("cli");
    let out = run(&["unlink", &key], None);
    assert_eq!(out.status.code(), Some(1));
}

// ---- list and reap -----------------------------------------------------------------

#[test]
fn list_shows_a_dead_owners_journal_and_its_regions() {
    let (dir, key) = dead_owners_journal();
    let out = run(&["--json", "list"], Some(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    let journal = &v["journals"][0];
    assert_eq!(
        (journal["pid"].as_u64(), journal["alive"].as_bool()),
        (Some(424242), Some(false))
    );
    assert_eq!(journal["regions"][0]["name"], key.as_str());
    assert_eq!(journal["regions"][0]["size"], 4096);
    common::remove_object(&key);
}

#[test]
fn reap_dry_run_counts_a_dead_owners_regions_and_changes_nothing() {
    let (dir, key) = dead_owners_journal();
    let out = run(&["--json", "reap", "--dry-run"], Some(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["regions_unlinked"], 1);
    assert!(common::object_exists(&key), "a dry run changed something");
    common::remove_object(&key);
}

#[test]
fn reap_unlinks_a_dead_owners_regions_and_says_how_many() {
    let (dir, key) = dead_owners_journal();
    let out = run(&["reap"], Some(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unlinked 1 region(s)"));
    assert!(!common::object_exists(&key));
}

#[test]
fn list_after_reap_shows_no_journals() {
    let (dir, key) = dead_owners_journal();
    let out = run(&["reap"], Some(dir.path()));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["--json", "list"], Some(dir.path()));
    assert_eq!(json(&out)["journals"].as_array().map(Vec::len), Some(0));
    common::remove_object(&key);
}

#[test]
fn a_refused_state_directory_is_an_error_that_names_the_fix() {
    let dir = StateDir::new("open", 0o777);
    let out = run(&["list"], Some(dir.path()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("chmod 700"), "{}", stderr(&out));
}

//! The `triton-shm` tool, run as the real binary; `--json` output parsed.
// Not under miri: every test here makes system calls (it runs the tool as a child process).
#![cfg(not(miri))]

mod common;

use serde_json::Value;
use std::process::{Command, Output};
use triton_shm::journal::{created_line, header_line};

fn run(args: &[&str], state_dir: Option<&std::path::Path>) -> Output {
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

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let out = run(&["--help"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["normalize", "list", "reap", "--dry-run", "inspect", "unlink", "demo", "--json", "EXIT STATUS"] {
        assert!(text.contains(word), "--help does not mention {word}");
    }
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let out = run(&["frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command 'frobnicate'"));
    let out = run(&["inspect"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--naming", "windows", "inspect", "/x"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("platform | darwin | posix"));
}

#[test]
fn normalize_shows_every_policy_and_why_a_name_is_refused() {
    let out = run(&["--json", "normalize", "/path/with/slashes", "///", "/triton_python_backend_shm_region_0"], None);
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v[0]["seed"]["name"], "/path_with_slashes");
    assert_eq!(v[0]["darwin"]["name"], "/path_with_slashes");
    assert!(v[0]["posix"]["error"].as_str().unwrap().contains("'/'"));
    assert!(v[1]["seed"]["error"].as_str().unwrap().contains("empty"));
    assert_eq!(v[2]["reserved"], true);
    assert!(v[2]["darwin"]["error"].as_str().unwrap().contains("limit is 31"));
}

#[test]
fn demo_runs_a_whole_lifecycle() {
    for naming in ["posix", "darwin"] {
        let out = run(&["--json", "--naming", naming, "demo"], None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v = json(&out);
        assert_eq!(v["ok"], true);
        assert_eq!(v["removed_after_close"], true);
        assert_eq!(v["read_back"], "from triton-shm!");
    }
}

#[test]
fn inspect_and_unlink_report_existence_through_exit_codes() {
    let key = common::unique_key("cli");
    common::create_object(&key);
    let out = run(&["--json", "inspect", &key], None);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!((v["exists"].as_bool(), v["size"].as_u64()), (Some(true), Some(4096)));
    let out = run(&["--json", "unlink", &key], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json(&out)["unlinked"], true);
    assert!(!common::object_exists(&key));
    let out = run(&["--json", "inspect", &key], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["exists"], false);
    let out = run(&["unlink", &key], None);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn list_and_reap_handle_a_dead_owners_journal() {
    let dir = std::env::temp_dir().join(format!("tsm-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let key = common::unique_key("dead");
    common::create_object(&key);
    std::fs::write(
        dir.join("424242-0-0.journal"),
        header_line(424242, "posix", 0) + &created_line(key.as_bytes(), 4096, 0),
    )
    .unwrap();

    let out = run(&["--json", "list"], Some(&dir));
    assert!(out.status.success());
    let v = json(&out);
    let journal = &v["journals"][0];
    assert_eq!((journal["pid"].as_u64(), journal["alive"].as_bool()), (Some(424242), Some(false)));
    assert_eq!(journal["regions"][0]["name"], key.as_str());
    assert_eq!(journal["regions"][0]["size"], 4096);

    let out = run(&["--json", "reap", "--dry-run"], Some(&dir));
    assert!(out.status.success());
    assert_eq!(json(&out)["regions_unlinked"], 1);
    assert!(common::object_exists(&key), "a dry run changed something");

    let out = run(&["reap"], Some(&dir));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("unlinked 1 region(s)"));
    assert!(!common::object_exists(&key));
    let out = run(&["--json", "list"], Some(&dir));
    assert_eq!(json(&out)["journals"].as_array().map(Vec::len), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_refused_state_directory_is_an_error_that_names_the_fix() {
    let dir = std::env::temp_dir().join(format!("tsm-cli-open-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = run(&["list"], Some(&dir));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 700"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

//! A model of the removal protocol, checked exhaustively with `stateright`.
//! docs/protocol-model.md describes it, its bounds and what it found; run
//! `cargo test --locked --test protocol_model -- --nocapture` to see the
//! state counts and the traces.
//!
//! The model (`protocol_model/model.rs`): POSIX shm objects under names, an
//! object's number standing for its device and inode; one journal per
//! journaling process (one slot: free, intent, created with the object's
//! number, registered), locked while its process lives; the reaper lock;
//! and processes that each run one program, one step per action, each step
//! named as the crash point in the code:
//!
//! * a creator: `after-record`, `after-create`, `after-identity`,
//!   `after-size`, `mapped`, then its close: `close-checked`,
//!   `close-unlinked`, `slot-freed` (with failures on, `failed` after
//!   `shm_open` goes to the same close);
//! * an owned registration: `registered` (a record without identity);
//! * a plain client with no journal: `client-opened` (`shm_open(O_RDWR |
//!   O_CREAT)` without `O_EXCL`: the object under the name, or a new one),
//!   `client-sized` (the size it already has), `client-closed`;
//! * a reaper: `reaper-serialised`, `reaper-surveyed`, then per dead
//!   journal `reaper-opened`, `reaper-locked`, `reaper-checked`, `re-read`,
//!   `reaper-rechecked`, `unlink`, `journal-done`; `reaper-released`;
//! * an outsider: removes a name once, outside the protocol.
//!
//! Any live process may be killed between any two of its steps (`CRASH`):
//! its locks are free and what it had open or mapped is closed.
//!
//! Rules: `Old` (before the protocol: each of the four interleavings that
//! removed live regions is found), `Listed` (the
//! reaper's steps as first written: a fifth interleaving is found) and
//! `New` (the protocol, with `reaper-rechecked` confirming that the name
//! still has the object found at `reaper-checked`: every property holds).
//! Properties: no object a live process holds is unlinked by a process of
//! the protocol that did not create it, but in the residual window (a plain
//! client opening between `reaper-rechecked` and `unlink`) and the outside
//! window (an unlink from outside the protocol between `close-checked` and
//! `close-unlinked`), each shown by its own trace; and once every
//! journaling process is dead and nothing is held, one quiet reap leaves
//! no object of theirs and no journal.
//!
//! Not under miri: the interpreter would take hours, and the model makes no
//! system call.
#![cfg(not(miri))]

#[path = "protocol_model/model.rs"]
mod model;

use model::{
    Action, ProtocolModel, Role, Rules, State, CLOSE_VS_CREATOR, CREATED_VS_CLIENT,
    INTENT_VS_CREATOR, OUTSIDE_WINDOW, QUIET_REAP, REGISTERED_VS_CREATOR, REPLACED, RESIDUAL,
    SAFETY,
};
use stateright::{Checker, HasDiscoveries, Model};
use std::time::Instant;

/// Check `model` exhaustively (breadth first), print what was found, and
/// return the checker.
fn check(title: &str, model: ProtocolModel) -> impl Checker<ProtocolModel> {
    check_until(title, model, &[])
}

/// [`check`], stopping once each of `wanted` has a trace (all of the space
/// when `wanted` is empty). Breadth first, so the traces are short (not
/// always the shortest: the checker keeps the last trace of the batch of
/// states in which it found one).
fn check_until(
    title: &str,
    model: ProtocolModel,
    wanted: &[&'static str],
) -> impl Checker<ProtocolModel> {
    let started = Instant::now();
    let mut builder = model.clone().checker();
    if !wanted.is_empty() {
        builder = builder.finish_when(HasDiscoveries::AllOf(wanted.iter().copied().collect()));
    }
    let checker = builder.spawn_bfs().join();
    println!(
        "{title}: {:?} rules, {} name(s), [{}]: {} unique states, depth {}, {:.2?}",
        model.rules,
        model.names,
        (0..model.actors.len() as u8)
            .map(|p| model.describe(p))
            .collect::<Vec<_>>()
            .join(", "),
        checker.unique_state_count(),
        checker.max_depth(),
        started.elapsed()
    );
    checker
}

/// The trace that breaks (or shows) `property`, printed; panics when there
/// is none.
fn trace_of(checker: &impl Checker<ProtocolModel>, property: &'static str) -> (Vec<Action>, State) {
    let Some(path) = checker.discovery(property) else {
        panic!("no trace found for: {property}");
    };
    let state = path.last_state().clone();
    let actions = path.into_actions();
    println!(
        "  {property}:\n{}  in short: {}\n  ends with {:?}",
        checker.model().trace(&actions),
        ProtocolModel::short_trace(&actions),
        state.violation
    );
    (actions, state)
}

fn assert_holds(checker: &impl Checker<ProtocolModel>, property: &'static str) {
    if let Some(path) = checker.discovery(property) {
        let actions = path.into_actions();
        panic!("{property}: broken by\n{}", checker.model().trace(&actions));
    }
}

/// The position of `pid`'s `step` in `trace`.
fn at(trace: &[Action], pid: u8, step: &str) -> usize {
    trace
        .iter()
        .position(|a| a.pid == pid && a.step.name() == step)
        .unwrap_or_else(|| panic!("P{pid} {step} is not in the trace"))
}

const D: u8 = 0;

// --- the old rules: each of the four interleavings is found ---------------

#[test]
fn old_rules_a_dead_intent_removes_a_live_creators_unsized_object() {
    // P0 = D, P1 = Q (creators of /n0), P2 = reaper.
    let model = ProtocolModel::new(
        Rules::Old,
        1,
        &[Role::Creator(0), Role::Creator(0), Role::Reaper],
    );
    let checker = check_until("interleaving 1", model, &[INTENT_VS_CREATOR]);
    let (trace, state) = trace_of(&checker, INTENT_VS_CREATOR);
    // D died between its intent and shm_open; the reaper surveyed before
    // Q's intent and unlinked after Q's shm_open, while Q was alive.
    let d = trace
        .iter()
        .find(|a| a.step.name() == "CRASH")
        .expect("a crash")
        .pid;
    let q = 1 - d;
    assert!(at(&trace, d, "after-record") < at(&trace, d, "CRASH"));
    assert!(!trace
        .iter()
        .any(|a| a.pid == d && a.step.name() == "after-create"));
    assert!(at(&trace, 2, "reaper-surveyed") < at(&trace, q, "after-record"));
    assert!(at(&trace, q, "after-create") < at(&trace, 2, "reaper-checked"));
    assert!(at(&trace, 2, "reaper-checked") < at(&trace, 2, "unlink"));
    assert!(state.procs[usize::from(q)].alive);
}

#[test]
fn old_rules_an_owners_close_removes_the_object_that_replaced_its_own() {
    // P0 = A, P1 = B (creators of /n0), P2 = something removing /n0.
    let model = ProtocolModel::new(
        Rules::Old,
        1,
        &[Role::Creator(0), Role::Creator(0), Role::Outsider(0)],
    );
    let checker = check_until("interleaving 2", model, &[CLOSE_VS_CREATOR]);
    let (trace, state) = trace_of(&checker, CLOSE_VS_CREATOR);
    // A's object is removed (by something else), B creates the name anew,
    // A's close removes B's object.
    let a = trace
        .iter()
        .find(|a| a.step.name() == "close-unlinked")
        .expect("a close")
        .pid;
    let b = 1 - a;
    assert!(at(&trace, a, "after-create") < at(&trace, 2, "outsider-unlinked"));
    assert!(at(&trace, 2, "outsider-unlinked") < at(&trace, b, "after-create"));
    assert!(at(&trace, b, "after-create") < at(&trace, a, "close-unlinked"));
    assert!(state.procs[usize::from(b)].alive);
}

#[test]
fn old_rules_a_dead_registration_removes_a_live_creators_object() {
    // P0 = D (owned registration of /n0), P1 = Q (creator), P2 = reaper.
    let model = ProtocolModel::new(
        Rules::Old,
        1,
        &[Role::Registrant(0), Role::Creator(0), Role::Reaper],
    );
    let checker = check_until("interleaving 3", model, &[REGISTERED_VS_CREATOR]);
    let (trace, _) = trace_of(&checker, REGISTERED_VS_CREATOR);
    assert!(at(&trace, D, "registered") < at(&trace, D, "CRASH"));
    assert!(at(&trace, 2, "reaper-surveyed") < at(&trace, 1, "after-record"));
    assert!(at(&trace, 1, "after-create") < at(&trace, 2, "unlink"));
}

#[test]
fn old_rules_a_dead_creation_removes_the_object_a_client_reopened() {
    // P0 = D (creator), P1 = P (plain client), P2 = reaper.
    let model = ProtocolModel::new(
        Rules::Old,
        1,
        &[Role::Creator(0), Role::Client(0), Role::Reaper],
    );
    let checker = check_until("interleaving 4", model, &[CREATED_VS_CLIENT]);
    let (trace, _) = trace_of(&checker, CREATED_VS_CLIENT);
    // D's object was complete and identified; P reopened it in place.
    assert!(at(&trace, D, "after-identity") < at(&trace, D, "CRASH"));
    assert!(at(&trace, D, "after-create") < at(&trace, 1, "client-opened"));
    assert!(at(&trace, 1, "client-opened") < at(&trace, 2, "unlink"));
}

// --- the protocol as first listed: a fifth interleaving ---------------------

#[test]
fn listed_rules_an_owner_that_finishes_its_close_hides_from_the_re_read() {
    // Three creators (D, O, Q in some order) and a reaper. D dies after
    // its intent. The reaper finds O's object at reaper-checked; O unlinks
    // it and frees its slot (or dies) before the re-read, which then lists
    // nobody; Q records and creates after the re-read; the in-use check
    // asks about O's object, which nobody holds; the unlink removes Q's.
    let actors = [
        Role::Creator(0),
        Role::Creator(0),
        Role::Creator(0),
        Role::Reaper,
    ];
    let model = ProtocolModel::new(Rules::Listed, 1, &actors);
    let checker = check_until("re-read gap", model, &[SAFETY]);
    let (trace, state) = trace_of(&checker, SAFETY);
    let violation = state.violation.expect("a violation");
    assert_eq!(violation.victim, model::Victim::Creator);
    assert!(matches!(violation.by, model::Remover::Reaper(_)));
    let checked = at(&trace, 3, "reaper-checked");
    let re_read = at(&trace, 3, "re-read");
    let unlink = at(&trace, 3, "unlink");
    // The owner of the object found unlinked it between the check and the
    // re-read (and freed its slot or died: either way no live journal lists
    // the name at the re-read); another creator made the name anew after
    // the re-read.
    let freed = trace[checked..re_read]
        .iter()
        .any(|a| a.step.name() == "close-unlinked");
    let created = trace[re_read..unlink]
        .iter()
        .any(|a| a.step.name() == "after-create");
    assert!(freed && created, "not the re-read gap");
    // The same processes under the new rules: see "three creators" below.
}

// --- the new rules ---------------------------------------------------------

/// The bounded space the new rules are checked over: the process mixes of
/// the four interleavings, two reapers, one name, with failures after
/// `shm_open`; the re-read gap's mixes with four processes, and two names
/// shared by two creators, a client and a reaper, without failures.
fn new_rule_models() -> Vec<(&'static str, ProtocolModel)> {
    use Role::*;
    let three = |actors: &[Role]| ProtocolModel::new(Rules::New, 1, actors).with_failures();
    let four = |names, actors: &[Role]| ProtocolModel::new(Rules::New, names, actors);
    vec![
        (
            "creators and a reaper",
            three(&[Creator(0), Creator(0), Reaper]),
        ),
        (
            "close after removal",
            three(&[Creator(0), Creator(0), Outsider(0)]),
        ),
        ("registration", three(&[Registrant(0), Creator(0), Reaper])),
        ("client reuse", three(&[Creator(0), Client(0), Reaper])),
        ("two reapers", three(&[Creator(0), Reaper, Reaper])),
        (
            "three creators",
            four(1, &[Creator(0), Creator(0), Creator(0), Reaper]),
        ),
        (
            "registration and creators",
            four(1, &[Registrant(0), Creator(0), Creator(0), Reaper]),
        ),
        (
            "creators and a client",
            four(1, &[Creator(0), Creator(0), Client(0), Reaper]),
        ),
        (
            "creators and two reapers",
            four(1, &[Creator(0), Creator(0), Reaper, Reaper]),
        ),
        (
            "registration, creator and client",
            four(1, &[Registrant(0), Creator(0), Client(0), Reaper]),
        ),
        (
            "two names",
            four(2, &[Creator(0), Creator(1), Client(0), Reaper]),
        ),
    ]
}

#[test]
fn new_rules_never_remove_what_a_live_process_holds_but_in_the_residual_window() {
    let mut states = 0;
    let started = Instant::now();
    for (title, model) in new_rule_models() {
        let checker = check(title, model);
        states += checker.unique_state_count();
        assert_holds(&checker, SAFETY);
        assert_holds(&checker, QUIET_REAP);
        // The two windows left open need a plain client, or an unlink from
        // outside the protocol.
        let actors = &checker.model().actors;
        if !actors.iter().any(|r| matches!(r, Role::Client(_))) {
            assert!(checker.discovery(RESIDUAL).is_none());
        }
        if !actors.iter().any(|r| matches!(r, Role::Outsider(_))) {
            assert!(checker.discovery(OUTSIDE_WINDOW).is_none());
        }
    }
    println!(
        "new rules: {states} unique states in all, {:.2?}",
        started.elapsed()
    );
}

#[test]
fn new_rules_leave_the_residual_window_and_only_it() {
    // P0 = D (creator), P1 = P (plain client), P2 = reaper: P opens D's
    // stale object after the in-use check, before the unlink.
    let model = ProtocolModel::new(
        Rules::New,
        1,
        &[Role::Creator(0), Role::Client(0), Role::Reaper],
    );
    let checker = check("residual", model);
    let (trace, state) = trace_of(&checker, RESIDUAL);
    assert!(state.violation.is_none());
    let rechecked = at(&trace, 2, "reaper-rechecked");
    let opened = at(&trace, 1, "client-opened");
    let unlink = at(&trace, 2, "unlink");
    assert!(rechecked < opened && opened < unlink);
    // Everything else is a violation (SAFETY), and there is none.
    assert_holds(&checker, SAFETY);
}

#[test]
fn new_rules_an_owner_leaves_a_replacement_alone() {
    // P0, P1 = creators of /n0, P2 = something removing /n0. An owner whose
    // object was replaced before its close-checked leaves the new object
    // alone. Replaced between close-checked and close-unlinked, it is
    // removed: only an unlink outside the protocol can do that, which the
    // model shows as its own case (and SAFETY excepts).
    let model = ProtocolModel::new(
        Rules::New,
        1,
        &[Role::Creator(0), Role::Creator(0), Role::Outsider(0)],
    );
    let checker = check("replaced", model);
    let (trace, state) = trace_of(&checker, REPLACED);
    assert!(state.violation.is_none());
    assert!(at(&trace, 2, "outsider-unlinked") < trace.len());
    let (trace, _) = trace_of(&checker, OUTSIDE_WINDOW);
    let a = trace
        .iter()
        .find(|a| a.step.name() == "close-unlinked")
        .expect("a close")
        .pid;
    let removed = at(&trace, 2, "outsider-unlinked");
    assert!(at(&trace, a, "close-checked") < removed);
    assert!(removed < at(&trace, a, "close-unlinked"));
    assert_holds(&checker, SAFETY);
}

#[test]
fn new_rules_need_each_of_their_checks() {
    // Leave one check out and the checker finds an object a live process
    // holds removed, in one of the new rules' models.
    use model::Check;
    use Role::*;
    let cases = [
        (
            Check::ReRead,
            vec![Creator(0), Creator(0), Creator(0), Reaper],
            "the re-read",
        ),
        (
            Check::InUse,
            vec![Creator(0), Client(0), Reaper],
            "the in-use check",
        ),
        (
            Check::CloseIdentity,
            vec![Creator(0), Creator(0), Outsider(0)],
            "the owner's identity check",
        ),
    ];
    for (check, actors, title) in cases {
        let model = ProtocolModel::new(Rules::New, 1, &actors).without(check);
        let checker = check_until(title, model, &[SAFETY]);
        trace_of(&checker, SAFETY);
    }
}

#[test]
fn old_rules_fail_the_same_properties() {
    // The properties are not vacuous: the old rules break safety in the
    // new rules' first model, and leave a dead owner's object behind (an
    // intent whose object a client sized is never taken).
    let model = ProtocolModel::new(
        Rules::Old,
        1,
        &[Role::Creator(0), Role::Client(0), Role::Reaper],
    );
    let checker = check_until("old rules, client reuse", model, &[SAFETY, QUIET_REAP]);
    trace_of(&checker, SAFETY);
    trace_of(&checker, QUIET_REAP);
}

//! The removal protocol as a state machine for `stateright`: processes
//! (creators, owned registrations, plain clients, reapers, and an outsider
//! that removes a name), the shared-memory namespace, the journals and their
//! locks. Each action is one step of one process, named as the library's
//! crash points are (`src/os/crash_point.rs`), and any live process may be
//! killed between any two of its steps.

use stateright::{Model, Property};
use std::fmt;

/// Process number: an index into [`ProtocolModel::actors`].
pub type Pid = u8;
/// Object number, in the order the objects were made: the model's identity
/// (device and inode on Linux). Objects are never reused.
pub type Obj = u8;
/// Name number: `/n0`, `/n1`.
pub type Name = u8;

/// What a process does. Each runs its program once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// `create_region` on the name, then closes the region (the owner's
    /// unlink). Journaling.
    Creator(Name),
    /// Registers the name as owned (a record without identity), and keeps
    /// it. Journaling.
    Registrant(Name),
    /// A client with no journal (Triton's C++ client): `shm_open(O_RDWR |
    /// O_CREAT)` without `O_EXCL`, `ftruncate` to the size it already has,
    /// map; may close again. Never unlinks.
    Client(Name),
    /// `reap_stale` once over the whole state directory.
    Reaper,
    /// Something outside the protocol that removes the name once (a tool,
    /// another library's unlink): its unlinks are never counted against the
    /// protocol, but what the protocol does afterwards is.
    Outsider(Name),
}

impl Role {
    fn journaling(self) -> bool {
        matches!(self, Role::Creator(_) | Role::Registrant(_))
    }
}

/// Which rules the processes follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rules {
    /// The rules before the removal protocol: reapers are not serialised
    /// and trust their survey of the live journals; an intent takes an
    /// unsized object newer than the record, a registration takes any
    /// object, a creation takes the object with its identity; an owner's
    /// close unlinks by name.
    Old,
    /// The removal protocol with the reaper's steps exactly as listed:
    /// serialised, the live journals read again (`d`), the in-use check
    /// (`e`), then the unlink.
    Listed,
    /// [`Rules::Listed`], and the in-use check (`reaper-rechecked`) also
    /// opens the name again and requires the identity found at
    /// `reaper-checked`: an owner that unlinked its object and freed its
    /// record between `reaper-checked` and the second reading of the
    /// journals is not listed there, and a creator that comes after that
    /// reading may hold the object then under the name.
    New,
}

/// A check of the new rules that a model may leave out, to show that it is
/// needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// `reaper-serialised` takes no lock.
    Serialisation,
    /// `re-read` defers nothing.
    ReRead,
    /// `reaper-rechecked` finds nothing in use.
    InUse,
    /// `close-checked` takes whatever is under the name for the owner's.
    CloseIdentity,
}

/// One step of one process: the actions of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    // Creator.
    AfterRecord,
    AfterCreate,
    AfterIdentity,
    AfterSize,
    Mapped,
    /// An `fstat`, `ftruncate` or `mmap` after the creation fails: the
    /// region is not made and the object is removed by the owner's unlink.
    Failed,
    CloseChecked,
    CloseUnlinked,
    SlotFreed,
    // Owned registration.
    Registered,
    // Plain client.
    ClientOpened,
    ClientSized,
    ClientClosed,
    // Reaper.
    ReaperSerialised,
    ReaperSurveyed,
    ReaperOpened,
    ReaperLocked,
    ReaperChecked,
    ReRead,
    ReaperRechecked,
    Unlink,
    JournalDone,
    ReaperReleased,
    // Outsider.
    OutsiderUnlinked,
    /// SIGKILL: the process is gone, its locks are free, its descriptors
    /// and mappings are closed.
    Crash,
}

impl Step {
    /// The step's name: the crash point's where there is one.
    pub fn name(self) -> &'static str {
        match self {
            Step::AfterRecord => "after-record",
            Step::AfterCreate => "after-create",
            Step::AfterIdentity => "after-identity",
            Step::AfterSize => "after-size",
            Step::Mapped => "mapped",
            Step::Failed => "failed",
            Step::CloseChecked => "close-checked",
            Step::CloseUnlinked => "close-unlinked",
            Step::SlotFreed => "slot-freed",
            Step::Registered => "registered",
            Step::ClientOpened => "client-opened",
            Step::ClientSized => "client-sized",
            Step::ClientClosed => "client-closed",
            Step::ReaperSerialised => "reaper-serialised",
            Step::ReaperSurveyed => "reaper-surveyed",
            Step::ReaperOpened => "reaper-opened",
            Step::ReaperLocked => "reaper-locked",
            Step::ReaperChecked => "reaper-checked",
            Step::ReRead => "re-read",
            Step::ReaperRechecked => "reaper-rechecked",
            Step::Unlink => "unlink",
            Step::JournalDone => "journal-done",
            Step::ReaperReleased => "reaper-released",
            Step::OutsiderUnlinked => "outsider-unlinked",
            Step::Crash => "CRASH",
        }
    }
}

/// An action: process `pid` takes `step`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action {
    pub pid: Pid,
    pub step: Step,
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{} {}", self.pid, self.step.name())
    }
}

/// A journal slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    Free,
    /// Written before `shm_open`. `since` stands for the record's time: the
    /// number of objects made before it (an object is newer than the
    /// record when its number is at least `since`).
    Intent {
        name: Name,
        since: Obj,
    },
    /// The identity of the object made (device and inode).
    Created {
        name: Name,
        obj: Obj,
    },
    /// An owned registration: no identity.
    Registered {
        name: Name,
    },
}

impl Slot {
    fn name(self) -> Option<Name> {
        match self {
            Slot::Free => None,
            Slot::Intent { name, .. } | Slot::Created { name, .. } | Slot::Registered { name } => {
                Some(name)
            }
        }
    }
}

/// The kind of record a reaper acted on, for naming violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Intent,
    Created,
    Registered,
}

fn kind(slot: Slot) -> Option<RecordKind> {
    match slot {
        Slot::Free => None,
        Slot::Intent { .. } => Some(RecordKind::Intent),
        Slot::Created { .. } => Some(RecordKind::Created),
        Slot::Registered { .. } => Some(RecordKind::Registered),
    }
}

/// One process's journal file (one slot: each journaling process makes one
/// region). Its flock is held by its process while that lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Journal {
    /// Still in the state directory.
    pub linked: bool,
    pub slot: Slot,
    /// A reaper holding its lock (after its owner died).
    pub reaper: Option<Pid>,
}

/// A POSIX shared-memory object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Object {
    pub name: Name,
    /// Under its name (not yet unlinked).
    pub linked: bool,
    /// `ftruncate`d to the region's size (every size in the model is the
    /// same one: a client's `ftruncate` keeps it).
    pub sized: bool,
    /// The journaling creator that made it, if one did.
    pub creator: Option<Pid>,
}

/// Where a reaper is in one dead journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reap {
    /// Between journals.
    Between,
    /// `reaper-opened`: the file is open.
    Opened(Pid),
    /// `reaper-locked`: locked, still linked, its record read.
    Locked(Pid),
    /// `reaper-checked`: the object under the name is `obj`; judged.
    Checked(Pid, Obj),
    /// `re-read`: no live journal lists the name.
    ReRead(Pid, Obj),
    /// `reaper-rechecked`: nobody holds `obj`. `late`: the plain clients
    /// that opened the name since (the residual window).
    Rechecked(Pid, Obj, u8),
    /// The record is resolved (`keep: false`) or kept for a later reap.
    Finished(Pid, bool),
}

/// A process's program counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pc {
    Start,
    Done,
    // Creator; the object is the registry entry's identity.
    Recorded,
    Made(Obj),
    Identified(Obj),
    Sized(Obj),
    Owning(Obj),
    /// After a failed step: the descriptor is closed, the object is to be
    /// removed.
    Failing(Obj),
    CloseChecked(Obj),
    CloseUnlinked,
    // Owned registration.
    Registered,
    // Plain client.
    ClientOpened,
    ClientHolding,
    // Reaper.
    Serialised,
    Reaping {
        /// Dead journals of the survey not yet visited (bit per pid).
        todo: u8,
        /// Names the live journals listed at the survey (bit per name).
        live: u8,
        at: Reap,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Proc {
    pub alive: bool,
    pub pc: Pc,
    /// The object it has open or mapped (what `/proc/<pid>/fd` and
    /// `/proc/<pid>/maps` show).
    pub holds: Option<Obj>,
}

/// Who removed a held object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Remover {
    /// A reaper, acting on a record of this kind.
    Reaper(RecordKind),
    /// An owner's close (or the unlink after a failed creation) of a name
    /// whose object is not its own.
    Owner,
}

/// Whose object it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Victim {
    /// A live journaling creator, from its `shm_open` on.
    Creator,
    /// A live plain client.
    Client,
}

/// An object a live process held was unlinked by a process of the protocol
/// that did not make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Violation {
    pub by: Remover,
    pub victim: Victim,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// The object under each name.
    pub names: Vec<Option<Obj>>,
    pub objects: Vec<Object>,
    pub procs: Vec<Proc>,
    /// Per pid; `None` for processes without a journal.
    pub journals: Vec<Option<Journal>>,
    /// The state directory's reaper lock.
    pub reaper_lock: Option<Pid>,
    /// The first violation (no step is taken after one).
    pub violation: Option<Violation>,
    /// A reaper removed an object that only plain clients held, each of
    /// which opened it after that reaper's in-use check: the residual
    /// window, which the protocol documents and does not close.
    pub residual: bool,
    /// An owner's `close-unlinked` removed an object a live process held
    /// that replaced the owner's own after its `close-checked`: only an
    /// unlink outside the protocol can replace it there.
    pub outside_window: bool,
    /// The owners between `close-checked` and `close-unlinked` when an
    /// outsider removed a name (bit per pid).
    pub outside_late: u8,
    /// Owners that found their object replaced at `close-checked`.
    pub replaced: u8,
}

/// The model: its rules and its processes.
#[derive(Clone, Debug)]
pub struct ProtocolModel {
    pub rules: Rules,
    pub names: u8,
    pub actors: Vec<Role>,
    /// Whether a creator's `fstat`/`ftruncate`/`mmap` may fail.
    pub failures: bool,
    /// A check of the new rules left out.
    pub without: Option<Check>,
}

pub const SAFETY: &str = "no object a live process holds is unlinked by another (but the residual)";
pub const RESIDUAL: &str =
    "residual: a plain client opened the object between reaper-rechecked and the unlink";
pub const OUTSIDE_WINDOW: &str =
    "outside: an unlink outside the protocol between close-checked and close-unlinked";
pub const REPLACED: &str =
    "an owner finds its object replaced at close-checked and leaves the new one alone";
pub const QUIET_REAP: &str =
    "once every owner is dead and nothing is held, one quiet reap leaves nothing of theirs";
pub const INTENT_VS_CREATOR: &str = "a dead owner's intent removes a live creator's object";
pub const CLOSE_VS_CREATOR: &str = "an owner's close removes another live creator's object";
pub const REGISTERED_VS_CREATOR: &str = "a dead owned registration removes a live creator's object";
pub const CREATED_VS_CLIENT: &str = "a dead owner's creation removes an object a client holds";

impl ProtocolModel {
    pub fn new(rules: Rules, names: u8, actors: &[Role]) -> Self {
        assert!(
            actors.len() < 8 && names <= 8,
            "bit masks hold 8 (the quiet reaper is one more)"
        );
        ProtocolModel {
            rules,
            names,
            actors: actors.to_vec(),
            failures: false,
            without: None,
        }
    }

    pub fn without(mut self, check: Check) -> Self {
        self.without = Some(check);
        self
    }

    pub fn with_failures(mut self) -> Self {
        self.failures = true;
        self
    }

    /// A process's role; past the configured ones, a reaper (the quiet
    /// reap's).
    fn role(&self, pid: Pid) -> Role {
        self.actors
            .get(usize::from(pid))
            .copied()
            .unwrap_or(Role::Reaper)
    }

    pub fn describe(&self, pid: Pid) -> String {
        match self.role(pid) {
            Role::Creator(n) => format!("P{pid} creator of /n{n}"),
            Role::Registrant(n) => format!("P{pid} owned registration of /n{n}"),
            Role::Client(n) => format!("P{pid} plain client of /n{n}"),
            Role::Reaper => format!("P{pid} reaper"),
            Role::Outsider(n) => format!("P{pid} outsider removing /n{n}"),
        }
    }

    /// A journal's lock cannot be taken: its owner lives, or a reaper has it.
    fn locked(state: &State, j: usize) -> bool {
        state.procs[j].alive || state.journals[j].is_some_and(|jr| jr.reaper.is_some())
    }

    /// Names the live journals list now, seen by `reader` (a journal it has
    /// locked itself is not live).
    fn live_names(state: &State, reader: Pid) -> u8 {
        let mut names = 0u8;
        for (j, journal) in state.journals.iter().enumerate() {
            let Some(journal) = journal else { continue };
            if !journal.linked || journal.reaper == Some(reader) || !Self::locked(state, j) {
                continue;
            }
            if let Some(n) = journal.slot.name() {
                names |= 1 << n;
            }
        }
        names
    }

    /// `shm_unlink(name)` by `by`: whatever object is under the name goes.
    /// Records a violation when another live process held it and `by` did
    /// not make it.
    fn unlink(state: &mut State, by: Pid, name: Name, remover: Option<Remover>) {
        let Some(obj) = state.names[usize::from(name)].take() else {
            return; // ENOENT
        };
        state.objects[usize::from(obj)].linked = false;
        let Some(remover) = remover else {
            // Outside the protocol: not counted, but owners between their
            // close-checked and close-unlinked are now in its window.
            for (p, proc) in state.procs.iter().enumerate() {
                if proc.alive && matches!(proc.pc, Pc::CloseChecked(_)) {
                    state.outside_late |= 1 << p;
                }
            }
            return;
        };
        if state.objects[usize::from(obj)].creator == Some(by) {
            return; // its own object: an owner may remove it
        }
        let late = match state.procs[usize::from(by)].pc {
            Pc::Reaping {
                at: Reap::Rechecked(_, _, late),
                ..
            } => late,
            _ => 0,
        };
        // The owner confirmed its object at close-checked, and an outsider
        // has removed a name since: the window the owner's check cannot
        // close.
        let outside = matches!(state.procs[usize::from(by)].pc, Pc::CloseChecked(own) if own != obj)
            && state.outside_late & (1 << by) != 0;
        let mut victim = None;
        let mut residual = false;
        for (p, proc) in state.procs.iter().enumerate() {
            if p == usize::from(by) || !proc.alive || proc.holds != Some(obj) {
                continue;
            }
            let is_client = matches!(proc.pc, Pc::ClientOpened | Pc::ClientHolding);
            if is_client && late & (1 << p) != 0 {
                residual = true;
            } else {
                victim.get_or_insert(if is_client {
                    Victim::Client
                } else {
                    Victim::Creator
                });
            }
        }
        match victim {
            Some(_) if outside => state.outside_window = true,
            Some(victim) => {
                state.violation = Some(Violation {
                    by: remover,
                    victim,
                })
            }
            None => state.residual |= residual,
        }
    }

    /// The reaper `pid` is done with its current journal: on to the next.
    fn next_journal(todo: u8, live: u8) -> Pc {
        Pc::Reaping {
            todo,
            live,
            at: Reap::Between,
        }
    }

    fn step_enabled(&self, state: &State, pid: Pid, step: Step) -> bool {
        self.apply(state, pid, step).is_some()
    }

    /// The state after `pid` takes `step`, or `None` when it cannot.
    fn apply(&self, state: &State, pid: Pid, step: Step) -> Option<State> {
        let p = usize::from(pid);
        let proc = state.procs[p];
        if !proc.alive || state.violation.is_some() {
            return None;
        }
        if step == Step::Crash
            && matches!(proc.pc, Pc::Start | Pc::Done)
            && !self.role(pid).journaling()
        {
            // Holds nothing, locks nothing, lists nothing: its death is the
            // same as its never taking another step, which the checker
            // explores anyway.
            return None;
        }
        let mut s = state.clone();
        if step == Step::Crash {
            s.procs[p].alive = false;
            s.procs[p].holds = None;
            if s.reaper_lock == Some(pid) {
                s.reaper_lock = None;
            }
            for journal in s.journals.iter_mut().flatten() {
                if journal.reaper == Some(pid) {
                    journal.reaper = None;
                }
            }
            return Some(s);
        }
        let new = self.rules != Rules::Old;
        let set_pc = |s: &mut State, pc| s.procs[p].pc = pc;
        match (self.role(pid), proc.pc, step) {
            // --- creator: create_region, then the owner's close ----------
            (Role::Creator(name), Pc::Start, Step::AfterRecord) => {
                let since = s.objects.len() as Obj;
                s.journals[p].as_mut()?.slot = Slot::Intent { name, since };
                set_pc(&mut s, Pc::Recorded);
            }
            (Role::Creator(name), Pc::Recorded, Step::AfterCreate) => {
                if s.names[usize::from(name)].is_some() {
                    // EEXIST: free the slot, fail.
                    s.journals[p].as_mut()?.slot = Slot::Free;
                    set_pc(&mut s, Pc::Done);
                } else {
                    let obj = s.objects.len() as Obj;
                    s.objects.push(Object {
                        name,
                        linked: true,
                        sized: false,
                        creator: Some(pid),
                    });
                    s.names[usize::from(name)] = Some(obj);
                    s.procs[p].holds = Some(obj);
                    set_pc(&mut s, Pc::Made(obj));
                }
            }
            (Role::Creator(name), Pc::Made(obj), Step::AfterIdentity) => {
                s.journals[p].as_mut()?.slot = Slot::Created { name, obj };
                set_pc(&mut s, Pc::Identified(obj));
            }
            (Role::Creator(_), Pc::Identified(obj), Step::AfterSize) => {
                s.objects[usize::from(obj)].sized = true;
                set_pc(&mut s, Pc::Sized(obj));
            }
            (Role::Creator(_), Pc::Sized(obj), Step::Mapped) => set_pc(&mut s, Pc::Owning(obj)),
            (
                Role::Creator(_),
                Pc::Made(obj) | Pc::Identified(obj) | Pc::Sized(obj),
                Step::Failed,
            ) if self.failures => {
                s.procs[p].holds = None;
                set_pc(&mut s, Pc::Failing(obj));
            }
            // The owner's unlink: unmap, then (new) open the name and
            // compare identities.
            (Role::Creator(name), Pc::Owning(obj) | Pc::Failing(obj), Step::CloseChecked)
                if new =>
            {
                s.procs[p].holds = None;
                match s.names[usize::from(name)] {
                    Some(found) if found == obj || self.without == Some(Check::CloseIdentity) => {
                        set_pc(&mut s, Pc::CloseChecked(obj))
                    }
                    other => {
                        // ENOENT: gone; another object: replaced, left alone.
                        if other.is_some() {
                            s.replaced += 1;
                        }
                        s.journals[p].as_mut()?.slot = Slot::Free;
                        set_pc(&mut s, Pc::Done);
                    }
                }
            }
            (Role::Creator(name), Pc::CloseChecked(_), Step::CloseUnlinked) if new => {
                Self::unlink(&mut s, pid, name, Some(Remover::Owner));
                set_pc(&mut s, Pc::CloseUnlinked);
            }
            // Old: unmap and unlink by name.
            (Role::Creator(name), Pc::Owning(_) | Pc::Failing(_), Step::CloseUnlinked) if !new => {
                s.procs[p].holds = None;
                Self::unlink(&mut s, pid, name, Some(Remover::Owner));
                set_pc(&mut s, Pc::CloseUnlinked);
            }
            (Role::Creator(_), Pc::CloseUnlinked, Step::SlotFreed) => {
                s.journals[p].as_mut()?.slot = Slot::Free;
                set_pc(&mut s, Pc::Done);
            }

            // --- owned registration --------------------------------------
            (Role::Registrant(name), Pc::Start, Step::Registered) => {
                s.journals[p].as_mut()?.slot = Slot::Registered { name };
                set_pc(&mut s, Pc::Registered);
            }

            // --- plain client ----------------------------------------------
            (Role::Client(name), Pc::Start, Step::ClientOpened) => {
                let obj = match s.names[usize::from(name)] {
                    Some(obj) => obj,
                    None => {
                        let obj = s.objects.len() as Obj;
                        s.objects.push(Object {
                            name,
                            linked: true,
                            sized: false,
                            creator: None,
                        });
                        s.names[usize::from(name)] = Some(obj);
                        obj
                    }
                };
                s.procs[p].holds = Some(obj);
                // Opened after a reaper's in-use check: the residual window.
                for other in s.procs.iter_mut() {
                    if let Pc::Reaping {
                        at: Reap::Rechecked(_, _, late),
                        ..
                    } = &mut other.pc
                    {
                        *late |= 1 << pid;
                    }
                }
                set_pc(&mut s, Pc::ClientOpened);
            }
            (Role::Client(_), Pc::ClientOpened, Step::ClientSized) => {
                let obj = proc.holds?;
                s.objects[usize::from(obj)].sized = true;
                set_pc(&mut s, Pc::ClientHolding);
            }
            (Role::Client(_), Pc::ClientHolding, Step::ClientClosed) => {
                s.procs[p].holds = None;
                set_pc(&mut s, Pc::Done);
            }

            // --- outsider --------------------------------------------------
            (Role::Outsider(name), Pc::Start, Step::OutsiderUnlinked) => {
                Self::unlink(&mut s, pid, name, None);
                set_pc(&mut s, Pc::Done);
            }

            // --- reaper ----------------------------------------------------
            (Role::Reaper, Pc::Start, Step::ReaperSerialised) if new => {
                if self.without != Some(Check::Serialisation) {
                    if s.reaper_lock.is_some() {
                        return None; // waits for the other reaper
                    }
                    s.reaper_lock = Some(pid);
                }
                set_pc(&mut s, Pc::Serialised);
            }
            (Role::Reaper, Pc::Start, Step::ReaperSurveyed) if !new => {
                let pc = self.survey(&s, pid);
                set_pc(&mut s, pc);
            }
            (Role::Reaper, Pc::Serialised, Step::ReaperSurveyed) => {
                let pc = self.survey(&s, pid);
                set_pc(&mut s, pc);
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Between,
                },
                Step::ReaperOpened,
            ) if todo != 0 => {
                let j = todo.trailing_zeros() as Pid;
                let todo = todo & !(1 << j);
                let linked = s.journals[usize::from(j)].is_some_and(|jr| jr.linked);
                let at = if linked {
                    Reap::Opened(j)
                } else {
                    Reap::Between // removed by another reaper: skipped
                };
                set_pc(&mut s, Pc::Reaping { todo, live, at });
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Opened(j),
                },
                Step::ReaperLocked,
            ) => {
                let ju = usize::from(j);
                if Self::locked(&s, ju) {
                    set_pc(&mut s, Self::next_journal(todo, live)); // another reaper has it
                } else {
                    let journal = s.journals[ju].as_mut()?;
                    journal.reaper = Some(pid);
                    let at = if !journal.linked {
                        // Removed since it was opened: skipped.
                        journal.reaper = None;
                        Reap::Between
                    } else if journal.slot == Slot::Free {
                        Reap::Finished(j, false)
                    } else {
                        Reap::Locked(j)
                    };
                    set_pc(&mut s, Pc::Reaping { todo, live, at });
                }
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Locked(j),
                },
                Step::ReaperChecked,
            ) => {
                let slot = s.journals[usize::from(j)]?.slot;
                let name = slot.name()?;
                let at = if live & (1 << name) != 0 {
                    // a. Listed by a live journal at the survey: deferred.
                    Reap::Finished(j, true)
                } else {
                    match s.names[usize::from(name)] {
                        None => Reap::Finished(j, false), // gone
                        Some(found) => {
                            if self.judge(&s, slot, found) {
                                Reap::Checked(j, found)
                            } else {
                                Reap::Finished(j, false) // left alone
                            }
                        }
                    }
                };
                set_pc(&mut s, Pc::Reaping { todo, live, at });
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Checked(j, obj),
                },
                Step::ReRead,
            ) if new => {
                // d. Listed by a live journal now: deferred.
                let name = s.journals[usize::from(j)]?.slot.name()?;
                let listed = Self::live_names(&s, pid) & (1 << name) != 0;
                let at = if listed && self.without != Some(Check::ReRead) {
                    Reap::Finished(j, true)
                } else {
                    Reap::ReRead(j, obj)
                };
                set_pc(&mut s, Pc::Reaping { todo, live, at });
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::ReRead(j, obj),
                },
                Step::ReaperRechecked,
            ) => {
                let name = s.journals[usize::from(j)]?.slot.name()?;
                let replaced = self.rules == Rules::New && s.names[usize::from(name)] != Some(obj);
                let in_use = self.without != Some(Check::InUse)
                    && s.procs
                        .iter()
                        .enumerate()
                        .any(|(q, other)| q != p && other.alive && other.holds == Some(obj));
                let at = if replaced {
                    // The object found at reaper-checked is gone: whatever
                    // the record named is no longer under the name.
                    Reap::Finished(j, false)
                } else if in_use {
                    Reap::Finished(j, true)
                } else {
                    Reap::Rechecked(j, obj, 0)
                };
                set_pc(&mut s, Pc::Reaping { todo, live, at });
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Checked(j, _) | Reap::Rechecked(j, _, _),
                },
                Step::Unlink,
            ) if matches!(
                proc.pc,
                Pc::Reaping {
                    at: Reap::Rechecked(..),
                    ..
                }
            ) || !new =>
            {
                let slot = s.journals[usize::from(j)]?.slot;
                let name = slot.name()?;
                Self::unlink(&mut s, pid, name, Some(Remover::Reaper(kind(slot)?)));
                set_pc(
                    &mut s,
                    Pc::Reaping {
                        todo,
                        live,
                        at: Reap::Finished(j, false),
                    },
                );
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo,
                    live,
                    at: Reap::Finished(j, keep),
                },
                Step::JournalDone,
            ) => {
                let journal = s.journals[usize::from(j)].as_mut()?;
                if !keep {
                    journal.linked = false; // resolved: the journal is removed
                }
                journal.reaper = None;
                set_pc(&mut s, Self::next_journal(todo, live));
            }
            (
                Role::Reaper,
                Pc::Reaping {
                    todo: 0,
                    at: Reap::Between,
                    ..
                },
                Step::ReaperReleased,
            ) if new => {
                s.reaper_lock = None;
                set_pc(&mut s, Pc::Done);
            }
            _ => return None,
        }
        if !new
            && matches!(
                s.procs[p].pc,
                Pc::Reaping {
                    todo: 0,
                    at: Reap::Between,
                    ..
                }
            )
        {
            // The old reaper had no lock of its own to release.
            set_pc(&mut s, Pc::Done);
        }
        Some(s)
    }

    /// `reaper-surveyed`: the dead journals (lock takeable) and the names
    /// the live ones list.
    fn survey(&self, s: &State, pid: Pid) -> Pc {
        let mut todo = 0u8;
        for (j, journal) in s.journals.iter().enumerate() {
            if journal.is_some_and(|jr| jr.linked) && !Self::locked(s, j) {
                todo |= 1 << j;
            }
        }
        Pc::Reaping {
            todo,
            live: Self::live_names(s, pid),
            at: Reap::Between,
        }
    }

    /// Whether the record `slot` may go on towards an unlink of `found`:
    /// under the old rules this decides; under the new ones only a creation
    /// record can refuse here (the re-read and the in-use check decide the
    /// rest).
    fn judge(&self, s: &State, slot: Slot, found: Obj) -> bool {
        let object = s.objects[usize::from(found)];
        match (self.rules, slot) {
            (_, Slot::Created { obj, .. }) => obj == found,
            (Rules::Old, Slot::Intent { since, .. }) => !object.sized && found >= since,
            (Rules::Old, Slot::Registered { .. }) => true,
            (_, Slot::Free) => false,
            (_, _) => true,
        }
    }

    /// The steps a process in `pc` may try (whether it can is up to
    /// [`ProtocolModel::apply`]), without the crash it can always take.
    fn candidates(role: Role, pc: Pc) -> &'static [Step] {
        match (role, pc) {
            (Role::Creator(_), Pc::Start) => &[Step::AfterRecord],
            (Role::Creator(_), Pc::Recorded) => &[Step::AfterCreate],
            (Role::Creator(_), Pc::Made(_)) => &[Step::AfterIdentity, Step::Failed],
            (Role::Creator(_), Pc::Identified(_)) => &[Step::AfterSize, Step::Failed],
            (Role::Creator(_), Pc::Sized(_)) => &[Step::Mapped, Step::Failed],
            (Role::Creator(_), Pc::Owning(_) | Pc::Failing(_)) => {
                &[Step::CloseChecked, Step::CloseUnlinked]
            }
            (Role::Creator(_), Pc::CloseChecked(_)) => &[Step::CloseUnlinked],
            (Role::Creator(_), Pc::CloseUnlinked) => &[Step::SlotFreed],
            (Role::Registrant(_), Pc::Start) => &[Step::Registered],
            (Role::Client(_), Pc::Start) => &[Step::ClientOpened],
            (Role::Client(_), Pc::ClientOpened) => &[Step::ClientSized],
            (Role::Client(_), Pc::ClientHolding) => &[Step::ClientClosed],
            (Role::Outsider(_), Pc::Start) => &[Step::OutsiderUnlinked],
            (Role::Reaper, Pc::Start) => &[Step::ReaperSerialised, Step::ReaperSurveyed],
            (Role::Reaper, Pc::Serialised) => &[Step::ReaperSurveyed],
            (Role::Reaper, Pc::Reaping { .. }) => &[
                Step::ReaperOpened,
                Step::ReaperLocked,
                Step::ReaperChecked,
                Step::ReRead,
                Step::ReaperRechecked,
                Step::Unlink,
                Step::JournalDone,
                Step::ReaperReleased,
            ],
            _ => &[],
        }
    }

    /// The steps `pid` can take now.
    fn enabled<'a>(&'a self, state: &'a State, pid: Pid) -> impl Iterator<Item = Step> + 'a {
        let pc = state.procs[usize::from(pid)].pc;
        Self::candidates(self.role(pid), pc)
            .iter()
            .copied()
            .chain([Step::Crash])
            .filter(move |&step| self.step_enabled(state, pid, step))
    }

    /// Whether the processes of the protocol have all stopped: every
    /// journaling process is dead, no process holds an object, no reaper is
    /// part-way (a plain client, reaper or outsider that has not started, or
    /// has finished, may still live).
    pub fn quiet(&self, state: &State) -> bool {
        state.procs.iter().enumerate().all(|(p, proc)| {
            !proc.alive
                || match self.role(p as Pid) {
                    Role::Creator(_) | Role::Registrant(_) => false,
                    Role::Client(_) => proc.holds.is_none(),
                    Role::Reaper => matches!(proc.pc, Pc::Start | Pc::Done),
                    Role::Outsider(_) => true,
                }
        })
    }

    /// One reap by a fresh reaper with nothing else running, to its end.
    pub fn quiet_reap(&self, state: &State) -> State {
        let mut s = state.clone();
        let pid = s.procs.len() as Pid;
        s.procs.push(Proc {
            alive: true,
            pc: Pc::Start,
            holds: None,
        });
        s.journals.push(None);
        loop {
            let next = self
                .enabled(&s, pid)
                .find(|&step| step != Step::Crash)
                .and_then(|step| self.apply(&s, pid, step));
            match next {
                Some(next) => s = next,
                None => return s,
            }
        }
    }

    /// What a quiet reap must leave: no object a journaling creator made
    /// still under its name, and no journal.
    pub fn nothing_left(state: &State) -> bool {
        state
            .objects
            .iter()
            .all(|o| !o.linked || o.creator.is_none())
            && state.journals.iter().flatten().all(|j| !j.linked)
    }

    /// The actions of a path, one line each, with the processes named.
    pub fn trace(&self, actions: &[Action]) -> String {
        let mut out = String::new();
        for (i, action) in actions.iter().enumerate() {
            out.push_str(&format!(
                "{:3}. {} ({})\n",
                i + 1,
                action.step.name(),
                self.describe(action.pid)
            ));
        }
        out
    }

    /// A trace on one line: `P0 after-record, P2 reaper-surveyed, ...`.
    pub fn short_trace(actions: &[Action]) -> String {
        actions
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn violation_is(state: &State, by: Remover, victim: Victim) -> bool {
    state.violation == Some(Violation { by, victim })
}

impl Model for ProtocolModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let actors = self.actors.len();
        vec![State {
            names: vec![None; usize::from(self.names)],
            objects: Vec::new(),
            procs: vec![
                Proc {
                    alive: true,
                    pc: Pc::Start,
                    holds: None,
                };
                actors
            ],
            journals: self
                .actors
                .iter()
                .map(|role| {
                    role.journaling().then_some(Journal {
                        linked: true,
                        slot: Slot::Free,
                        reaper: None,
                    })
                })
                .collect(),
            reaper_lock: None,
            violation: None,
            residual: false,
            outside_window: false,
            outside_late: 0,
            replaced: 0,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        for pid in 0..self.actors.len() as Pid {
            actions.extend(self.enabled(state, pid).map(|step| Action { pid, step }));
        }
    }

    fn next_state(&self, state: &State, action: Action) -> Option<State> {
        self.apply(state, action.pid, action.step)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always(SAFETY, |_, s: &State| s.violation.is_none()),
            Property::sometimes(RESIDUAL, |_, s: &State| s.residual),
            Property::sometimes(OUTSIDE_WINDOW, |_, s: &State| s.outside_window),
            Property::sometimes(REPLACED, |_, s: &State| s.replaced > 0),
            Property::always(QUIET_REAP, |m: &Self, s: &State| {
                !m.quiet(s) || s.violation.is_some() || Self::nothing_left(&m.quiet_reap(s))
            }),
            Property::always(INTENT_VS_CREATOR, |_, s: &State| {
                !violation_is(s, Remover::Reaper(RecordKind::Intent), Victim::Creator)
            }),
            Property::always(CLOSE_VS_CREATOR, |_, s: &State| {
                !violation_is(s, Remover::Owner, Victim::Creator)
            }),
            Property::always(REGISTERED_VS_CREATOR, |_, s: &State| {
                !violation_is(s, Remover::Reaper(RecordKind::Registered), Victim::Creator)
            }),
            Property::always(CREATED_VS_CLIENT, |_, s: &State| {
                !violation_is(s, Remover::Reaper(RecordKind::Created), Victim::Client)
            }),
        ]
    }
}

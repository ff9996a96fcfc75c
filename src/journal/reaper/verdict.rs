//! The rules for one record: what the reaper decides from the object now
//! under the record's name, at steps b and c ([`check`], [`judge`]) and in
//! the last look before the unlink of step f ([`look_again`]).

use crate::journal::{Record, RecordKind};
use crate::os::{Identity, OpenFlags, ShmBackend};
use crate::status::ErrnoText;
use std::ffi::CString;
use std::os::fd::AsFd;

/// What the reaper decides for one record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The object is the one recorded: unlink it.
    Unlink,
    /// Gone already: drop the record.
    Gone,
    /// Not the object recorded, or not ours: drop the record, unlink nothing.
    LeaveAlone(&'static str),
    /// Cannot tell now (a failed call that may pass): keep the record.
    Retry(String),
}

/// What the reaper compares a record with.
pub(crate) struct Context {
    /// The reaper's effective uid.
    pub euid: u32,
    /// The page size objects are rounded to (macOS).
    pub page: u64,
}

/// Judge a record against the identity of the object now under its name.
/// Pure, so that every rule is tested on its own.
pub(crate) fn judge(record: &Record, found: &Identity, ctx: &Context) -> Verdict {
    if found.uid != ctx.euid {
        return Verdict::LeaveAlone("the object belongs to another user");
    }
    match record.kind {
        RecordKind::Created { device, inode, uid } => {
            if uid != found.uid {
                return Verdict::LeaveAlone("the object's owner is not the one recorded");
            }
            if inode != 0 || found.inode != 0 {
                // Linux: device and inode name the very object created, and
                // its size is exact: a client that reopened it by name and
                // sized it anew made it its own.
                if (device, inode) != (found.device, found.inode) {
                    return Verdict::LeaveAlone(
                        "another object now has the name (device/inode differ)",
                    );
                }
                if found.size != 0 && found.size != record.size {
                    return Verdict::LeaveAlone("the object was sized anew after its owner died");
                }
            } else {
                // macOS: no inode; the size the owner gave it, rounded up to
                // a page, is what is left to compare.
                let rounded = record
                    .size
                    .div_ceil(ctx.page.max(1))
                    .saturating_mul(ctx.page.max(1));
                if found.size != rounded {
                    return Verdict::LeaveAlone("another object now has the name (size differs)");
                }
            }
            Verdict::Unlink
        }
        RecordKind::Intent => {
            // The owner died between the record and recording the identity:
            // its object, if it made one, was never sized.
            if found.size != 0 {
                return Verdict::LeaveAlone(
                    "the object was sized, so it is not the one the owner was creating",
                );
            }
            match found.changed_ns {
                Some(changed) if changed < record.since_ns.saturating_sub(1_000_000_000) => {
                    Verdict::LeaveAlone("the object is older than the record")
                }
                _ => Verdict::Unlink,
            }
        }
        // A registration costs no system call, so it carries no identity:
        // the owner's uid and the cross-checks are all there is. (The
        // status change time cannot tell either: every store through a
        // mapping moves it.)
        RecordKind::Registered => Verdict::Unlink,
        RecordKind::Legacy => match found.changed_ns {
            // A text record has whole seconds. The object was made right
            // after its record, and its status change time only moves on.
            Some(changed) if changed < record.since_ns.saturating_sub(1_000_000_000) => {
                Verdict::LeaveAlone("the object is older than its record")
            }
            _ => Verdict::Unlink,
        },
    }
}

/// Steps b and c: the identity of the object under the record's name, if
/// the judge takes it for the recorded object; otherwise the verdict.
pub(super) fn check(
    record: &Record,
    backend: &dyn ShmBackend,
    ctx: &Context,
) -> std::result::Result<Identity, Verdict> {
    let Ok(name) = CString::new(record.name.clone()) else {
        return Err(Verdict::LeaveAlone("the name holds a NUL byte"));
    };
    let fd = match backend.open(&name, OpenFlags::EXISTING) {
        Ok(fd) => fd,
        Err(libc::ENOENT) => return Err(Verdict::Gone),
        Err(libc::EACCES | libc::EPERM) => {
            return Err(Verdict::LeaveAlone("the object belongs to another user"))
        }
        // A name no object can have.
        Err(libc::EINVAL | libc::ENAMETOOLONG) => {
            return Err(Verdict::LeaveAlone("no object can have this name"))
        }
        Err(errno) => return Err(Verdict::Retry(format!("shm_open: {}", ErrnoText(errno)))),
    };
    let found = backend
        .identity(fd.as_fd())
        .map_err(|errno| Verdict::Retry(format!("fstat: {}", ErrnoText(errno))))?;
    #[cfg(feature = "crash-points")]
    crate::os::crash_point::hit("reaper-checked");
    match judge(record, &found, ctx) {
        Verdict::Unlink => Ok(found),
        other => Err(other),
    }
}

/// The last look before step f: the object under the record's name must
/// still be the one found at step b. The re-read of the live journals (d)
/// shows that no live owner will unlink that object only while it is still
/// under the name: an owner frees its record after its unlink, so an owner
/// that unlinked it between b and d is not listed at d, and a creator that
/// records and creates the name after d holds the object now under it. On
/// Linux one `lstat` ([`ShmBackend::identity_by_name`]). `None`: the same
/// object, go on; otherwise the verdict: gone (the record is resolved),
/// another object (left alone, the record dropped: what the record named
/// is no longer under the name), or a failed look (kept for the next reap).
pub(super) fn look_again(
    record: &Record,
    backend: &dyn ShmBackend,
    checked: &Identity,
) -> Option<Verdict> {
    let Ok(name) = CString::new(record.name.clone()) else {
        return Some(Verdict::LeaveAlone("the name holds a NUL byte"));
    };
    match backend.identity_by_name(&name) {
        Ok(found) if checked.same_object(&found) => None,
        Ok(_) => Some(Verdict::LeaveAlone(
            "another object took the name after it was checked",
        )),
        Err(libc::ENOENT) => Some(Verdict::Gone),
        Err(libc::EACCES | libc::EPERM) => Some(Verdict::LeaveAlone(
            "another user's object took the name after it was checked",
        )),
        Err(errno) => Some(Verdict::Retry(format!(
            "looking at the name again: {}",
            ErrnoText(errno)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;

    fn ctx() -> Context {
        Context {
            euid: ME,
            page: 16384,
        }
    }

    fn record(kind: RecordKind, size: u64, since_ns: i64) -> Record {
        Record {
            name: b"/r".to_vec(),
            size,
            since: since_ns / 1_000_000_000,
            since_ns,
            kind,
            seq: 1,
            slot: Some(0),
        }
    }

    fn object(device: u64, inode: u64, size: u64, changed_ns: Option<i64>) -> Identity {
        Identity {
            device,
            inode,
            uid: ME,
            size,
            changed_ns,
        }
    }

    const CREATED: RecordKind = RecordKind::Created {
        device: 5,
        inode: 77,
        uid: ME,
    };

    #[test]
    fn a_created_record_unlinks_only_its_own_inode() {
        let r = record(CREATED, 4096, 0);
        assert_eq!(
            judge(&r, &object(5, 77, 4096, Some(1)), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(5, 78, 4096, Some(1)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
        assert!(matches!(
            judge(&r, &object(6, 77, 4096, Some(1)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn a_created_object_sized_anew_is_left_alone() {
        let r = record(CREATED, 4096, 0);
        assert_eq!(
            judge(&r, &object(5, 77, 0, None), &ctx()),
            Verdict::Unlink,
            "never sized"
        );
        assert!(matches!(
            judge(&r, &object(5, 77, 8192, None), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn another_users_object_is_never_unlinked() {
        let r = record(CREATED, 4096, 0);
        let theirs = Identity {
            uid: ME + 1,
            ..object(5, 77, 4096, None)
        };
        assert!(matches!(judge(&r, &theirs, &ctx()), Verdict::LeaveAlone(_)));
        let legacy = record(RecordKind::Legacy, 4096, 0);
        assert!(matches!(
            judge(&legacy, &theirs, &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn without_an_inode_the_rounded_size_decides() {
        let r = record(
            RecordKind::Created {
                device: 0,
                inode: 0,
                uid: ME,
            },
            100,
            0,
        );
        assert_eq!(
            judge(&r, &object(0, 0, 16384, None), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(0, 0, 32768, None), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn an_intent_takes_only_an_unsized_object_no_older_than_itself() {
        let t = 50_000_000_000;
        let r = record(RecordKind::Intent, 4096, t);
        assert_eq!(
            judge(&r, &object(1, 2, 0, Some(t + 5)), &ctx()),
            Verdict::Unlink
        );
        assert!(matches!(
            judge(&r, &object(1, 2, 4096, Some(t + 5)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
        assert!(matches!(
            judge(&r, &object(1, 2, 0, Some(t - 5_000_000_000)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }

    #[test]
    fn a_registration_takes_its_users_object_even_written_since() {
        let t = 50_000_000_000;
        let r = record(RecordKind::Registered, 0, t);
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(t + 1)), &ctx()),
            Verdict::Unlink
        );
    }

    #[test]
    fn a_text_record_takes_only_an_object_no_older_than_itself() {
        let r = record(RecordKind::Legacy, 4096, 90_000_000_000);
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(101_000_000_000)), &ctx()),
            Verdict::Unlink
        );
        // Written since: the time moves on, the object is still the owner's.
        assert_eq!(
            judge(&r, &object(1, 2, 4096, Some(200_000_000_000)), &ctx()),
            Verdict::Unlink
        );
        // Older than its record: a record planted to name an existing object.
        assert!(matches!(
            judge(&r, &object(1, 2, 4096, Some(80_000_000_000)), &ctx()),
            Verdict::LeaveAlone(_)
        ));
    }
}

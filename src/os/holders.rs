//! Whether a live process holds a shared-memory object: the in-use check
//! the reaper (and an owner unlinking a registration that recorded no
//! identity) makes right before `shm_unlink`.
//!
//! One scan answers for a whole batch of objects: the cost is a walk over
//! the processes of this user, not one walk per object.
//!
//! * Linux: every process of the caller's effective uid except the caller
//!   itself; `/proc/<pid>/fd/*` is stat'ed through the link (device and
//!   inode of what the descriptor refers to) and `/proc/<pid>/maps` lists
//!   each file mapping's device (`major:minor`, hex) and inode. A mapping
//!   whose descriptor was closed is still seen there. This is what
//!   `fuser` does.
//! * macOS: `proc_listpids(PROC_UID_ONLY)`, then for each process
//!   `proc_pidinfo(PROC_PIDLISTFDS)` and, for each descriptor of type
//!   `PROX_FDTYPE_PSHM`, `proc_pidfdinfo(PROC_PIDFDPSHMINFO)`, which names
//!   the object (layouts from XNU's `bsd/sys/proc_info.h`). Objects are
//!   matched by name. A process that mapped an object and closed its
//!   descriptor holds no descriptor to list: XNU offers no way to see that
//!   mapping, so it is missed there.
//! * Elsewhere: no way to tell, so the answer is always "cannot tell", and
//!   the caller keeps what it would have removed.
//!
//! Any failure to look at a process of the same user (`EACCES`, `EMFILE`,
//! a short read) fails the whole scan: the caller is then in doubt and
//! removes nothing. A process that exits during the scan is skipped. One
//! exception on Linux: a process the kernel refuses to show because it
//! holds capabilities the caller lacks (its `CapPrm` is not within the
//! caller's `CapEff`; typically a container's supervisor when everything
//! runs as root) is more privileged than the caller, not a peer, and is
//! skipped; an object it holds is not seen.

use super::Identity;

/// An object to look for: the name it was found under and the identity
/// `fstat` gave for it.
#[derive(Clone, Debug)]
pub(crate) struct Wanted<'a> {
    /// The system name.
    pub(crate) name: &'a [u8],
    /// Its identity (device and inode are what Linux compares; macOS has
    /// neither and matches names).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) identity: Identity,
}

/// For each object of `wanted`, whether a live process of this user other
/// than this one has it open or mapped. `Err` says why no answer could be
/// had; then nothing must be removed.
pub(crate) fn held_by_others(wanted: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    scan(wanted)
}

#[cfg(target_os = "linux")]
fn scan(wanted: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
    linux::scan(wanted)
}

#[cfg(target_os = "macos")]
fn scan(wanted: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
    macos::scan(wanted)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn scan(_: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
    Err("this system offers no way to tell which processes hold an object".to_owned())
}

#[cfg(target_os = "linux")]
mod linux {
    use super::Wanted;
    use std::collections::HashMap;
    use std::io::{ErrorKind, Read};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;

    /// (device, inode) → the indices of `wanted` with that identity.
    type Index = HashMap<(u64, u64), Vec<usize>>;

    /// A process that went away while it was looked at: skipped.
    fn gone(e: &std::io::Error) -> bool {
        e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
    }

    /// The capability mask `field` (`CapPrm`, `CapEff`) of
    /// `/proc/<pid>/status`, which anyone may read.
    fn capabilities(pid: &str, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        u64::from_str_radix(line[field.len()..].trim_start_matches(':').trim(), 16).ok()
    }

    /// Whether the kernel refused to show `dir` because that process holds
    /// capabilities this one lacks (a supervisor of a container whose
    /// processes all run as root, say): a process more privileged than the
    /// reaper, not one of its peers, skipped. Any other refusal is a
    /// failed scan.
    fn refused_as_more_privileged(dir: &std::path::Path, e: &std::io::Error) -> bool {
        if !matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
            return false;
        }
        let Some(pid) = dir.file_name().and_then(|p| p.to_str()) else {
            return false;
        };
        match (capabilities(pid, "CapPrm"), capabilities("self", "CapEff")) {
            (Some(theirs), Some(mine)) => theirs & !mine != 0,
            _ => false,
        }
    }

    pub(super) fn scan(wanted: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
        let mut index: Index = HashMap::new();
        for (i, w) in wanted.iter().enumerate() {
            if w.identity.inode == 0 {
                return Err(format!(
                    "'{}' has no inode to look for",
                    w.name.escape_ascii()
                ));
            }
            index
                .entry((w.identity.device, w.identity.inode))
                .or_default()
                .push(i);
        }
        // (major, minor, inode), as /proc/<pid>/maps writes them.
        let by_maps: HashMap<(u64, u64, u64), Vec<usize>> = index
            .iter()
            .map(|(&(dev, ino), v)| {
                let dev = dev as libc::dev_t;
                (
                    (nix::sys::stat::major(dev), nix::sys::stat::minor(dev), ino),
                    v.clone(),
                )
            })
            .collect();
        let mut held = vec![false; wanted.len()];
        let me = std::process::id();
        let euid = nix::unistd::geteuid().as_raw();
        let procs = std::fs::read_dir("/proc").map_err(|e| format!("cannot list /proc: {e}"))?;
        let mut maps = Vec::with_capacity(64 * 1024);
        for entry in procs {
            let entry = entry.map_err(|e| format!("cannot list /proc: {e}"))?;
            let Some(pid) = std::str::from_utf8(entry.file_name().as_bytes())
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if pid == me {
                continue;
            }
            let dir = entry.path();
            let owner = match std::fs::metadata(&dir) {
                Ok(m) => m.uid(),
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(format!("cannot stat {}: {e}", dir.display())),
            };
            if owner != euid {
                continue;
            }
            scan_fds(&dir, &index, &mut held)?;
            scan_maps(&dir, &by_maps, &mut held, &mut maps)?;
        }
        Ok(held)
    }

    fn scan_fds(dir: &std::path::Path, index: &Index, held: &mut [bool]) -> Result<(), String> {
        let fd_dir = dir.join("fd");
        let fds = match std::fs::read_dir(&fd_dir) {
            Ok(fds) => fds,
            Err(e) if gone(&e) || refused_as_more_privileged(dir, &e) => return Ok(()),
            Err(e) => return Err(format!("cannot list {}: {e}", fd_dir.display())),
        };
        for fd in fds {
            let fd = match fd {
                Ok(fd) => fd,
                Err(e) if gone(&e) => return Ok(()),
                Err(e) => return Err(format!("cannot list {}: {e}", fd_dir.display())),
            };
            let path = fd.path();
            // Sockets, pipes and anonymous inodes read as `type:[n]`; only a
            // path can be a shared-memory object, and only a path is worth
            // the stat through the link.
            match std::fs::read_link(&path) {
                Ok(target) if target.as_os_str().as_bytes().starts_with(b"/") => {}
                Ok(_) => continue,
                Err(e) if gone(&e) => continue,
                Err(e) if refused_as_more_privileged(dir, &e) => return Ok(()),
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            }
            match std::fs::metadata(&path) {
                Ok(m) => {
                    if let Some(indices) = index.get(&(m.dev(), m.ino())) {
                        for &i in indices {
                            held[i] = true;
                        }
                    }
                }
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(format!("cannot stat {}: {e}", path.display())),
            }
        }
        Ok(())
    }

    fn scan_maps(
        dir: &std::path::Path,
        by_maps: &HashMap<(u64, u64, u64), Vec<usize>>,
        held: &mut [bool],
        buf: &mut Vec<u8>,
    ) -> Result<(), String> {
        let path = dir.join("maps");
        buf.clear();
        match std::fs::File::open(&path).and_then(|mut f| f.read_to_end(buf)) {
            Ok(_) => {}
            Err(e) if gone(&e) || refused_as_more_privileged(dir, &e) => return Ok(()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        for line in buf.split(|&b| b == b'\n') {
            if let Some(key) = parse_maps_line(line) {
                if let Some(indices) = by_maps.get(&key) {
                    for &i in indices {
                        held[i] = true;
                    }
                }
            }
        }
        Ok(())
    }

    /// `(major, minor, inode)` of one line of `/proc/<pid>/maps`
    /// (`start-end perms offset major:minor inode [path]`); `None` for an
    /// anonymous mapping (inode 0) or a line that does not parse.
    pub(super) fn parse_maps_line(line: &[u8]) -> Option<(u64, u64, u64)> {
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let dev = fields.nth(3)?;
        let inode: u64 = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
        if inode == 0 {
            return None;
        }
        let colon = dev.iter().position(|&b| b == b':')?;
        let hex = |s: &[u8]| u64::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok();
        Some((hex(&dev[..colon])?, hex(&dev[colon + 1..])?, inode))
    }
}

#[cfg(target_os = "macos")]
mod macos {
    //! libproc, with the layouts of XNU's `bsd/sys/proc_info.h`.
    use super::Wanted;
    use std::ffi::{c_int, c_void};

    /// `proc_listpids` type: processes whose effective uid is `typeinfo`.
    const PROC_UID_ONLY: u32 = 4;
    /// `proc_pidinfo` flavour: the process's descriptors, as `proc_fdinfo`s.
    const PROC_PIDLISTFDS: c_int = 1;
    /// `proc_fdinfo.proc_fdtype` of a POSIX shared-memory object.
    const PROX_FDTYPE_PSHM: u32 = 3;
    /// `proc_pidfdinfo` flavour: a shared-memory descriptor's `pshm_fdinfo`.
    const PROC_PIDFDPSHMINFO: c_int = 5;
    /// `MAXPATHLEN`.
    const MAXPATHLEN: usize = 1024;

    /// `struct proc_fdinfo`.
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct ProcFdInfo {
        proc_fd: i32,
        proc_fdtype: u32,
    }

    /// `struct proc_fileinfo`.
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct ProcFileInfo {
        fi_openflags: u32,
        fi_status: u32,
        fi_offset: i64,
        fi_type: i32,
        fi_guardflags: u32,
    }

    /// `struct pshm_info`.
    #[repr(C)]
    struct PshmInfo {
        pshm_stat: libc::vinfo_stat,
        pshm_mappaddr: u64,
        pshm_name: [u8; MAXPATHLEN],
    }

    /// `struct pshm_fdinfo`.
    #[repr(C)]
    struct PshmFdInfo {
        pfi: ProcFileInfo,
        pshminfo: PshmInfo,
    }

    fn errno() -> i32 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    /// The pids of this user's processes.
    fn pids(euid: u32) -> Result<Vec<i32>, String> {
        // SAFETY: a NULL buffer asks only for the size needed.
        let bytes = unsafe { libc::proc_listpids(PROC_UID_ONLY, euid, std::ptr::null_mut(), 0) };
        if bytes <= 0 {
            return Err(format!("proc_listpids: errno {}", errno()));
        }
        // Room for processes started since.
        let mut pids = vec![0i32; bytes as usize / 4 + 64];
        let size = c_int::try_from(pids.len() * 4).map_err(|_| "too many processes")?;
        // SAFETY: the buffer is writable for `size` bytes.
        let bytes = unsafe {
            libc::proc_listpids(
                PROC_UID_ONLY,
                euid,
                pids.as_mut_ptr().cast::<c_void>(),
                size,
            )
        };
        if bytes <= 0 {
            return Err(format!("proc_listpids: errno {}", errno()));
        }
        pids.truncate(bytes as usize / 4);
        pids.retain(|&p| p > 0);
        Ok(pids)
    }

    /// The descriptors of `pid`; `None` when it exited meanwhile.
    fn fds(pid: i32) -> Result<Option<Vec<ProcFdInfo>>, String> {
        let one = std::mem::size_of::<ProcFdInfo>();
        // SAFETY: a NULL buffer asks only for the size needed.
        let bytes = unsafe { libc::proc_pidinfo(pid, PROC_PIDLISTFDS, 0, std::ptr::null_mut(), 0) };
        if bytes <= 0 {
            return match errno() {
                libc::ESRCH => Ok(None),
                e => Err(format!("proc_pidinfo({pid}, PROC_PIDLISTFDS): errno {e}")),
            };
        }
        let mut fds = vec![ProcFdInfo::default(); bytes as usize / one + 16];
        let size = c_int::try_from(fds.len() * one).map_err(|_| "too many descriptors")?;
        // SAFETY: the buffer is writable for `size` bytes.
        let bytes = unsafe {
            libc::proc_pidinfo(
                pid,
                PROC_PIDLISTFDS,
                0,
                fds.as_mut_ptr().cast::<c_void>(),
                size,
            )
        };
        if bytes <= 0 {
            return match errno() {
                libc::ESRCH => Ok(None),
                e => Err(format!("proc_pidinfo({pid}, PROC_PIDLISTFDS): errno {e}")),
            };
        }
        fds.truncate(bytes as usize / one);
        Ok(Some(fds))
    }

    /// The name of the shared-memory object behind `fd` of `pid`; `None`
    /// when the process or descriptor went away meanwhile.
    fn pshm_name(pid: i32, fd: i32) -> Result<Option<Vec<u8>>, String> {
        let mut info = std::mem::MaybeUninit::<PshmFdInfo>::zeroed();
        let size = std::mem::size_of::<PshmFdInfo>();
        // SAFETY: `info` is writable for `size` bytes (its own size).
        let bytes = unsafe {
            libc::proc_pidfdinfo(
                pid,
                fd,
                PROC_PIDFDPSHMINFO,
                info.as_mut_ptr().cast::<c_void>(),
                size as c_int,
            )
        };
        if bytes <= 0 {
            return match errno() {
                libc::ESRCH | libc::EBADF => Ok(None),
                e => Err(format!("proc_pidfdinfo({pid}, {fd}): errno {e}")),
            };
        }
        if (bytes as usize) < size {
            return Err(format!("proc_pidfdinfo({pid}, {fd}): short answer"));
        }
        // SAFETY: zeroed, then filled by the kernel: every field is plain
        // data for which any bytes are valid.
        let info = unsafe { info.assume_init() };
        let name = &info.pshminfo.pshm_name;
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Ok(Some(name[..len].to_vec()))
    }

    pub(super) fn scan(wanted: &[Wanted<'_>]) -> Result<Vec<bool>, String> {
        let mut held = vec![false; wanted.len()];
        let me = std::process::id() as i32;
        for pid in pids(nix::unistd::geteuid().as_raw())? {
            if pid == me {
                continue;
            }
            let Some(fds) = fds(pid)? else { continue };
            for fd in fds.iter().filter(|f| f.proc_fdtype == PROX_FDTYPE_PSHM) {
                let Some(name) = pshm_name(pid, fd.proc_fd)? else {
                    continue;
                };
                for (i, w) in wanted.iter().enumerate() {
                    if w.name == name.as_slice() {
                        held[i] = true;
                    }
                }
            }
        }
        Ok(held)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::linux::parse_maps_line;

    #[test]
    fn a_maps_line_gives_its_device_and_inode() {
        let line = b"7f2a1c000000-7f2a1c010000 rw-s 00000000 00:1a 123456    /dev/shm/x (deleted)";
        assert_eq!(parse_maps_line(line), Some((0, 0x1a, 123456)));
        let line = b"55d0c000-55d0d000 r-xp 00001000 fd:01 42 /usr/bin/cat";
        assert_eq!(parse_maps_line(line), Some((0xfd, 1, 42)));
        assert_eq!(
            parse_maps_line(b"7ffd-7ffe rw-p 00000000 00:00 0    [stack]"),
            None
        );
        assert_eq!(parse_maps_line(b""), None);
    }

    #[test]
    #[cfg_attr(miri, ignore = "makes system calls: shared memory, /proc")]
    fn the_scanning_process_is_left_out() {
        use std::os::fd::AsRawFd;
        let name = format!("/tsm-holders-{}", std::process::id());
        let c = std::ffi::CString::new(name.clone()).unwrap();
        let fd = nix::sys::mman::shm_open(
            c.as_c_str(),
            nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CREAT | nix::fcntl::OFlag::O_EXCL,
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        let st = nix::sys::stat::fstat(fd.as_raw_fd()).unwrap();
        let _ = nix::sys::mman::shm_unlink(c.as_c_str());
        let wanted = [super::Wanted {
            name: name.as_bytes(),
            identity: super::Identity {
                device: st.st_dev,
                inode: st.st_ino,
                ..Default::default()
            },
        }];
        // Only this process holds it (tests/crash.rs shows another
        // process's hold found).
        assert_eq!(super::held_by_others(&wanted).unwrap(), vec![false]);
        drop(fd);
    }
}

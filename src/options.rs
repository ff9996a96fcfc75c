//! How a registry behaves: naming, unlinking, backend and reserved names.

use crate::name::NamingPolicy;
use crate::os::BackendKind;
use crate::status::{Error, Result, Status};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Which tracked regions `unlink`, `cleanup_all` and closing a region remove
/// from the system.
///
/// A region is *owned* when this process created it (registered with
/// `owned = true`, or made by [`Registry::create_region`](crate::Registry::create_region));
/// otherwise another process, such as a Triton client, created it and this
/// process only opened it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UnlinkPolicy {
    /// Only owned regions are unlinked; a region someone else created is
    /// untracked but left in place, so its creator can still use and destroy
    /// it. The default, and what Triton's server needs: its clients create
    /// the regions it maps.
    #[default]
    OwnedOnly,
    /// Every tracked region is unlinked, owned or not: the seed design's
    /// macOS behaviour. Use it only when this process is responsible for
    /// every region it tracks; it breaks clients that destroy their own
    /// regions.
    All,
    /// Nothing is ever unlinked: unlink and cleanup only untrack, and the
    /// regions stay for whoever manages them (the seed's proposed option to
    /// disable automatic unlinking). Their journal records are dropped too,
    /// so the reaper leaves them alone.
    Never,
}

impl UnlinkPolicy {
    /// Lower-case name of the policy, as used in messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            UnlinkPolicy::OwnedOnly => "owned-only",
            UnlinkPolicy::All => "all",
            UnlinkPolicy::Never => "never",
        }
    }
}

impl fmt::Display for UnlinkPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that names no policy, from [`str::parse`] of a [`NamingPolicy`]
/// or an [`UnlinkPolicy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPolicy {
    /// What kind of policy was asked for: `naming` or `unlink`.
    pub kind: &'static str,
    /// The word given.
    pub value: String,
    /// The words accepted, as the options list them.
    pub expected: &'static str,
}

impl fmt::Display for UnknownPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a {} policy; expected {}",
            self.value, self.kind, self.expected
        )
    }
}

impl std::error::Error for UnknownPolicy {}

impl FromStr for UnlinkPolicy {
    type Err = UnknownPolicy;

    /// `owned-only`, `all` or `never`, as [`UnlinkPolicy::as_str`] spells
    /// them.
    fn from_str(word: &str) -> std::result::Result<Self, UnknownPolicy> {
        [
            UnlinkPolicy::OwnedOnly,
            UnlinkPolicy::All,
            UnlinkPolicy::Never,
        ]
        .into_iter()
        .find(|policy| policy.as_str() == word)
        .ok_or_else(|| UnknownPolicy {
            kind: "unlink",
            value: word.to_owned(),
            expected: "owned-only | all | never",
        })
    }
}

impl FromStr for NamingPolicy {
    type Err = UnknownPolicy;

    /// `darwin` or `posix`, or `platform` for [`NamingPolicy::platform`].
    fn from_str(word: &str) -> std::result::Result<Self, UnknownPolicy> {
        match word {
            "platform" => Ok(NamingPolicy::platform()),
            _ => [NamingPolicy::Darwin, NamingPolicy::Posix]
                .into_iter()
                .find(|policy| policy.as_str() == word)
                .ok_or_else(|| UnknownPolicy {
                    kind: "naming",
                    value: word.to_owned(),
                    expected: "platform | darwin | posix",
                }),
        }
    }
}

/// Settings of a [`Registry`](crate::Registry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How keys become system names. Default: [`NamingPolicy::platform`].
    pub naming: NamingPolicy,
    /// Which regions unlink and cleanup remove. Default: owned only.
    pub unlink: UnlinkPolicy,
    /// Which system-call backend to use. Default: the environment decides.
    pub backend: BackendKind,
    /// Key prefixes refused in addition to the built-in ones
    /// (`triton_python_backend_shm_region_` and every
    /// `triton_<word>_backend_shm_region_`), compared after leading slashes.
    pub reserved_prefixes: Vec<Vec<u8>>,
    /// Keep a crash-safe journal of owned regions (real OS backend only).
    /// Default: on.
    pub journal: bool,
    /// Where journals live. `None`: `triton-shm-<uid>` under the temporary
    /// directory.
    pub state_dir: Option<PathBuf>,
    /// Reap the regions of dead owners' journals when the registry first
    /// needs a journal of its own (its first owned region), which is also
    /// when the state directory is first opened. Default: on.
    pub reap_on_create: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            naming: NamingPolicy::platform(),
            unlink: UnlinkPolicy::default(),
            backend: BackendKind::default(),
            reserved_prefixes: Vec::new(),
            journal: true,
            state_dir: None,
            reap_on_create: true,
        }
    }
}

/// Environment variables [`Options::from_env`] reads, with their values.
///
/// `TRITON_SHM_UNLINK_POLICY` offers only the policies that unlink no more
/// than the registry created itself: `all` is a choice for code, never for
/// the environment, so no variable can make a server unlink its clients'
/// regions.
pub const ENV_VARS: [(&str, &str); 6] = [
    ("TRITON_SHM_NAMING", "platform | darwin | posix"),
    ("TRITON_SHM_UNLINK_POLICY", "owned-only | never"),
    ("TRITON_SHM_JOURNAL", "on | off"),
    ("TRITON_SHM_REAP_ON_CREATE", "on | off"),
    ("TRITON_SHM_STATE_DIR", "a directory path"),
    ("TRITON_SHM_BACKEND", "system | xnu-model"),
];

fn env_value(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
            Status::INVALID_ARGUMENT,
            format!("{name} is not valid UTF-8"),
        )),
    }
}

fn bad_env(name: &str, value: &str) -> Error {
    let expected = ENV_VARS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, v)| v);
    Error::new(
        Status::INVALID_ARGUMENT,
        format!("{name}='{value}' is not valid; expected {expected}"),
    )
}

fn on_off(name: &str) -> Result<Option<bool>> {
    match env_value(name)?.as_deref() {
        None => Ok(None),
        Some("on" | "1" | "true") => Ok(Some(true)),
        Some("off" | "0" | "false") => Ok(Some(false)),
        Some(other) => Err(bad_env(name, other)),
    }
}

impl Options {
    /// The defaults, changed by the environment variables in [`ENV_VARS`]
    /// that are set. (The backend is read when a registry is created, from
    /// `TRITON_SHM_BACKEND` in builds with the `xnu-model` feature, unless
    /// `backend` says otherwise.)
    ///
    /// Reading the environment is the host's choice: [`Options::default`]
    /// reads nothing. No variable can widen unlinking beyond what a registry
    /// created (`TRITON_SHM_UNLINK_POLICY=all` is refused).
    ///
    /// Errors: [`Status::INVALID_ARGUMENT`] naming the variable whose value
    /// is not one of those listed.
    pub fn from_env() -> Result<Options> {
        let mut options = Options::default();
        if let Some(v) = env_value("TRITON_SHM_NAMING")? {
            options.naming = v.parse().map_err(|_| bad_env("TRITON_SHM_NAMING", &v))?;
        }
        if let Some(v) = env_value("TRITON_SHM_UNLINK_POLICY")? {
            let unlink = v
                .parse()
                .map_err(|_| bad_env("TRITON_SHM_UNLINK_POLICY", &v))?;
            if unlink == UnlinkPolicy::All {
                return Err(Error::new(
                    Status::INVALID_ARGUMENT,
                    "TRITON_SHM_UNLINK_POLICY='all' is refused: the environment may not make a \
                     registry unlink regions it did not create (set the policy in code); \
                     expected owned-only | never",
                ));
            }
            options.unlink = unlink;
        }
        if let Some(on) = on_off("TRITON_SHM_JOURNAL")? {
            options.journal = on;
        }
        if let Some(on) = on_off("TRITON_SHM_REAP_ON_CREATE")? {
            options.reap_on_create = on;
        }
        options.state_dir = std::env::var_os("TRITON_SHM_STATE_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(options)
    }

    /// The state directory these options name: `state_dir`, else the
    /// default `triton-shm-<uid>` under the temporary directory.
    pub fn state_dir_path(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(crate::os::state_dir::default_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_the_words_they_display() {
        for policy in [
            UnlinkPolicy::OwnedOnly,
            UnlinkPolicy::All,
            UnlinkPolicy::Never,
        ] {
            assert_eq!(policy.to_string().parse::<UnlinkPolicy>(), Ok(policy));
        }
        for policy in [NamingPolicy::Darwin, NamingPolicy::Posix] {
            assert_eq!(policy.to_string().parse::<NamingPolicy>(), Ok(policy));
        }
        assert_eq!(
            "platform".parse::<NamingPolicy>(),
            Ok(NamingPolicy::platform())
        );
    }

    #[test]
    fn an_unknown_policy_word_says_what_is_expected() {
        let e = "windows".parse::<NamingPolicy>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "'windows' is not a naming policy; expected platform | darwin | posix"
        );
        let e = "some".parse::<UnlinkPolicy>().unwrap_err();
        assert_eq!(e.kind, "unlink");
        assert_eq!(e.expected, "owned-only | all | never");
    }

    #[test]
    fn the_environment_is_not_offered_the_unlink_all_policy() {
        assert!(!ENV_VARS
            .iter()
            .any(|(n, v)| *n == "TRITON_SHM_UNLINK_POLICY" && v.contains("all")));
    }
}

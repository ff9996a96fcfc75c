//! Arbitrary bytes as a key (and as a host's reserved prefix) through the
//! seed's normalisation, both naming policies, identities and reserved
//! names. Nothing may panic, and every rule of src/name.rs must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::mem::MaybeUninit;
use triton_shm::name::{
    self, NameError, NamingPolicy, Normalized, DARWIN_NAME_MAX, POSIX_NAME_MAX,
};

fuzz_target!(|input: (&[u8], &[u8])| {
    let (key, extra) = input;
    check_normalize(key);
    check_darwin(key);
    check_posix(key);
    check_reserved(key, extra);
});

fn rest_of(key: &[u8]) -> &[u8] {
    let lead = key.iter().take_while(|&&b| b == b'/').count();
    &key[lead..]
}

fn with_slash(key: &[u8]) -> Vec<u8> {
    [&b"/"[..], key].concat()
}

fn check_normalize(key: &[u8]) {
    let rest = rest_of(key);
    let got = name::normalize(key);
    if let Err(e) = &got {
        let _ = e.to_string();
    }
    match got {
        Err(NameError::Empty) => assert!(rest.is_empty()),
        Err(NameError::InteriorNul) => assert!(!rest.is_empty() && rest.contains(&0)),
        Err(e) => panic!("normalize gave {e:?}"),
        Ok(n) => {
            assert!(!rest.is_empty() && !rest.contains(&0));
            // One leading slash and no other; the rest byte for byte, with
            // '/' turned into '_'.
            assert_eq!(n[0], b'/');
            assert!(!n[1..].contains(&b'/'));
            assert_eq!(n.len(), rest.len() + 1);
            assert!(rest
                .iter()
                .zip(&n[1..])
                .all(|(&was, &is)| is == if was == b'/' { b'_' } else { was }));
            // Idempotent, and blind to extra leading slashes.
            assert_eq!(name::normalize(&n).as_ref(), Ok(&n));
            assert_eq!(name::normalize(&with_slash(key)).as_ref(), Ok(&n));
            // The allocation-free path writes the same bytes and no more.
            let checked = Normalized::new(key).expect("normalize accepted it");
            assert_eq!(checked.len(), n.len());
            assert_eq!(checked.to_vec(), n);
            let mut buf = vec![MaybeUninit::new(0xa5u8); n.len() + 3];
            checked.write_to(&mut buf);
            // SAFETY: every byte of `buf` was initialised above.
            let written: Vec<u8> = buf.iter().map(|b| unsafe { b.assume_init() }).collect();
            assert_eq!(&written[..n.len()], &n[..]);
            assert_eq!(&written[n.len()..], &[0xa5; 3]);
            let c_key = std::ffi::CString::new(key).expect("no NUL");
            assert_eq!(
                Normalized::from_c_str(&c_key).expect("not empty").to_vec(),
                n
            );
        }
    }
}

fn check_darwin(key: &[u8]) {
    let d = NamingPolicy::Darwin;
    let got = d.system_name(key);
    assert_eq!(d.system_name_cow(key).map(|c| c.into_owned()), got);
    match name::normalize(key) {
        Ok(n) if n.len() > DARWIN_NAME_MAX => {
            assert_eq!(
                got,
                Err(NameError::TooLong {
                    len: n.len(),
                    max: DARWIN_NAME_MAX
                })
            )
        }
        Ok(n) => {
            assert_eq!(got.as_ref(), Ok(&n));
            // XNU compares bytes: the identity is the system name, and the
            // normalised key reaches the same object as the key.
            assert_eq!(d.identity(&n), &n[..]);
            assert_eq!(d.system_name(&n).as_ref(), Ok(&n));
        }
        Err(e) => assert_eq!(got, Err(e)),
    }
    assert_eq!(d.system_name(&with_slash(key)), got);
}

fn check_posix(key: &[u8]) {
    let p = NamingPolicy::Posix;
    let rest = rest_of(key);
    let expected = if rest.is_empty() {
        Err(NameError::Empty)
    } else if rest.contains(&0) {
        Err(NameError::InteriorNul)
    } else if rest.contains(&b'/') {
        Err(NameError::InnerSlash)
    } else if rest.len() > POSIX_NAME_MAX {
        Err(NameError::TooLong {
            len: rest.len(),
            max: POSIX_NAME_MAX,
        })
    } else {
        Ok(key.to_vec())
    };
    let got = p.system_name(key);
    assert_eq!(got, expected);
    assert_eq!(p.system_name_cow(key).map(|c| c.into_owned()), got);
    if let Ok(system) = got {
        // glibc strips leading slashes: `/x`, `//x` and `x` are one object.
        let identity = p.identity(&system);
        assert_eq!(identity, rest);
        let more = with_slash(key);
        assert_eq!(
            p.identity(&p.system_name(&more).expect("same rest")),
            identity
        );
        // A key both policies take reaches, under posix, the object named
        // by its darwin name without the slash.
        if let Ok(darwin) = NamingPolicy::Darwin.system_name(key) {
            assert_eq!(identity, &darwin[1..]);
        }
    }
}

fn check_reserved(key: &[u8], extra: &[u8]) {
    let none: &[Vec<u8>] = &[];
    let reserved = name::is_reserved(key, none);
    // Any spelling of the leading slashes, and the normalised key.
    assert_eq!(name::is_reserved(&with_slash(key), none), reserved);
    if let Ok(n) = name::normalize(key) {
        assert_eq!(name::is_reserved(&n, none), reserved);
    }
    // A host's prefix only adds names, whatever its leading slashes.
    let extras = [extra.to_vec()];
    let with_extra = name::is_reserved(key, &extras);
    assert!(with_extra || !reserved);
    assert_eq!(name::is_reserved(key, &[with_slash(extra)]), with_extra);
    let prefix = rest_of(extra);
    if !prefix.is_empty() && rest_of(key).starts_with(prefix) {
        assert!(with_extra);
    }
}

//! The region lifecycle, one suite run on the real OS and, with the
//! `xnu-model` feature, on the model of macOS.
// Not under miri: every test here makes system calls (it creates, maps and unlinks real objects).
#![cfg(not(miri))]

mod common;

use common::unique_key;
use triton_shm::name::NamingPolicy;
use triton_shm::os::BackendKind;
use triton_shm::{Options, Registry, Status, UnlinkPolicy};

fn registry(backend: BackendKind, naming: NamingPolicy) -> Registry {
    Registry::new(Options {
        naming,
        unlink: UnlinkPolicy::OwnedOnly,
        backend,
        reserved_prefixes: vec![b"/host_private_".to_vec()],
        ..Options::default()
    })
    .unwrap()
}

/// The behaviours both backends must share, instantiated per backend.
macro_rules! lifecycle_suite {
    ($module:ident, $backend:expr) => {
        mod $module {
            use super::*;

            fn darwin() -> Registry {
                registry($backend, NamingPolicy::Darwin)
            }

            #[test]
            fn seed_scenario_create_write_read_cleanup() {
                let reg = darwin();
                let key = unique_key("seed");
                let writer = reg.create_region(key.as_bytes(), 1024).unwrap();
                let greeting = b"Hello from macOS shared memory!";
                assert!(writer.write_at(0, greeting));
                let reader = reg.open_region(key.as_bytes(), 0, greeting.len()).unwrap();
                let mut back = vec![0u8; greeting.len()];
                assert!(reader.read_at(0, &mut back));
                assert_eq!(&back, greeting);
                assert_eq!(reg.count(), 1, "both regions share one entry");
                reader.close().unwrap();
                assert_eq!(reg.count(), 1, "the creator's region still holds it");
                writer.close().unwrap();
                assert_eq!(reg.count(), 0);
                let gone = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
                assert_eq!(gone.status(), Status::NOT_FOUND, "{gone}");
            }

            #[test]
            fn unaligned_offsets_map_the_right_bytes() {
                let reg = darwin();
                let key = unique_key("off");
                let size = 3 * 16384;
                let writer = reg.create_region(key.as_bytes(), size).unwrap();
                let pattern: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                assert!(writer.write_at(0, &pattern));
                for offset in [1usize, 7, 4095, 4097, 16383, 16385, 20000] {
                    let r = reg.open_region(key.as_bytes(), offset, 100).unwrap();
                    let mut got = [0u8; 100];
                    assert!(r.read_at(0, &mut got));
                    assert_eq!(&got[..], &pattern[offset..offset + 100], "offset {offset}");
                    r.close().unwrap();
                }
                writer.close().unwrap();
            }

            #[test]
            fn offset_plus_size_overflow_and_out_of_bounds_are_refused() {
                let reg = darwin();
                let key = unique_key("oob");
                let writer = reg.create_region(key.as_bytes(), 65536).unwrap();
                let e = reg.open_region(key.as_bytes(), usize::MAX, 2).unwrap_err();
                assert_eq!(e.status(), Status::OUT_OF_BOUNDS);
                assert!(e.message().contains("overflows"), "{e}");
                let e = reg.open_region(key.as_bytes(), 1, usize::MAX).unwrap_err();
                assert_eq!(e.status(), Status::OUT_OF_BOUNDS);
                let e = reg.open_region(key.as_bytes(), 65536, 1).unwrap_err();
                assert_eq!(e.status(), Status::OUT_OF_BOUNDS);
                assert!(e.message().contains("65536 bytes"), "{e}");
                let e = reg.open_region(key.as_bytes(), 0, 0).unwrap_err();
                assert_eq!(e.status(), Status::INVALID_ARGUMENT);
                assert!(reg.open_region(key.as_bytes(), 65535, 1).is_ok());
                writer.close().unwrap();
            }

            #[test]
            fn a_missing_object_is_not_found_before_its_size_is_judged() {
                let reg = darwin();
                let key = unique_key("absent");
                for (offset, size) in [(0, 0), (usize::MAX, 2), (0, 8)] {
                    let e = reg.open_region(key.as_bytes(), offset, size).unwrap_err();
                    assert_eq!(e.status(), Status::NOT_FOUND, "({offset}, {size}): {e}");
                }
            }

            #[test]
            fn sizes_past_a_file_offset_are_refused_before_any_syscall() {
                let reg = darwin();
                let key = unique_key("huge");
                for size in [usize::MAX, i64::MAX as usize + 1] {
                    let e = reg.create_region(key.as_bytes(), size).unwrap_err();
                    assert_eq!(e.status(), Status::INVALID_ARGUMENT, "{e}");
                    assert_eq!(e.errno(), None, "refused before any system call");
                }
                assert_eq!(
                    reg.open_region(key.as_bytes(), 0, 1).unwrap_err().status(),
                    Status::NOT_FOUND
                );
            }

            #[test]
            fn creating_twice_is_already_exists_and_leaves_the_first_alone() {
                let reg = darwin();
                let other = darwin();
                let key = unique_key("twice");
                let first = reg.create_region(key.as_bytes(), 4096).unwrap();
                assert!(first.write_at(0, b"kept"));
                let e = other.create_region(key.as_bytes(), 8192).unwrap_err();
                assert_eq!(e.status(), Status::ALREADY_EXISTS, "{e}");
                assert_eq!(other.count(), 0);
                let check = other.open_region(key.as_bytes(), 0, 4).unwrap();
                let mut got = [0u8; 4];
                assert!(check.read_at(0, &mut got));
                assert_eq!(&got, b"kept");
                check.close().unwrap();
                first.close().unwrap();
            }

            #[test]
            fn reserved_prefixes_are_refused_in_every_slash_spelling() {
                let reg = darwin();
                let posix = registry($backend, NamingPolicy::Posix);
                for key in [
                    "triton_python_backend_shm_region_0",
                    "/triton_python_backend_shm_region_0",
                    "//triton_python_backend_shm_region_0",
                    "/triton_vllm_backend_shm_region_9",
                    "/host_private_x",
                    "///host_private_x",
                ] {
                    for r in [&reg, &posix] {
                        let e = r.open_region(key.as_bytes(), 0, 1).unwrap_err();
                        assert_eq!(e.status(), Status::RESERVED_NAME, "{key}: {e}");
                        let e = r.create_region(key.as_bytes(), 1).unwrap_err();
                        assert_eq!(e.status(), Status::RESERVED_NAME, "{key}: {e}");
                        let e = r.register(key.as_bytes(), false).unwrap_err();
                        assert_eq!(e.status(), Status::RESERVED_NAME, "{key}: {e}");
                    }
                }
                let e = reg
                    .open_region(b"/triton/python/backend/shm/region/0", 0, 1)
                    .unwrap_err();
                assert_eq!(
                    e.status(),
                    Status::RESERVED_NAME,
                    "normalises into the prefix"
                );
            }

            #[test]
            fn the_collision_rule_covers_mapped_regions() {
                let reg = darwin();
                let key = format!("{}/c", unique_key("col"));
                let alias = format!("/{}", key[1..].replace('/', "_"));
                let region = reg.create_region(key.as_bytes(), 4096).unwrap();
                let e = reg.open_region(alias.as_bytes(), 0, 1).unwrap_err();
                assert_eq!(e.status(), Status::NAME_COLLISION, "{e}");
                let e = reg.create_region(alias.as_bytes(), 1).unwrap_err();
                assert_eq!(e.status(), Status::NAME_COLLISION, "{e}");
                region.close().unwrap();
            }

            #[test]
            fn a_client_region_survives_the_servers_close_and_cleanup() {
                let client = darwin();
                let server = darwin();
                let key = unique_key("cli");
                let owned = client.create_region(key.as_bytes(), 4096).unwrap();
                let mapped = server.open_region(key.as_bytes(), 0, 4096).unwrap();
                mapped.close().unwrap();
                assert_eq!(server.cleanup_all().unlinked, 0);
                let again = server.open_region(key.as_bytes(), 0, 1).unwrap();
                drop(again);
                owned.close().unwrap();
            }

            #[test]
            fn an_untracked_region_reads_the_clients_bytes_and_leaves_no_entry() {
                let client = darwin();
                let server = darwin();
                let key = unique_key("untr");
                let owned = client.create_region(key.as_bytes(), 4096).unwrap();
                assert!(owned.write_at(10, b"abc"));
                let mapped = server.open_region_untracked(key.as_bytes(), 10, 3).unwrap();
                let mut out = [0u8; 3];
                assert!(mapped.read_at(0, &mut out));
                assert_eq!(&out, b"abc");
                assert_eq!(mapped.key(), key.as_bytes());
                assert_eq!(server.count(), 0);
                assert!(server.system_names().is_empty());
                assert_eq!(server.stats().mapped_bytes, 3);
                mapped.close().unwrap();
                assert_eq!(server.stats().mapped_bytes, 0);
                owned.close().unwrap();
            }

            #[test]
            fn a_client_region_mapped_for_the_caller_reads_its_bytes_and_is_kept_nowhere() {
                let client = darwin();
                let server = darwin();
                let key = unique_key("mapc");
                let owned = client.create_region(key.as_bytes(), 4096).unwrap();
                assert!(owned.write_at(10, b"abc"));
                let mapped = server.map_client_region(key.as_bytes(), 10, 3).unwrap();
                let mut out = [0u8; 3];
                assert!(mapped.read_at(0, &mut out));
                assert_eq!(&out, b"abc");
                assert_eq!(server.count(), 0);
                assert_eq!(server.stats().mapped_bytes, 0);
                mapped.unmap().unwrap();
                // The refusals are those of an untracked region, in order.
                // (macOS rounds the 4096 bytes up to a 16 KiB page.)
                for (offset, byte_size) in [(0, 0), (16384, 1), (usize::MAX, 2)] {
                    let by_map = server
                        .map_client_region(key.as_bytes(), offset, byte_size)
                        .unwrap_err();
                    let by_region = server
                        .open_region_untracked(key.as_bytes(), offset, byte_size)
                        .unwrap_err();
                    assert_eq!(by_map.status(), by_region.status(), "{by_map}");
                    assert_eq!(by_map.message(), by_region.message());
                }
                for refused in [&b"/host_private_x"[..], b"/triton_x_backend_shm_region_1"] {
                    let by_map = server.map_client_region(refused, 0, 1).unwrap_err();
                    assert_eq!(by_map.status(), Status::RESERVED_NAME, "{by_map}");
                }
                owned.close().unwrap();
                let gone = server.map_client_region(key.as_bytes(), 0, 1).unwrap_err();
                assert_eq!(gone.status(), Status::NOT_FOUND, "{gone}");
            }

            #[test]
            fn dropping_a_created_region_unlinks_it() {
                let reg = darwin();
                let key = unique_key("drop");
                drop(reg.create_region(key.as_bytes(), 100).unwrap());
                assert_eq!(reg.count(), 0);
                let e = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
                assert_eq!(e.status(), Status::NOT_FOUND);
            }
        }
    };
}

lifecycle_suite!(system_backend, BackendKind::System);
#[cfg(feature = "xnu-model")]
lifecycle_suite!(xnu_model_backend, BackendKind::XnuModel);

// macOS reports the size rounded up to a page (see the XNU model's tests).
#[cfg(target_os = "linux")]
#[test]
fn linux_sizes_are_exact_and_unaligned_sizes_bound_exactly() {
    let reg = registry(BackendKind::System, NamingPolicy::Posix);
    let key = unique_key("exact");
    let region = reg.create_region(key.as_bytes(), 1000).unwrap();
    assert!(reg.open_region(key.as_bytes(), 999, 1).is_ok());
    let e = reg.open_region(key.as_bytes(), 1000, 1).unwrap_err();
    assert_eq!(e.status(), Status::OUT_OF_BOUNDS);
    region.close().unwrap();
}

#[cfg(feature = "xnu-model")]
mod xnu_model_only {
    use super::*;
    use common::cs;
    use std::os::fd::AsFd;
    use triton_shm::os::{OpenFlags, ShmBackend, XnuModel};

    fn model() -> &'static dyn ShmBackend {
        XnuModel::shared()
    }

    #[test]
    fn names_are_byte_exact_and_limited_to_31_bytes() {
        let m = model();
        let base = format!("x{}", std::process::id());
        let one = format!("/{base}");
        let two = format!("//{base}");
        let _a = m.open(&cs(&one), OpenFlags::CREATE_NEW).unwrap();
        let _b = m.open(&cs(&two), OpenFlags::CREATE_NEW).unwrap();
        let _c = m.open(&cs(&base), OpenFlags::CREATE_NEW).unwrap();
        for n in [&one, &two, &base] {
            m.unlink(&cs(n)).unwrap();
        }
        let ok = format!("/{}", "x".repeat(30));
        let long = format!("/{}", "x".repeat(31));
        let _fd = m.open(&cs(&ok), OpenFlags::CREATE_NEW).unwrap();
        m.unlink(&cs(&ok)).unwrap();
        assert_eq!(
            m.open(&cs(&long), OpenFlags::CREATE_NEW).unwrap_err(),
            libc::ENAMETOOLONG
        );
        assert_eq!(m.unlink(&cs(&long)).unwrap_err(), libc::EINVAL);
    }

    #[test]
    fn ftruncate_once_and_sizes_round_to_16k() {
        let m = model();
        let name = format!("/t{}", std::process::id());
        let fd = m.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
        assert_eq!(
            m.map(fd.as_fd(), 0, 1).unwrap_err(),
            libc::EINVAL,
            "mmap before ftruncate"
        );
        m.set_size(fd.as_fd(), 1000).unwrap();
        assert_eq!(
            m.set_size(fd.as_fd(), 1000).unwrap_err(),
            libc::EINVAL,
            "second ftruncate"
        );
        assert_eq!(m.size(fd.as_fd()).unwrap(), 16384);
        let trunc = OpenFlags {
            truncate: true,
            ..OpenFlags::EXISTING
        };
        assert_eq!(
            m.open(&cs(&name), trunc).unwrap_err(),
            libc::EINVAL,
            "O_TRUNC on a sized object"
        );
        assert!(
            m.map(fd.as_fd(), 0, 16384).is_ok(),
            "the rounded size is mappable"
        );
        assert_eq!(
            m.map(fd.as_fd(), 1, 16384).unwrap_err(),
            libc::EINVAL,
            "past the rounded size"
        );
        m.unlink(&cs(&name)).unwrap();
    }

    fn view(page: u64) -> XnuModel {
        XnuModel::with_page_size(page).unwrap()
    }

    #[test]
    fn intel_pages_round_sizes_to_4k() {
        let m = view(XnuModel::INTEL_PAGE);
        let name = format!("/i{}", std::process::id());
        let fd = m.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
        m.set_size(fd.as_fd(), 1000).unwrap();
        assert_eq!(m.size(fd.as_fd()).unwrap(), 4096);
        assert!(
            m.map(fd.as_fd(), 0, 4096).is_ok(),
            "the rounded size is mappable"
        );
        assert_eq!(
            m.map(fd.as_fd(), 1, 4096).unwrap_err(),
            libc::EINVAL,
            "past the rounded size"
        );
        m.unlink(&cs(&name)).unwrap();
    }

    #[test]
    fn the_size_is_rounded_with_the_creators_page_size() {
        let intel = view(XnuModel::INTEL_PAGE);
        let silicon = view(XnuModel::APPLE_SILICON_PAGE);
        let name = format!("/p{}", std::process::id());
        let fd = intel.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
        intel.set_size(fd.as_fd(), 1000).unwrap();
        let opened = silicon.open(&cs(&name), OpenFlags::EXISTING).unwrap();
        assert_eq!(
            silicon.size(opened.as_fd()).unwrap(),
            4096,
            "a 4 KiB creator's rounding"
        );
        intel.unlink(&cs(&name)).unwrap();
    }

    #[test]
    fn the_kernel_refuses_unaligned_mmap_offsets_on_both_page_sizes() {
        for page in [XnuModel::INTEL_PAGE, XnuModel::APPLE_SILICON_PAGE] {
            let m = view(page);
            let name = format!("/u{}_{page}", std::process::id());
            let fd = m.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
            m.set_size(fd.as_fd(), 4 * page).unwrap();
            for offset in [1, page / 2, page + 1] {
                assert_eq!(
                    m.mmap(fd.as_fd(), offset, 100).unwrap_err(),
                    libc::EINVAL,
                    "offset {offset}"
                );
            }
            assert!(m.mmap(fd.as_fd(), page, 100).is_ok(), "an aligned offset");
            m.unlink(&cs(&name)).unwrap();
        }
        let silicon = view(XnuModel::APPLE_SILICON_PAGE);
        let name = format!("/v{}", std::process::id());
        let fd = silicon.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
        silicon.set_size(fd.as_fd(), 65536).unwrap();
        assert_eq!(
            silicon.mmap(fd.as_fd(), 4096, 100).unwrap_err(),
            libc::EINVAL,
            "4 KiB is not a 16 KiB boundary"
        );
        silicon.unlink(&cs(&name)).unwrap();
    }

    #[test]
    fn unaligned_region_offsets_work_because_the_library_aligns_them() {
        for page in [XnuModel::INTEL_PAGE, XnuModel::APPLE_SILICON_PAGE] {
            let m = view(page);
            let name = format!("/a{}_{page}", std::process::id());
            let fd = m.open(&cs(&name), OpenFlags::CREATE_NEW).unwrap();
            m.set_size(fd.as_fd(), 65536).unwrap();
            let whole = m.map(fd.as_fd(), 0, 65536).unwrap();
            assert!(whole.write_at(4097, b"here"));
            let part = m.map(fd.as_fd(), 4097, 4).unwrap();
            let mut got = [0u8; 4];
            assert!(part.read_at(0, &mut got));
            assert_eq!(&got, b"here", "page {page}");
            m.unlink(&cs(&name)).unwrap();
        }
    }

    #[test]
    fn only_power_of_two_page_sizes_are_views() {
        assert!(XnuModel::with_page_size(12288).is_none());
        assert!(XnuModel::with_page_size(0).is_none());
        assert_eq!(view(XnuModel::INTEL_PAGE).page_size(), 4096);
        assert_eq!(XnuModel::shared().page_size(), XnuModel::APPLE_SILICON_PAGE);
    }

    #[test]
    fn on_macos_the_bound_is_the_rounded_size() {
        let reg = registry(BackendKind::XnuModel, NamingPolicy::Darwin);
        let key = unique_key("round");
        let region = reg.create_region(key.as_bytes(), 1000).unwrap();
        // 1000 bytes were asked for; macOS reports 16384, the creator's exact
        // size is lost, so the bound is the rounded size.
        assert!(reg.open_region(key.as_bytes(), 1000, 15384).is_ok());
        let e = reg.open_region(key.as_bytes(), 1000, 15385).unwrap_err();
        assert_eq!(e.status(), Status::OUT_OF_BOUNDS);
        region.close().unwrap();
    }

    #[test]
    fn darwin_open_finds_the_python_clients_double_slash_name() {
        let m = model();
        let key = format!("/py{}", std::process::id());
        let python_name = format!("/{key}");
        let fd = m.open(&cs(&python_name), OpenFlags::CREATE_NEW).unwrap();
        m.set_size(fd.as_fd(), 4096).unwrap();
        let reg = registry(BackendKind::XnuModel, NamingPolicy::Darwin);
        let region = reg.open_region(key.as_bytes(), 0, 4096).unwrap();
        assert_eq!(region.system_name(), python_name.as_bytes());
        region.close().unwrap();
        assert!(
            m.open(&cs(&python_name), OpenFlags::EXISTING).is_ok(),
            "not owned: not unlinked"
        );
        m.unlink(&cs(&python_name)).unwrap();
        let e = reg.open_region(key.as_bytes(), 0, 1).unwrap_err();
        assert_eq!(e.status(), Status::NOT_FOUND);
        assert!(e.message().contains(&python_name), "{e}");
    }
}

#!/usr/bin/env python3
"""Interop between triton-shm and the real Triton Python client.

The client (tritonclient.utils.shared_memory, from PyPI) creates regions the
way Triton users do; the library, loaded through its C ABI with ctypes, opens
them as Triton's server would, and the other way round.

Usage: tritonclient_interop.py PATH/TO/libtriton_shm.(so|dylib)
Prints one line per check and a closing 'N passed, N failed' line.

CPython's multiprocessing.shared_memory, which the client uses, prepends '/'
to every key: key '/k' is the object '//k'. Linux strips leading slashes, so
both sides meet on every policy. macOS compares names byte for byte: there
only the darwin policy's '//k' lookup meets the client, and a region the
library creates as '/k' is not the one the client opens; those checks are
skipped on macOS, and say so.
"""

import ctypes
import os
import sys

import _posixshmem

import numpy as np
import tritonclient.utils.shared_memory as shm
from multiprocessing import resource_tracker

OK = 0
NAMING = {"posix": 2, "darwin": 1}


class Options(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("naming_policy", ctypes.c_uint32),
        ("unlink_policy", ctypes.c_uint32),
        ("backend", ctypes.c_uint32),
        ("reserved_prefixes", ctypes.POINTER(ctypes.c_char_p)),
        ("reserved_prefix_count", ctypes.c_size_t),
        ("journal", ctypes.c_uint32),
        ("reap_on_create", ctypes.c_uint32),
        ("state_dir", ctypes.c_char_p),
    ]


def load(path):
    lib = ctypes.CDLL(path)
    p, u32, sz = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t
    sigs = {
        "triton_shm_options_init": ([ctypes.POINTER(Options), sz], u32),
        "triton_shm_registry_new": ([ctypes.POINTER(Options), ctypes.POINTER(p)], u32),
        "triton_shm_registry_free": ([p], None),
        "triton_shm_registry_count": ([p, ctypes.POINTER(sz)], u32),
        "triton_shm_region_open": ([p, ctypes.c_char_p, sz, sz, u32, ctypes.POINTER(p)], u32),
        "triton_shm_region_create": ([p, ctypes.c_char_p, sz, u32, ctypes.POINTER(p)], u32),
        "triton_shm_region_data": ([p], p),
        "triton_shm_region_size": ([p], sz),
        "triton_shm_region_close": ([p], u32),
        "triton_shm_status_name": ([u32], ctypes.c_char_p),
        "triton_shm_last_error_message": ([ctypes.c_char_p, sz, ctypes.POINTER(sz)], u32),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, res
    return lib


class Checks:
    def __init__(self, lib):
        self.lib, self.passed, self.failed = lib, 0, 0

    def status(self, what, status, expected=OK):
        if status == expected:
            return True
        buf = ctypes.create_string_buffer(1024)
        self.lib.triton_shm_last_error_message(buf, len(buf), None)
        name = self.lib.triton_shm_status_name(status).decode()
        self.fail(f"{what}: {name}: {buf.value.decode(errors='replace')}")
        return False

    def check(self, what, condition):
        if condition:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.fail(what)
        return condition

    def fail(self, what):
        self.failed += 1
        print(f"FAIL {what}")


MACOS = sys.platform == "darwin"


def object_exists(name):
    """Whether the object `name` (as shm_open sees it) exists."""
    try:
        fd = _posixshmem.shm_open(name, os.O_RDONLY, 0)
    except FileNotFoundError:
        return False
    os.close(fd)
    return True


def client_object(key):
    """The object the Python client creates for `key`."""
    return "/" + key


def registry(lib, checks, naming):
    opts = Options()
    lib.triton_shm_options_init(ctypes.byref(opts), ctypes.sizeof(opts))
    opts.naming_policy = NAMING[naming]
    opts.backend = 1  # the real OS: the client is a real process
    reg = ctypes.c_void_p()
    checks.status("registry_new", lib.triton_shm_registry_new(ctypes.byref(opts), ctypes.byref(reg)))
    return reg


def client_creates_library_reads(lib, checks, naming):
    key = f"/tsi{os.getpid()}{naming[0]}in"
    values = np.arange(1024, dtype=np.int32)
    handle = shm.create_shared_memory_region("input0", key, values.nbytes)
    shm.set_shared_memory_region(handle, [values])
    reg = registry(lib, checks, naming)
    region = ctypes.c_void_p()
    offset, size = 3, 1000  # unaligned on purpose
    if checks.status(
        "region_open",
        lib.triton_shm_region_open(reg, key.encode(), offset, size, 0, ctypes.byref(region)),
    ):
        data = ctypes.string_at(lib.triton_shm_region_data(region), size)
        checks.check(
            f"[{naming}] library reads the client's region {key} at offset {offset}",
            data == values.tobytes()[offset : offset + size],
        )
        checks.status("region_close", lib.triton_shm_region_close(region))
    count = ctypes.c_size_t(99)
    lib.triton_shm_registry_count(reg, ctypes.byref(count))
    checks.check(f"[{naming}] closing the mapping untracks the client's region", count.value == 0)
    checks.check(
        f"[{naming}] the client's region still exists after the library closed it",
        object_exists(client_object(key)),
    )
    try:
        shm.destroy_shared_memory_region(handle)
        destroyed = not object_exists(client_object(key))
    except Exception as e:  # the client's own destroy must keep working
        print(f"     destroy raised {e!r}")
        destroyed = False
    checks.check(f"[{naming}] the client's own destroy still works and removes {key}", destroyed)
    lib.triton_shm_registry_free(reg)


def library_creates_client_reads(lib, checks, naming):
    key = f"/tsi{os.getpid()}{naming[0]}out"
    values = np.linspace(0.0, 1.0, 512, dtype=np.float32)
    reg = registry(lib, checks, naming)
    region = ctypes.c_void_p()
    if not checks.status(
        "region_create",
        lib.triton_shm_region_create(reg, key.encode(), values.nbytes, 0, ctypes.byref(region)),
    ):
        return
    ctypes.memmove(lib.triton_shm_region_data(region), values.tobytes(), values.nbytes)
    handle = shm.create_shared_memory_region("output0", key, values.nbytes)
    # Python < 3.13 registers attached segments with its resource tracker,
    # which would unlink the library's region at interpreter exit.
    resource_tracker.unregister(handle._mpsm_handle._name, "shared_memory")
    got = shm.get_contents_as_numpy(handle, np.float32, [values.size])
    checks.check(f"[{naming}] the client reads the library's region {key}", np.array_equal(got, values))
    shm.destroy_shared_memory_region(handle)
    checks.check(f"[{naming}] the client's destroy leaves the library's region alone", object_exists(key))
    checks.status("region_close", lib.triton_shm_region_close(region))
    checks.check(f"[{naming}] closing the library's own region removes it", not object_exists(key))
    lib.triton_shm_registry_free(reg)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lib = load(sys.argv[1])
    checks = Checks(lib)
    from importlib.metadata import version

    print(f"tritonclient {version('tritonclient')}, numpy {np.__version__}, library {sys.argv[1]}")
    for naming in ("posix", "darwin"):
        if MACOS and naming == "posix":
            print("skipped on macOS: the posix policy (it does not look up the client's '//k')")
            continue
        client_creates_library_reads(lib, checks, naming)
        if MACOS:
            print(f"skipped on macOS: [{naming}] the client opening a region the library created "
                  "(the client opens '//k', the library created '/k')")
            continue
        library_creates_client_reads(lib, checks, naming)
    print(f"interop: {checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()

#!/bin/sh
# The Mach-O gate: build triton-shm for macOS on this (Linux) machine with
# zig as the linker, and check what a Mac would load. For each of
# aarch64-apple-darwin and x86_64-apple-darwin, with
# MACOSX_DEPLOYMENT_TARGET=11.0:
#
#   build     the library and the tool as they ship (cmake/cargo-build.sh,
#             the CMake package's commands), through cargo-zigbuild
#   dylib     install name @rpath/libtriton_shm.<major>.dylib, current
#             version = the package version, compatibility version
#             <major>.<minor>.0, minimum macOS 11.0, room after the load
#             commands for install_name_tool, the right CPU type
#   symbols   every undefined symbol of the dylib and the tool is in the SDK
#             stubs zig ships (lib/libc/darwin/libSystem.tbd); every function
#             of the header is exported (scripts/check-exports.sh). zig's
#             linker ignores -exported_symbols_list, so this build also
#             exports Rust's own symbols: counted and allowed here, never in
#             the Mac's own ld64 build (the CI workflow checks that one)
#   harness   every C and C++ source of the CTest harness (ctest/, the ABI's
#             layout assertions of ctest/abi/ included), and the
#             demo (examples/), compiles with the harness's warnings and
#             links against the dylib, which the programs then load as
#             @rpath/libtriton_shm.<major>.dylib; the static-link test links
#             against the .a alone
#   universal llvm-lipo joins the two dylibs, as the CMake package does for
#             CMAKE_OSX_ARCHITECTURES="arm64;x86_64"
#   cmake     the CMake package's Apple branch, configured with a toolchain
#             file whose compiler is zig: Rust target from
#             CMAKE_OSX_ARCHITECTURES, deployment target, the versioned dylib
#             and its link, installed, and a consumer built with find_package
#
# Nothing here runs a Mach-O program: that, ld64, otool and the real SDK are
# what only a Mac checks (.github/workflows/ci.yml). On macOS this gate is
# skipped: the native build and tests are the check there.
#
# Installs what it needs and says so: ziglang and cargo-zigbuild from PyPI
# into build/macho-venv, llvm (llvm-objdump, llvm-nm, llvm-lipo) with
# apt-get, the Apple targets' standard libraries with rustup.
# shellcheck disable=SC2016 # the sh -c checks expand their own arguments
set -u
script=scripts/gate-macho.sh
# shellcheck source=lib/harness.sh
. "$(dirname "$0")/lib/harness.sh"
cd "$repo" || exit 1

if is_macos; then
  skip "the Mach-O gate" "it cross-checks macOS builds from Linux; scripts/test.sh builds and runs natively here"
  exit 0
fi

out="$repo/build/macho"
venv="$repo/build/macho-venv"
targets="aarch64-apple-darwin x86_64-apple-darwin"
MACOSX_DEPLOYMENT_TARGET=11.0
export MACOSX_DEPLOYMENT_TARGET
version=$(sed -n '/^\[package\]/,/^\[/s/^version *= *"\([0-9][0-9.]*\)".*/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
failures=0
passes=0

# check WHAT CONDITION...: run the test CONDITION, print ok or FAILED.
check() {
  _what=$1
  shift
  if "$@"; then
    echo "  ok      $_what"
    passes=$((passes + 1))
  else
    echo "  FAILED  $_what"
    failures=$((failures + 1))
  fi
}

# --- Tools ------------------------------------------------------------------------

step "tools"
if [ ! -x "$venv/bin/cargo-zigbuild" ] || ! "$venv/bin/python" -m ziglang version >/dev/null 2>&1; then
  say "creating $venv with ziglang and cargo-zigbuild from PyPI"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check ziglang cargo-zigbuild ||
    die "pip could not install ziglang and cargo-zigbuild"
fi
PATH="$venv/bin:$PATH"
export PATH
# Debian puts llvm-lipo only under /usr/lib/llvm-N/bin.
llvm_tools_on_path() {
  for dir in /usr/lib/llvm-*/bin; do
    if [ -x "$dir/llvm-lipo" ]; then
      PATH="$PATH:$dir"
      break
    fi
  done
  command -v llvm-objdump >/dev/null 2>&1 && command -v llvm-nm >/dev/null 2>&1 &&
    command -v llvm-lipo >/dev/null 2>&1
}
if ! llvm_tools_on_path; then
  install_debian_packages llvm || die "install llvm (llvm-objdump, llvm-nm, llvm-lipo)"
  llvm_tools_on_path || die "no llvm-objdump, llvm-nm and llvm-lipo on PATH or under /usr/lib/llvm-*/bin"
fi

# shellcheck disable=SC2086 # one word per target
ensure_rust_targets $targets || die "rustup could not add $targets"
zig_lib=$("$venv/bin/python" -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/lib
tbd="$zig_lib/libc/darwin/libSystem.tbd"
[ -f "$tbd" ] || die "zig ships no $tbd"
echo "zig $("$venv/bin/python" -m ziglang version), $(cargo-zigbuild --version), $(llvm-objdump --version | sed -n 's/^ *\(.*LLVM version.*\)/\1/p' | head -n 1)"
mkdir -p "$out"
# The symbols libSystem's stubs export (C symbols with Mach-O's underscore;
# dyld_stub_binder, which zig's lazy binding uses, without).
tr -c 'A-Za-z0-9_$.' '\n' <"$tbd" | grep -E '^[A-Za-z_]' | sort -u >"$out/libSystem.symbols"
echo "libSystem.tbd: $(wc -l <"$out/libSystem.symbols" | tr -d ' ') symbols"
# Rust's standard library asks for libiconv, for which zig ships no stub: an
# empty one (it exists on every Mac; the crate calls none of it, checked below).
mkdir -p "$out/stubs"
cat >"$out/stubs/libiconv.tbd" <<'EOF'
--- !tapi-tbd
tbd-version:     4
targets:         [ x86_64-macos, arm64-macos ]
install-name:    '/usr/lib/libiconv.2.dylib'
current-version: 7
compatibility-version: 7
...
EOF

# --- Per target ---------------------------------------------------------------------

for target in $targets; do
  case $target in
    aarch64-*) cpu=ARM64 zig_target=aarch64-macos.11.0 ;;
    x86_64-*) cpu=X86_64 zig_target=x86_64-macos.11.0 ;;
  esac
  built="$cargo_target/$target/release"
  tool="$cargo_target/$target/tool/triton-shm"
  dylib="$built/libtriton_shm.dylib"
  dir="$out/$target"
  rm -rf "$dir"
  mkdir -p "$dir"

  step "$target: build (cargo zigbuild, MACOSX_DEPLOYMENT_TARGET=$MACOSX_DEPLOYMENT_TARGET)"
  echo "(rustc's warning that xcrun is missing is expected here: zig brings the SDK's stubs)"
  # The tool first, as the CMake package builds it: its profile has its own
  # directory (see cmake/cargo-build.sh).
  sh cmake/cargo-build.sh tool --cargo cargo-zigbuild --target "$target" \
    --target-dir "$cargo_target" || die "cargo zigbuild of the tool for $target failed"
  # The library, and the system libraries its static library needs.
  native=$(sh cmake/cargo-build.sh library --cargo cargo-zigbuild --native-static-libs \
    --target "$target" --target-dir "$cargo_target") ||
    die "cargo zigbuild of the library for $target failed, or it reported no native-static-libs"

  step "$target: the dylib"
  llvm-objdump --macho --private-headers "$dylib" >"$dir/headers.txt"
  llvm-objdump --macho --dylibs-used "$dylib" | sed 1d >"$dir/dylibs.txt"
  id=$(awk '/cmd LC_ID_DYLIB/ { on = 1 } on && /name/ { print $2; exit }' "$dir/headers.txt")
  current=$(awk '/cmd LC_ID_DYLIB/ { on = 1 } on && /current version/ { print $3; exit }' "$dir/headers.txt")
  compat=$(awk '/cmd LC_ID_DYLIB/ { on = 1 } on && /compatibility version/ { print $3; exit }' "$dir/headers.txt")
  minos=$(awk '/cmd LC_BUILD_VERSION/ { on = 1 } on && /minos/ { print $2; exit }' "$dir/headers.txt")
  cputype=$(llvm-objdump --macho --private-header "$dylib" | awk 'NR == 3 { print $2 }')
  sizeofcmds=$(llvm-objdump --macho --private-header "$dylib" | awk 'NR == 3 { print $7 }')
  first_section=$(awk '/sectname __text/ { on = 1 } on && /^ *offset/ { print $2; exit }' "$dir/headers.txt")
  # The 64-bit Mach-O header is 32 bytes; the load commands follow it.
  headroom=$((first_section - 32 - sizeofcmds))
  echo "  install name $id, current $current, compatibility $compat, minos $minos, $cputype,"
  echo "  $headroom bytes free after the load commands; loads: $(awk '{ printf "%s ", $1 }' "$dir/dylibs.txt")"
  check "install name is @rpath/libtriton_shm.$major.dylib" [ "$id" = "@rpath/libtriton_shm.$major.dylib" ]
  check "current version is the package version $version" [ "$current" = "$version" ]
  check "compatibility version is $major.$minor.0" [ "$compat" = "$major.$minor.0" ]
  check "minimum macOS is $MACOSX_DEPLOYMENT_TARGET" [ "$minos" = "$MACOSX_DEPLOYMENT_TARGET" ]
  check "CPU type is $cpu" [ "$cputype" = "$cpu" ]
  # zig's linker pads by its own rule and ignores -headerpad_max_install_names
  # (build.rs passes it for ld64); enough room to rewrite the install name to
  # any path (MAXPATHLEN, 1024 bytes) is what install_name_tool needs.
  check "at least 1024 bytes after the load commands (install_name_tool)" [ "$headroom" -ge 1024 ]
  check "loads only system libraries from /usr/lib" \
    sh -c '! grep -v -e "^[[:space:]]*/usr/lib/" -e "^[[:space:]]*$2 " "$1"' sh "$dir/dylibs.txt" "$id"

  step "$target: undefined symbols against zig's libSystem.tbd"
  check "libtriton_shm.a calls nothing of libiconv (whose stub is empty)" \
    sh -c '! llvm-nm -u "$1" 2>/dev/null | grep -q iconv' sh "$built/libtriton_shm.a"
  for binary in "$dylib" "$tool"; do
    llvm-nm -u "$binary" | sort -u >"$dir/undefined.txt"
    unknown=$(grep -vxF -f "$out/libSystem.symbols" "$dir/undefined.txt")
    if [ -n "$unknown" ]; then
      printf '%s\n' "$unknown" | head -n 20
    fi
    check "$(basename "$binary"): all $(wc -l <"$dir/undefined.txt" | tr -d ' ') undefined symbols are in libSystem" \
      [ -z "$unknown" ]
  done
  check "the tool's minimum macOS is $MACOSX_DEPLOYMENT_TARGET" sh -c \
    'llvm-objdump --macho --private-headers "$1" | grep -q "minos $2\$"' sh "$tool" "$MACOSX_DEPLOYMENT_TARGET"

  step "$target: exports"
  check "every header function is exported" env NM=llvm-nm scripts/check-exports.sh \
    --allow-extra "zig's linker ignores -exported_symbols_list; ld64 on a Mac exports the header's functions only" \
    "$dylib"

  step "$target: the CTest harness, compiled with zig cc -target $zig_target"
  warnings="-Wall -Wextra -Wpedantic -Werror"
  n=0
  # ctest/abi/: the layout pinned by static assertions (layout.c and
  # layout.cpp: compiling for the target is the check), the sized structs,
  # and the program compiled against the 0.1.0 header.
  for source in ctest/*.c ctest/*.cpp ctest/gates/*.c ctest/abi/*.c ctest/abi/*.cpp; do
    name=$(basename "$source")
    name=${name%.*}
    case $source in
      *.cpp) compiler="python-zig c++" std=-std=c++17 ;;
      *) compiler="python-zig cc" std=-std=c11 ;;
    esac
    case $source in
      ctest/abi/*.cpp) name=abi_${name}_cpp ;;
      ctest/abi/*) name=abi_$name ;;
    esac
    if [ "$name" = static_link ]; then
      # The static library alone, with the system libraries rustc named
      # (libiconv from the stub above).
      # shellcheck disable=SC2086 # word splitting of flags is intended
      check "$source links against libtriton_shm.a ($native)" \
        $compiler -target "$zig_target" $std $warnings -Iinclude -Ictest "$source" \
        "$built/libtriton_shm.a" -L"$out/stubs" $native -o "$dir/$name"
      check "$name does not load libtriton_shm" \
        sh -c '[ -f "$1" ] && ! llvm-objdump --macho --dylibs-used "$1" | grep -q libtriton_shm' sh "$dir/$name"
    else
      # shellcheck disable=SC2086
      check "$source links against the dylib" \
        $compiler -target "$zig_target" $std $warnings -Iinclude -Ictest "$source" \
        -L"$built" -ltriton_shm -Wl,-rpath,@loader_path -o "$dir/$name"
    fi
    n=$((n + 1))
  done
  # The demo scripts/install.sh runs, with the flags examples/CMakeLists.txt gives it.
  # shellcheck disable=SC2086
  check "examples/demo.c links against the dylib" \
    python-zig cc -target "$zig_target" -std=c11 -D_POSIX_C_SOURCE=200809L $warnings -Iinclude \
    examples/demo.c -L"$built" -ltriton_shm -Wl,-rpath,@loader_path -o "$dir/demo"
  n=$((n + 1))
  check "test_names loads @rpath/libtriton_shm.$major.dylib (compatibility $major.$minor.0)" sh -c \
    'llvm-objdump --macho --dylibs-used "$1" | grep -q "@rpath/libtriton_shm.$2.dylib (compatibility version $3"' \
    sh "$dir/test_names" "$major" "$major.$minor.0"
  for source in ctest/header_compile/*; do
    case $source in
      *.cpp) set -- "python-zig c++" c++11 c++17 ;;
      *) set -- "python-zig cc" c99 c11 ;;
    esac
    compiler=$1
    shift
    case $source in *hpp_*) set -- c++17 ;; esac
    for std in "$@"; do
      # shellcheck disable=SC2086
      check "$source compiles as $std" \
        $compiler -target "$zig_target" -std="$std" $warnings -Iinclude -c "$source" \
        -o "$dir/$(basename "$source").$std.o"
      n=$((n + 1))
    done
  done
  echo "  $n sources"
done

# --- Universal ---------------------------------------------------------------------

step "universal dylib (llvm-lipo, as the CMake package does for several architectures)"
llvm-lipo -create "$cargo_target"/aarch64-apple-darwin/release/libtriton_shm.dylib \
  "$cargo_target"/x86_64-apple-darwin/release/libtriton_shm.dylib -output "$out/libtriton_shm.universal.dylib"
archs=$(llvm-lipo -archs "$out/libtriton_shm.universal.dylib")
echo "  architectures: $archs"
# shellcheck disable=SC2086 # one architecture per line
check "the universal dylib holds arm64 and x86_64" \
  [ "$(printf '%s\n' $archs | sort | tr '\n' ' ')" = "arm64 x86_64 " ]

# --- The CMake package's Apple branch -------------------------------------------------

step "the CMake package's Apple branch, with zig as the compiler"
ensure_cmake
cm="$out/cmake"
rm -rf "$cm"
mkdir -p "$cm/bin" "$cm/sdk"
# zig as the C and C++ compiler; CMake's -arch flags become zig's -target.
for lang in cc c++; do
  cat >"$cm/bin/zig-$lang" <<EOF
#!/bin/sh
arch=
skip=
for arg do
  shift
  if [ -n "\$skip" ]; then
    [ "\$skip" = arch ] && arch=\$arg
    skip=
    continue
  fi
  case \$arg in
    -arch) skip=arch ;;
    -isysroot) skip=sysroot ;;
    -mmacosx-version-min=*) ;;
    *) set -- "\$@" "\$arg" ;;
  esac
done
case \$arch in x86_64) target=x86_64-macos.11.0 ;; *) target=aarch64-macos.11.0 ;; esac
exec python-zig $lang -target "\$target" "\$@" -L"$out/stubs"
EOF
done
# cargo for the package: build and rustc through cargo-zigbuild.
cat >"$cm/cargo" <<'EOF'
#!/bin/sh
command=$1
shift
case $command in
  build) exec cargo-zigbuild zigbuild "$@" ;;
  rustc) exec cargo-zigbuild rustc "$@" ;;
  *) exec cargo "$command" "$@" ;;
esac
EOF
# What CMake reads from sw_vers on a Mac (its rpath support depends on it).
printf '#!/bin/sh\necho 11.0\n' >"$cm/bin/sw_vers"
# lipo -create A B -output OUT for the package: Debian's llvm-lipo cannot
# read the objects of Rust's static library (their LLVM is newer), so the
# fat file is written here: the fat header, one fat_arch per input (the CPU
# from the Rust target in its path), the inputs page-aligned.
cat >"$cm/bin/lipo" <<'EOF'
#!/usr/bin/env python3
import struct, sys
args = sys.argv[1:]
if not args or args[0] != "-create" or "-output" not in args:
    sys.exit("lipo (gate-macho): only -create IN... -output OUT")
out = args[args.index("-output") + 1]
inputs = [a for a in args[1:args.index("-output")]]
cpus = {"aarch64-apple-darwin": (0x0100000C, 0, 14), "x86_64-apple-darwin": (0x01000007, 3, 12)}
parts = []
for path in inputs:
    cpu = [v for k, v in cpus.items() if "/" + k + "/" in path]
    if len(cpu) != 1:
        sys.exit("lipo (gate-macho): no Rust target in " + path)
    parts.append((cpu[0], open(path, "rb").read()))
header = struct.pack(">II", 0xCAFEBABE, len(parts))
offset = 8 + 20 * len(parts)
entries, body = b"", b""
for (cputype, subtype, align), data in parts:
    start = -(-(offset + len(body)) // (1 << align)) * (1 << align)
    body += b"\0" * (start - offset - len(body)) + data
    entries += struct.pack(">iiIII", cputype, subtype, start, len(data), align)
open(out, "wb").write(header + entries + body)
EOF
chmod +x "$cm/bin/zig-cc" "$cm/bin/zig-c++" "$cm/cargo" "$cm/bin/sw_vers" "$cm/bin/lipo"
cat >"$cm/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR arm64)
set(CMAKE_C_COMPILER "$cm/bin/zig-cc")
set(CMAKE_CXX_COMPILER "$cm/bin/zig-c++")
set(CMAKE_OSX_DEPLOYMENT_TARGET 11.0 CACHE STRING "")
# No SDK here: zig brings its own stubs (the wrapper drops -isysroot).
set(CMAKE_OSX_SYSROOT "$cm/sdk" CACHE PATH "")
set(CMAKE_AR "$(command -v llvm-ar || command -v ar)" CACHE FILEPATH "")
set(CMAKE_RANLIB "$(command -v llvm-ranlib || command -v ranlib)" CACHE FILEPATH "")
set(CMAKE_INSTALL_NAME_TOOL "$(command -v true)" CACHE FILEPATH "")
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
EOF
PATH="$cm/bin:$PATH"
for archs in "arm64" "arm64;x86_64"; do
  label=$(printf '%s' "$archs" | tr ';' '+')
  pkg="$cm/package-$label"
  prefix="$cm/prefix-$label"
  if "$cmake" -S cmake -B "$pkg" -DCMAKE_TOOLCHAIN_FILE="$cm/toolchain.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_OSX_ARCHITECTURES="$archs" \
    -DTRITON_SHM_CARGO="$cm/cargo" -DTRITON_SHM_LIPO="$cm/bin/lipo" \
    -DTRITON_SHM_CARGO_TARGET_DIR="$cargo_target" -DCMAKE_INSTALL_PREFIX="$prefix" \
    >"$pkg.configure.log" 2>&1 &&
    "$cmake" --build "$pkg" >"$pkg.build.log" 2>&1 &&
    "$cmake" --install "$pkg" >"$pkg.install.log" 2>&1; then
    built_ok=true
  else
    built_ok=false
    tail -n 30 "$pkg".*.log
  fi
  check "CMAKE_OSX_ARCHITECTURES=$archs: the package configures, builds and installs" $built_ok
  $built_ok || continue
  grep 'triton-shm:' "$pkg.configure.log" | sed 's/^/  /'
  lib="$prefix/lib"
  check "$archs: installed libtriton_shm.$major.dylib, libtriton_shm.dylib a link to it" sh -c \
    '[ -f "$1/libtriton_shm.$2.dylib" ] && [ "$(readlink "$1/libtriton_shm.dylib")" = "libtriton_shm.$2.dylib" ]' \
    sh "$lib" "$major"
  check "$archs: the package's IMPORTED_SONAME is @rpath/libtriton_shm.$major.dylib" \
    grep -q "IMPORTED_SONAME \"@rpath/libtriton_shm.$major.dylib\"" "$lib/cmake/TritonShm/TritonShmConfig.cmake"
  check "$archs: the .pc adds the rpath" grep -q -- '-Wl,-rpath,${libdir}' "$lib/pkgconfig/triton_shm.pc"
  check "$archs: the static library's system libraries include iconv (probed from this crate)" \
    grep -q 'TritonShm_NATIVE_STATIC_LIBS "[^"]*iconv' "$lib/cmake/TritonShm/TritonShmConfig.cmake"
  # shellcheck disable=SC2046 # one architecture per word
  got=$(printf '%s\n' $(llvm-lipo -archs "$lib/libtriton_shm.$major.dylib") | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$archs" | tr ';' '\n' | sort | tr '\n' ' ')
  check "$archs: the installed dylib holds $want" [ "$got" = "$want" ]
  # The package test of the install name, on its Apple branch (llvm-otool
  # reads what otool does).
  check "$archs: cmake/tests/installed_soname.cmake passes on its Apple branch" \
    "$cmake" -DAPPLE=ON -DOTOOL="$(command -v llvm-otool || echo otool)" \
    -DTRITON_SHM_SOURCE_DIR="$repo" -DSCRATCH_DIR="$cm/scratch" -DCARGO_TARGET_DIR="$cargo_target" \
    -DGENERATOR="Unix Makefiles" -DPACKAGE_BUILD_DIR="$pkg" -DPREFIX="$prefix" \
    -P cmake/tests/installed_soname.cmake
  check "$archs: minimum macOS of the installed dylib is 11.0" sh -c \
    'llvm-objdump --macho --arch=all --private-headers "$1" | grep -q "minos 11.0"' sh "$lib/libtriton_shm.$major.dylib"
done
# A consumer of the installed single-architecture package.
consumer="$cm/consumer"
if "$cmake" -S cmake/tests/consumers/find_package -B "$consumer" \
  -DCMAKE_TOOLCHAIN_FILE="$cm/toolchain.cmake" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_OSX_ARCHITECTURES=arm64 -DCMAKE_PREFIX_PATH="$cm/prefix-arm64" \
  >"$consumer.configure.log" 2>&1 && "$cmake" --build "$consumer" >"$consumer.build.log" 2>&1; then
  consumer_ok=true
else
  consumer_ok=false
  tail -n 30 "$consumer".*.log
fi
check "a find_package consumer builds against the installed package" $consumer_ok
if $consumer_ok; then
  check "its shared program loads @rpath/libtriton_shm.$major.dylib" sh -c \
    'llvm-objdump --macho --dylibs-used "$1" | grep -q "@rpath/libtriton_shm.$2.dylib"' \
    sh "$consumer/consumer_shared" "$major"
  check "its static program loads no libtriton_shm" sh -c \
    '[ -f "$1" ] && ! llvm-objdump --macho --dylibs-used "$1" | grep -q libtriton_shm' sh "$consumer/consumer_static"
fi

echo
echo "not checked here (only a Mac can): running the programs, ld64's exported-symbols list and"
echo "  header padding, otool and install_name_tool, Xcode's SDK, Homebrew's cmake"
if [ "$failures" -eq 0 ]; then
  echo "$script: passed: $passes checks in $(($(date +%s) - harness_start))s"
  exit 0
fi
echo "$script: FAILED: $failures of $((passes + failures)) checks in $(($(date +%s) - harness_start))s"
exit 1

// triton_shm.hpp: a small header-only C++17 wrapper over the triton-shm C API
// (triton_shm.h), for C++ hosts such as Triton's SharedMemoryManager.
//
// Errors are values, never exceptions: every fallible call returns a Status,
// and calls that also produce a value return std::pair<Status, T>, ready for
// structured bindings:
//
//   auto [status, registry] = triton_shm::Registry::Create();
//   if (!status.ok()) { LOG_ERROR << status.message(); return; }
//   status = registry.Register(key, /*owned=*/false);
//
// The wrapper itself throws nothing and catches nothing; it builds with
// -fno-exceptions. Like any code that uses std::string, it lets the standard
// library handle an allocation failure.
//
// Names are byte strings: a std::string or std::string_view may hold bytes
// that are not UTF-8. A name holding a NUL byte cannot cross the C API; the
// wrapper refuses it with TRITON_SHM_INVALID_NAME without calling the library.

#ifndef TRITON_SHM_HPP
#define TRITON_SHM_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "triton_shm.h"

namespace triton_shm {

// The outcome of a call: a status code and, for a failure, the message the
// library gave at the time (triton_shm_last_error_message), copied so that it
// survives later calls and other threads.
//
// A default-constructed Status is OK. `explicit operator bool` is true when
// the call SUCCEEDED, as for std::optional: write `if (!status)` to handle a
// failure. (The opposite of Triton's TRITONSERVER_Error*, where non-null
// means failure; prefer ok() where the reader might confuse the two.)
//
// [[nodiscard]]: a call whose Status is dropped is a compiler warning, so an
// ignored failure is visible where it happens.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;

  // A status with an explicit code and message, for hosts that report their
  // own failures through the same type.
  Status(triton_shm_status code, std::string message)
      : code_(code), message_(std::move(message)) {}

  // `code`, with the calling thread's last error message when it is a
  // failure. Call it right after the failing library call, on its thread.
  static Status FromLastError(triton_shm_status code) {
    if (code == TRITON_SHM_OK) return Status();
    return Status(code, LastErrorMessage());
  }

  bool ok() const noexcept { return code_ == TRITON_SHM_OK; }
  explicit operator bool() const noexcept { return ok(); }

  triton_shm_status code() const noexcept { return code_; }

  // The C name of the code, e.g. "TRITON_SHM_NOT_FOUND"; static storage.
  const char* code_name() const noexcept {
    return triton_shm_status_name(static_cast<std::uint32_t>(code_));
  }

  // Empty for OK; otherwise what failed, naming the original and system
  // names and any errno.
  const std::string& message() const noexcept { return message_; }

  // The calling thread's last error message, read without changing it.
  static std::string LastErrorMessage() {
    char stack[256];
    std::size_t needed = 0;
    triton_shm_status s = triton_shm_last_error_message(stack, sizeof stack, &needed);
    if (s == TRITON_SHM_OK) return std::string(stack, needed);
    if (s != TRITON_SHM_BUFFER_TOO_SMALL) return std::string();
    std::string message(needed + 1, '\0');
    if (triton_shm_last_error_message(message.data(), message.size(), &needed) !=
        TRITON_SHM_OK) {
      return std::string();
    }
    message.resize(needed);
    return message;
  }

 private:
  triton_shm_status code_ = TRITON_SHM_OK;
  std::string message_;
};

namespace detail {

// `name` as a NUL-terminated copy, or an INVALID_NAME status when it holds a
// NUL byte that the C API cannot carry.
[[nodiscard]] inline std::pair<Status, std::string> CString(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) {
    return {Status(TRITON_SHM_INVALID_NAME,
                   "invalid shared-memory name: it contains a NUL byte"),
            std::string()};
  }
  return {Status(), std::string(name)};
}

// Run `write(buf, len, &needed)`, a C function that fills a caller buffer,
// growing the buffer once if the first one is too small.
template <typename Write>
[[nodiscard]] std::pair<Status, std::string> ReadString(Write write) {
  char stack[64];
  std::size_t needed = 0;
  triton_shm_status s = write(stack, sizeof stack, &needed);
  if (s == TRITON_SHM_OK) return {Status(), std::string(stack, needed)};
  if (s != TRITON_SHM_BUFFER_TOO_SMALL) return {Status::FromLastError(s), std::string()};
  std::string out(needed + 1, '\0');
  s = write(out.data(), out.size(), &needed);
  if (s != TRITON_SHM_OK) return {Status::FromLastError(s), std::string()};
  out.resize(needed);
  return {Status(), std::move(out)};
}

}  // namespace detail

// The seed's name normalisation: strip every leading '/', replace every
// other '/' with '_', prepend one '/'. No length limit.
// Errors: TRITON_SHM_INVALID_NAME for "", "/", "///" and names holding NUL.
[[nodiscard]] inline std::pair<Status, std::string> NormalizeName(std::string_view name) {
  auto checked = detail::CString(name);
  if (!checked.first.ok()) return {std::move(checked.first), std::string()};
  const char* key = checked.second.c_str();
  return detail::ReadString([key](char* out, std::size_t len, std::size_t* written) {
    return triton_shm_normalize_name(key, out, len, written);
  });
}

// The name the default registry's (the platform's) naming policy hands the
// OS for `name`. Errors: TRITON_SHM_INVALID_NAME, TRITON_SHM_NAME_TOO_LONG.
[[nodiscard]] inline std::pair<Status, std::string> SystemName(std::string_view name) {
  auto checked = detail::CString(name);
  if (!checked.first.ok()) return {std::move(checked.first), std::string()};
  const char* key = checked.second.c_str();
  return detail::ReadString([key](char* out, std::size_t len, std::size_t* written) {
    return triton_shm_system_name(key, out, len, written);
  });
}

// The loaded library's version, "MAJOR.MINOR.PATCH".
inline std::string_view Version() noexcept { return triton_shm_version(); }

// How a Registry turns keys into system names (TRITON_SHM_NAMING_*).
enum class Naming : std::uint32_t {
  kPlatform = TRITON_SHM_NAMING_PLATFORM,
  kDarwin = TRITON_SHM_NAMING_DARWIN,
  kPosix = TRITON_SHM_NAMING_POSIX,
};

// Which tracked regions Unlink and CleanupAll remove (TRITON_SHM_UNLINK_*).
enum class UnlinkPolicy : std::uint32_t {
  kOwnedOnly = TRITON_SHM_UNLINK_OWNED_ONLY,
  kAll = TRITON_SHM_UNLINK_ALL,
  kNever = TRITON_SHM_UNLINK_NEVER,
};

// Settings for Registry::Create. `Options{Naming::kDarwin}` or
// `Options{Naming::kPosix, UnlinkPolicy::kAll}` set the policies; the other
// fields are set by name. A field left unset keeps what the C options start
// with, so Create and the C path (TRITON_SHM_OPTIONS_INIT, then
// triton_shm_registry_new) make the same registry.
struct Options {
  Options() = default;
  Options(Naming naming_policy, UnlinkPolicy unlink_policy = UnlinkPolicy::kOwnedOnly)  // NOLINT
      : naming(naming_policy), unlink(unlink_policy) {}

  // Start from triton_shm_options_from_env (the TRITON_SHM_* variables)
  // instead of triton_shm_options_init (the defaults): the host's opt-in.
  // A variable with a value the library refuses makes Create fail with a
  // message naming it.
  bool from_environment = false;
  // Unset: the starting point's (platform naming, owned-only unlinking,
  // unless from_environment chose otherwise).
  std::optional<Naming> naming;
  std::optional<UnlinkPolicy> unlink;
  // Unset: the starting point's (on).
  std::optional<bool> journal;
  std::optional<bool> reap_on_create;
  // Empty: the starting point's (triton-shm-<uid> under the temporary
  // directory, or TRITON_SHM_STATE_DIR with from_environment).
  std::string state_dir;
};

using CleanupReport = triton_shm_cleanup_report;
using Stats = triton_shm_stats;

namespace detail {

// The deleters of the wrapper's two owners. std::unique_ptr calls them only
// for a non-null handle, once, and moves them along with the handle.

// Closes a region: unmaps, releases the registry entry, unlinks as the
// policy says. A failure here is reported only through the log callback.
struct RegionCloser {
  void operator()(triton_shm_region* region) const noexcept {
    (void)triton_shm_region_close(region);
  }
};

// Frees a registry, after cleanup-all unless `cleanup` was turned off. A
// failed unlink here is reported only through the log callback.
struct RegistryDestroyer {
  bool cleanup = true;
  void operator()(triton_shm_registry* registry) const noexcept {
    if (cleanup) (void)triton_shm_registry_cleanup_all(registry, nullptr);
    triton_shm_registry_free(registry);
  }
};

}  // namespace detail

// An open, mapped region (triton_shm_region): from Registry::OpenRegion (a
// client's region, not owned) or Registry::CreateRegion (owned).
//
// Movable, not copyable: a std::unique_ptr whose deleter closes the region.
// The destructor, and move assignment over a region, close it: unmap, and
// unlink the object if this process created it (or the unlink policy says
// so). Close() does the same and reports the status. An empty Region
// (default-constructed, moved from, released, closed, or from a failed
// open) owns nothing.
class Region {
 public:
  Region() noexcept = default;
  // Take ownership of `handle` from triton_shm_region_open/_create.
  explicit Region(triton_shm_region* handle) noexcept : handle_(handle) {}

  // Unmap (triton_shm_region_unmap), then release the registry entry and
  // unlink as the policy says (triton_shm_region_close). When the unmap
  // fails, nothing changed: the region stays open, mapped and owned by this
  // object, and Close() may be called again. Once the unmap succeeded the
  // region is empty whatever the rest reports. Errors: TRITON_SHM_OS_ERROR
  // when munmap failed (the region is kept); TRITON_SHM_OS_ERROR /
  // TRITON_SHM_PERMISSION_DENIED when the unlink failed (the region is gone,
  // its entry stays tracked for Registry::CleanupAll).
  Status Close() {
    if (!handle_) return Status();
    triton_shm_status unmapped = triton_shm_region_unmap(handle_.get());
    if (unmapped != TRITON_SHM_OK) return Status::FromLastError(unmapped);
    return Status::FromLastError(triton_shm_region_close(handle_.release()));
  }

  // The byte at the offset the region was opened at; nullptr when empty.
  void* data() const noexcept { return triton_shm_region_data(handle_.get()); }
  // The size asked for; 0 when empty.
  std::size_t size() const noexcept { return triton_shm_region_size(handle_.get()); }

  // The name of the object actually opened (under the darwin policy, possibly
  // "//key", the Python client's spelling).
  [[nodiscard]] std::pair<Status, std::string> SystemName() const {
    triton_shm_region* handle = handle_.get();
    return detail::ReadString([handle](char* out, std::size_t len, std::size_t* written) {
      return triton_shm_region_system_name(handle, out, len, written);
    });
  }
  // The key the region was opened or created with.
  [[nodiscard]] std::pair<Status, std::string> Key() const {
    triton_shm_region* handle = handle_.get();
    return detail::ReadString([handle](char* out, std::size_t len, std::size_t* written) {
      return triton_shm_region_key(handle, out, len, written);
    });
  }

  triton_shm_region* get() const noexcept { return handle_.get(); }
  // Give up ownership without closing: the caller closes the returned
  // region with triton_shm_region_close.
  triton_shm_region* release() noexcept { return handle_.release(); }
  bool empty() const noexcept { return !handle_; }

 private:
  std::unique_ptr<triton_shm_region, detail::RegionCloser> handle_;
};

// A client's region mapped for the caller (triton_shm_mapping), from
// Registry::MapClientRegion: the library keeps nothing of it, so it can live
// inside the caller's own table entry and outlive the registry.
//
// Movable, not copyable. The destructor, and move assignment over a mapping,
// unmap it; Close() does the same and reports the status. An empty Mapping
// (default-constructed, moved from, closed, or from a failed map) holds
// nothing.
class Mapping {
 public:
  Mapping() noexcept = default;
  // Take ownership of what triton_shm_mapping_open wrote.
  explicit Mapping(const triton_shm_mapping& mapping) noexcept : mapping_(mapping) {}
  Mapping(Mapping&& other) noexcept : mapping_(other.mapping_) { other.mapping_ = {}; }
  Mapping& operator=(Mapping&& other) noexcept {
    if (this != &other) {
      (void)triton_shm_mapping_close(&mapping_);
      mapping_ = other.mapping_;
      other.mapping_ = {};
    }
    return *this;
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (mapping_.base != nullptr) (void)triton_shm_mapping_close(&mapping_);
  }

  // Unmap (triton_shm_mapping_close). When munmap fails
  // (TRITON_SHM_OS_ERROR) nothing changed: the mapping is kept and Close()
  // may be called again.
  Status Close() { return Status::FromLastError(triton_shm_mapping_close(&mapping_)); }

  // The byte at the offset asked for; nullptr when empty.
  void* data() const noexcept { return mapping_.data; }
  // The C struct, still owned by this object.
  const triton_shm_mapping& get() const noexcept { return mapping_; }
  bool empty() const noexcept { return mapping_.base == nullptr; }

 private:
  triton_shm_mapping mapping_{};
};

// An owned triton_shm_registry: one per SharedMemoryManager.
//
// Movable, not copyable: a std::unique_ptr whose deleter, unless told
// otherwise, runs cleanup-all (unlinking what the unlink policy says) and
// then frees the registry; a failed unlink there is reported only through
// the log callback. set_cleanup_on_destroy(false) keeps the regions (the
// registry is still freed); release() hands the C registry to the caller
// with neither. A move carries the cleanup setting along; move assignment
// first destroys the registry assigned over, as its destructor would.
//
// An empty Registry (default-constructed, moved from, released, or from a
// failed Create) owns nothing: its calls return TRITON_SHM_NULL_ARGUMENT,
// Count() is 0 and Contains() is false.
class Registry {
 public:
  Registry() noexcept = default;

  // A new registry with `options`. Errors: TRITON_SHM_INVALID_ARGUMENT for a
  // policy value the library does not know; the Registry is then empty.
  [[nodiscard]] static std::pair<Status, Registry> Create(const Options& options = Options()) {
    triton_shm_options opts;
    triton_shm_status s = options.from_environment
                              ? triton_shm_options_from_env(&opts, sizeof opts)
                              : TRITON_SHM_OPTIONS_INIT(&opts);
    if (s != TRITON_SHM_OK) return {Status::FromLastError(s), Registry()};
    if (options.naming) opts.naming_policy = static_cast<std::uint32_t>(*options.naming);
    if (options.unlink) opts.unlink_policy = static_cast<std::uint32_t>(*options.unlink);
    if (options.journal) opts.journal = *options.journal ? 1 : 0;
    if (options.reap_on_create) opts.reap_on_create = *options.reap_on_create ? 1 : 0;
    if (!options.state_dir.empty()) {
      if (options.state_dir.find('\0') != std::string::npos) {
        return {Status(TRITON_SHM_INVALID_ARGUMENT, "state_dir contains a NUL byte"), Registry()};
      }
      opts.state_dir = options.state_dir.c_str();
    }
    triton_shm_registry* handle = nullptr;
    s = triton_shm_registry_new(&opts, &handle);
    if (s != TRITON_SHM_OK) return {Status::FromLastError(s), Registry()};
    return {Status(), Registry(handle)};
  }

  // Take ownership of `handle` from triton_shm_registry_new (or nullptr).
  explicit Registry(triton_shm_registry* handle) noexcept : handle_(handle) {}

  // Track `name`; `owned` says this process created the region, so it is
  // ours to unlink. Registering the same name again is OK and keeps the
  // first `owned`. Errors: TRITON_SHM_INVALID_NAME, TRITON_SHM_NAME_TOO_LONG,
  // TRITON_SHM_NAME_COLLISION (the message names both keys).
  Status Register(std::string_view name, bool owned) {
    auto checked = detail::CString(name);
    if (!checked.first.ok()) return std::move(checked.first);
    return Status::FromLastError(
        triton_shm_registry_register(handle_.get(), checked.second.c_str(), owned));
  }

  // Stop tracking `name` and shm_unlink it if the unlink policy says so; an
  // object already gone is OK. Errors: TRITON_SHM_NOT_FOUND, name errors,
  // TRITON_SHM_OS_ERROR / TRITON_SHM_PERMISSION_DENIED (the name stays
  // tracked).
  Status Unlink(std::string_view name) {
    auto checked = detail::CString(name);
    if (!checked.first.ok()) return std::move(checked.first);
    return Status::FromLastError(
        triton_shm_registry_unlink(handle_.get(), checked.second.c_str()));
  }

  // Unlink every region this process registered, as the unlink policy says.
  // `report` (optional) receives the counts, on failure too. Errors:
  // TRITON_SHM_OS_ERROR when an unlink failed (those entries stay tracked).
  Status CleanupAll(CleanupReport* report = nullptr) {
    return Status::FromLastError(
        triton_shm_registry_cleanup_all_sized(handle_.get(), report, sizeof(CleanupReport)));
  }

  // The name this registry's naming policy hands the OS for `name`.
  [[nodiscard]] std::pair<Status, std::string> SystemName(std::string_view name) const {
    auto checked = detail::CString(name);
    if (!checked.first.ok()) return {std::move(checked.first), std::string()};
    const char* key = checked.second.c_str();
    triton_shm_registry* handle = handle_.get();
    return detail::ReadString([handle, key](char* out, std::size_t len, std::size_t* written) {
      return triton_shm_registry_system_name(handle, key, out, len, written);
    });
  }

  // Open and map `byte_size` bytes at `offset` of the region a client created
  // under `key` (tracked as not owned). See triton_shm_region_open for every
  // status: TRITON_SHM_OUT_OF_BOUNDS, TRITON_SHM_NOT_FOUND,
  // TRITON_SHM_RESERVED_NAME, TRITON_SHM_NAME_COLLISION, name errors, ...
  [[nodiscard]] std::pair<Status, Region> OpenRegion(std::string_view key, std::size_t offset,
                                                     std::size_t byte_size) {
    return Open(key, offset, byte_size, 0);
  }

  // OpenRegion without tracking (TRITON_SHM_OPEN_UNTRACKED): the region gets
  // no entry in this registry, so it is not counted (but its mapped bytes
  // are), never refused as a collision and never unlinked through it;
  // closing it only unmaps it. For a server that keeps its own table of the
  // regions it opened and unlinks none of them.
  [[nodiscard]] std::pair<Status, Region> OpenUntrackedRegion(std::string_view key,
                                                              std::size_t offset,
                                                              std::size_t byte_size) {
    return Open(key, offset, byte_size, TRITON_SHM_OPEN_UNTRACKED);
  }

  // Map `byte_size` bytes at `offset` of the region a client created under
  // `key`, checked and found as OpenUntrackedRegion does, into a Mapping the
  // library keeps nothing of (not even its mapped bytes): the cheapest
  // registration, for a server with its own table. See
  // triton_shm_mapping_open for every status.
  [[nodiscard]] std::pair<Status, Mapping> MapClientRegion(std::string_view key,
                                                           std::size_t offset,
                                                           std::size_t byte_size) {
    auto checked = detail::CString(key);
    if (!checked.first.ok()) return {std::move(checked.first), Mapping()};
    triton_shm_mapping mapping{};
    triton_shm_status s = triton_shm_mapping_open(handle_.get(), checked.second.c_str(), offset,
                                                  byte_size, 0, &mapping);
    if (s != TRITON_SHM_OK) return {Status::FromLastError(s), Mapping()};
    return {Status(), Mapping(mapping)};
  }

  // Create and map a new region of `byte_size` bytes under `key` (owned:
  // closing it unlinks it). Errors include TRITON_SHM_ALREADY_EXISTS (the
  // existing object is left untouched); see triton_shm_region_create.
  [[nodiscard]] std::pair<Status, Region> CreateRegion(std::string_view key,
                                                       std::size_t byte_size) {
    auto checked = detail::CString(key);
    if (!checked.first.ok()) return {std::move(checked.first), Region()};
    triton_shm_region* region = nullptr;
    triton_shm_status s =
        triton_shm_region_create(handle_.get(), checked.second.c_str(), byte_size, 0, &region);
    if (s != TRITON_SHM_OK) return {Status::FromLastError(s), Region()};
    return {Status(), Region(region)};
  }

  // This registry's statistics; all zero for an empty Registry.
  Stats GetStats() const noexcept {
    Stats stats{};
    if (triton_shm_registry_stats_sized(handle_.get(), &stats, sizeof stats) != TRITON_SHM_OK) {
      stats = Stats{};
    }
    return stats;
  }

  // The statistics as one line for logs.
  std::string StatsLine() const {
    Stats stats = GetStats();
    return detail::ReadString([&stats](char* out, std::size_t len, std::size_t* written) {
             return triton_shm_stats_format_sized(&stats, sizeof stats, out, len, written);
           })
        .second;
  }

  // Number of tracked regions; 0 for an empty Registry.
  std::size_t Count() const noexcept {
    std::size_t n = 0;
    return triton_shm_registry_count(handle_.get(), &n) == TRITON_SHM_OK ? n : 0;
  }

  // Whether `name` itself is tracked (another spelling of the same object
  // does not count); false for invalid names and an empty Registry.
  bool Contains(std::string_view name) const {
    if (name.find('\0') != std::string_view::npos) return false;
    std::string key(name);
    bool tracked = false;
    return triton_shm_registry_contains(handle_.get(), key.c_str(), &tracked) ==
               TRITON_SHM_OK &&
           tracked;
  }

  // Whether the destructor (and move assignment) run cleanup-all before
  // freeing. Default true.
  void set_cleanup_on_destroy(bool cleanup) noexcept { handle_.get_deleter().cleanup = cleanup; }
  bool cleanup_on_destroy() const noexcept { return handle_.get_deleter().cleanup; }

  // The C registry, still owned by this object.
  triton_shm_registry* get() const noexcept { return handle_.get(); }

  // Give up ownership without cleanup or free: the caller now owns the
  // returned registry and frees it with triton_shm_registry_free.
  triton_shm_registry* release() noexcept { return handle_.release(); }

  bool empty() const noexcept { return !handle_; }

 private:
  std::pair<Status, Region> Open(std::string_view key, std::size_t offset, std::size_t byte_size,
                                 std::uint32_t flags) {
    auto checked = detail::CString(key);
    if (!checked.first.ok()) return {std::move(checked.first), Region()};
    triton_shm_region* region = nullptr;
    triton_shm_status s = triton_shm_region_open(handle_.get(), checked.second.c_str(), offset,
                                                 byte_size, flags, &region);
    if (s != TRITON_SHM_OK) return {Status::FromLastError(s), Region()};
    return {Status(), Region(region)};
  }

  std::unique_ptr<triton_shm_registry, detail::RegistryDestroyer> handle_;
};

}  // namespace triton_shm

#endif  // TRITON_SHM_HPP

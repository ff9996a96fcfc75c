// The C++ wrapper triton_shm.hpp: Status semantics, the name functions,
// Registry's factory, RAII cleanup, moves, and the two ways to opt out of
// cleanup. Real shared-memory objects are named per pid.

#include <triton_shm.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

namespace {

int failures = 0;

#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

#define EXPECT_CODE(status, expected)                                          \
  do {                                                                         \
    const triton_shm::Status& s_ = (status);                                   \
    if (s_.code() != (expected)) {                                             \
      std::fprintf(stderr, "%s:%d: %s is %s, expected %s; message: \"%s\"\n",  \
                   __FILE__, __LINE__, #status, s_.code_name(),                \
                   triton_shm_status_name(expected), s_.message().c_str());    \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

std::string Key(const char* tag) {
  return "/w" + std::to_string(static_cast<long>(getpid())) + "_" + tag;
}

bool Create(const std::string& name) {
  int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    std::perror(("shm_open " + name).c_str());
    return false;
  }
  close(fd);
  return true;
}

bool Exists(const std::string& name) {
  int fd = shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  close(fd);
  return true;
}

void Remove(const std::string& name) { shm_unlink(name.c_str()); }

static_assert(!std::is_copy_constructible_v<triton_shm::Registry>);
static_assert(!std::is_copy_assignable_v<triton_shm::Registry>);
static_assert(std::is_nothrow_move_constructible_v<triton_shm::Registry>);
static_assert(std::is_nothrow_move_assignable_v<triton_shm::Registry>);
static_assert(!std::is_copy_constructible_v<triton_shm::Region>);
static_assert(!std::is_copy_assignable_v<triton_shm::Region>);
static_assert(std::is_nothrow_move_constructible_v<triton_shm::Region>);
static_assert(std::is_nothrow_move_assignable_v<triton_shm::Region>);
static_assert(!std::is_convertible_v<triton_shm::Status, bool>, "operator bool is explicit");

void StatusIsOkByDefaultAndTrueWhenOk() {
  triton_shm::Status ok;
  EXPECT(ok.ok());
  EXPECT(static_cast<bool>(ok));
  EXPECT(ok.code() == TRITON_SHM_OK);
  EXPECT(ok.message().empty());
  EXPECT(std::string(ok.code_name()) == "TRITON_SHM_OK");

  triton_shm::Status failed(TRITON_SHM_NOT_FOUND, "missing");
  EXPECT(!failed.ok());
  EXPECT(!failed);
  EXPECT(failed.message() == "missing");
  EXPECT(std::string(failed.code_name()) == "TRITON_SHM_NOT_FOUND");
}

void StatusKeepsTheMessageOfItsFailure() {
  auto [created, registry] = triton_shm::Registry::Create({triton_shm::Naming::kDarwin});
  EXPECT_CODE(created, TRITON_SHM_OK);
  triton_shm::Status failed = registry.Unlink("/not_tracked_here");
  EXPECT_CODE(failed, TRITON_SHM_NOT_FOUND);
  EXPECT(failed.message().find("/not_tracked_here") != std::string::npos);
  // A later success clears the library's last error, not the copy.
  EXPECT(registry.Register("/now_tracked", false).ok());
  EXPECT(triton_shm::Status::LastErrorMessage().empty());
  EXPECT(failed.message().find("/not_tracked_here") != std::string::npos);
}

void NamesAreByteStrings() {
  auto [s1, seed] = triton_shm::NormalizeName("///multiple///slashes///");
  EXPECT(s1.ok());
  EXPECT(seed == "/multiple___slashes___");

  auto [s2, bytes] = triton_shm::NormalizeName(std::string("/caf\xe9/\xff"));
  EXPECT(s2.ok());
  EXPECT(bytes == std::string("/caf\xe9_\xff"));

  // Longer than the wrapper's first buffer: the retry path.
  std::string long_name = "/" + std::string(300, 'q');
  auto [s3, long_out] = triton_shm::NormalizeName(long_name);
  EXPECT(s3.ok());
  EXPECT(long_out == long_name);

  auto [s4, empty] = triton_shm::NormalizeName("///");
  EXPECT_CODE(s4, TRITON_SHM_INVALID_NAME);
  EXPECT(empty.empty());
  EXPECT(!s4.message().empty());

  // A NUL byte cannot cross the C API: refused, not truncated to "/a".
  auto [s5, nul] = triton_shm::NormalizeName(std::string_view("/a\0b", 4));
  EXPECT_CODE(s5, TRITON_SHM_INVALID_NAME);
  EXPECT(nul.empty());

  auto [s6, system] = triton_shm::SystemName("/plain");
  EXPECT(s6.ok());
  EXPECT(system == "/plain");
  auto [s7, too_long] = triton_shm::SystemName("/" + std::string(400, 'x'));
  EXPECT_CODE(s7, TRITON_SHM_NAME_TOO_LONG);

  EXPECT(triton_shm::Version() == TRITON_SHM_VERSION_STRING);
}

void CreateRefusesUnknownPolicies() {
  triton_shm::Options bad;
  bad.unlink = static_cast<triton_shm::UnlinkPolicy>(1000);
  auto [status, registry] = triton_shm::Registry::Create(bad);
  EXPECT_CODE(status, TRITON_SHM_INVALID_ARGUMENT);
  EXPECT(status.message().find("unlink_policy") != std::string::npos);
  EXPECT(registry.empty());
  // An empty registry reports NULL_ARGUMENT and counts nothing.
  EXPECT_CODE(registry.Register("/x", true), TRITON_SHM_NULL_ARGUMENT);
  EXPECT(registry.Count() == 0);
  EXPECT(!registry.Contains("/x"));
}

// Create with default Options makes the registry the C path makes
// (TRITON_SHM_OPTIONS_INIT, then triton_shm_registry_new): neither reads
// TRITON_SHM_NAMING, and Create overwrites nothing the C options carry.
// Opting in with from_environment reads it.
void CreateAgreesWithTheCPath() {
  // "/a/b": darwin maps it to "/a_b", posix refuses the inner '/'.
  setenv("TRITON_SHM_NAMING", "darwin", 1);
  triton_shm_options opts;
  EXPECT(TRITON_SHM_OPTIONS_INIT(&opts) == TRITON_SHM_OK);
  triton_shm_registry* c_registry = nullptr;
  EXPECT(triton_shm_registry_new(&opts, &c_registry) == TRITON_SHM_OK);
  char c_name[64];
  triton_shm_status c_status =
      triton_shm_registry_system_name(c_registry, "/a/b", c_name, sizeof c_name, nullptr);
  triton_shm_registry_free(c_registry);

  auto [status, registry] = triton_shm::Registry::Create();
  EXPECT(status.ok());
  auto [cpp_status, cpp_name] = registry.SystemName("/a/b");
  EXPECT(cpp_status.code() == c_status);
  if (c_status == TRITON_SHM_OK) EXPECT(cpp_name == c_name);

  triton_shm::Options from_env;
  from_env.from_environment = true;
  auto [env_status, env_registry] = triton_shm::Registry::Create(from_env);
  EXPECT(env_status.ok());
  auto [darwin_status, darwin_name] = env_registry.SystemName("/a/b");
  EXPECT(darwin_status.ok());
  EXPECT(darwin_name == "/a_b");

  // A field set in Options wins over the environment.
  from_env.naming = triton_shm::Naming::kPosix;
  auto [posix_status, posix_registry] = triton_shm::Registry::Create(from_env);
  EXPECT(posix_status.ok());
  EXPECT_CODE(posix_registry.SystemName("/a/b").first, TRITON_SHM_INVALID_NAME);

  // A refused value fails Create only where the host opted in.
  setenv("TRITON_SHM_NAMING", "windows", 1);
  from_env.naming.reset();
  auto [bad_status, bad_registry] = triton_shm::Registry::Create(from_env);
  EXPECT_CODE(bad_status, TRITON_SHM_INVALID_ARGUMENT);
  EXPECT(bad_status.message().find("TRITON_SHM_NAMING") != std::string::npos);
  EXPECT(bad_registry.empty());
  EXPECT(triton_shm::Registry::Create().first.ok());
  unsetenv("TRITON_SHM_NAMING");
}

void RegistryTracksAndRefusesCollisions() {
  auto [status, registry] = triton_shm::Registry::Create({triton_shm::Naming::kDarwin});
  EXPECT(status.ok());
  const std::string nested = "/k" + std::to_string(getpid()) + "/b";
  const std::string flat = "/k" + std::to_string(getpid()) + "_b";
  EXPECT(registry.Register(nested, true).ok());
  EXPECT(registry.Register(nested, true).ok());
  triton_shm::Status collision = registry.Register(flat, false);
  EXPECT_CODE(collision, TRITON_SHM_NAME_COLLISION);
  EXPECT(collision.message().find(nested) != std::string::npos);
  EXPECT(collision.message().find(flat) != std::string::npos);
  EXPECT(registry.Contains(nested));
  EXPECT(!registry.Contains(flat));
  EXPECT(registry.Count() == 1);
  auto [s, system] = registry.SystemName(nested);
  EXPECT(s.ok() && system == flat);
  EXPECT_CODE(registry.Register(std::string_view("/a\0b", 4), true), TRITON_SHM_INVALID_NAME);
  EXPECT(!registry.Contains(std::string_view("/k\0", 3)));
}

void DestructorUnlinksOwnedRegions() {
  const std::string owned = Key("own"), client = Key("client");
  if (!Create(owned) || !Create(client)) {
    ++failures;
    return;
  }
  {
    auto [status, registry] = triton_shm::Registry::Create();
    EXPECT(status.ok());
    EXPECT(registry.Register(owned, true).ok());
    EXPECT(registry.Register(client, false).ok());
    EXPECT(Exists(owned));
  }
  EXPECT(!Exists(owned));
  EXPECT(Exists(client));
  Remove(owned);
  Remove(client);
}

void CleanupAllReports() {
  const std::string a = Key("ca"), b = Key("cb");
  if (!Create(a) || !Create(b)) {
    ++failures;
    return;
  }
  auto [status, registry] = triton_shm::Registry::Create({triton_shm::Naming::kPlatform,
                                                          triton_shm::UnlinkPolicy::kAll});
  EXPECT(status.ok());
  EXPECT(registry.Register(a, false).ok());
  EXPECT(registry.Register(b, true).ok());
  triton_shm::CleanupReport report{};
  EXPECT(registry.CleanupAll(&report).ok());
  EXPECT(report.unlinked == 2);
  EXPECT(!Exists(a) && !Exists(b));
  EXPECT(registry.CleanupAll().ok());
  EXPECT_CODE(registry.Unlink(a), TRITON_SHM_NOT_FOUND);
  Remove(a);
  Remove(b);
}

void MovesTransferOwnership() {
  const std::string first = Key("m1"), second = Key("m2");
  if (!Create(first) || !Create(second)) {
    ++failures;
    return;
  }
  auto [s1, one] = triton_shm::Registry::Create();
  auto [s2, two] = triton_shm::Registry::Create();
  EXPECT(s1.ok() && s2.ok());
  EXPECT(one.Register(first, true).ok());
  EXPECT(two.Register(second, true).ok());

  triton_shm::Registry moved(std::move(one));
  EXPECT(one.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT(moved.Contains(first));
  EXPECT_CODE(one.Unlink(first), TRITON_SHM_NULL_ARGUMENT);

  // Assigning over a registry destroys it first: its owned region goes.
  moved = std::move(two);
  EXPECT(!Exists(first));
  EXPECT(Exists(second));
  EXPECT(moved.Contains(second));
  EXPECT(!moved.Contains(first));
  EXPECT(moved.Unlink(second).ok());
  EXPECT(!Exists(second));
  Remove(first);
  Remove(second);
}

void OptingOutOfCleanupKeepsRegions() {
  const std::string kept = Key("kept"), released = Key("rel");
  if (!Create(kept) || !Create(released)) {
    ++failures;
    return;
  }
  {
    auto [status, registry] = triton_shm::Registry::Create();
    EXPECT(status.ok());
    EXPECT(registry.cleanup_on_destroy());
    EXPECT(registry.Register(kept, true).ok());
    registry.set_cleanup_on_destroy(false);
  }
  EXPECT(Exists(kept));

  triton_shm_registry* raw = nullptr;
  {
    auto [status, registry] = triton_shm::Registry::Create();
    EXPECT(status.ok());
    EXPECT(registry.Register(released, true).ok());
    raw = registry.release();
    EXPECT(registry.empty());
  }
  EXPECT(Exists(released));
  // The released registry still works through the C API, and is ours to free.
  bool tracked = false;
  EXPECT(triton_shm_registry_contains(raw, released.c_str(), &tracked) == TRITON_SHM_OK);
  EXPECT(tracked);
  EXPECT(triton_shm_registry_cleanup_all(raw, nullptr) == TRITON_SHM_OK);
  EXPECT(!Exists(released));
  triton_shm_registry_free(raw);

  // Adopting a C registry: the wrapper cleans it up. (A name of its own:
  // `kept` is still claimed by the first registry's live journal, and a
  // name two live owners claim is left alone.)
  const std::string adopted_key = Key("adopt");
  EXPECT(Create(adopted_key));
  triton_shm_registry* adopted_raw = nullptr;
  EXPECT(triton_shm_registry_new(nullptr, &adopted_raw) == TRITON_SHM_OK);
  {
    triton_shm::Registry adopted(adopted_raw);
    EXPECT(adopted.get() == adopted_raw);
    EXPECT(adopted.Register(adopted_key, true).ok());
  }
  EXPECT(!Exists(adopted_key));
  EXPECT(Exists(kept));
  Remove(adopted_key);
  Remove(kept);
  Remove(released);
}

// A moved-from Region is empty: no data, no size, its calls refuse with
// NULL_ARGUMENT, and closing it does nothing to the region that moved on.
void MovedFromRegionIsEmpty() {
  auto [created, registry] = triton_shm::Registry::Create();
  EXPECT_CODE(created, TRITON_SHM_OK);
  const std::string key = Key("mvr");
  auto [made, region] = registry.CreateRegion(key, 64);
  EXPECT_CODE(made, TRITON_SHM_OK);
  triton_shm_region* raw = region.get();

  triton_shm::Region moved(std::move(region));
  // NOLINTNEXTLINE(bugprone-use-after-move): the moved-from state is specified
  EXPECT(region.empty() && region.get() == nullptr);
  EXPECT(region.data() == nullptr && region.size() == 0);
  EXPECT_CODE(region.Key().first, TRITON_SHM_NULL_ARGUMENT);
  EXPECT_CODE(region.Close(), TRITON_SHM_OK);
  EXPECT(moved.get() == raw && moved.size() == 64);
  EXPECT(Exists(key));
  EXPECT(registry.Count() == 1);
  EXPECT_CODE(moved.Close(), TRITON_SHM_OK);
  EXPECT(!Exists(key));
  Remove(key);
}

// Assigning a Region over another closes the one assigned over (an owned
// one is unlinked) and leaves the source empty.
void MoveAssigningARegionClosesTheOldOne() {
  auto [created, registry] = triton_shm::Registry::Create();
  EXPECT_CODE(created, TRITON_SHM_OK);
  const std::string old_key = Key("mvold"), new_key = Key("mvnew");
  auto [s1, target] = registry.CreateRegion(old_key, 16);
  auto [s2, source] = registry.CreateRegion(new_key, 32);
  EXPECT_CODE(s1, TRITON_SHM_OK);
  EXPECT_CODE(s2, TRITON_SHM_OK);

  target = std::move(source);
  EXPECT(!Exists(old_key));
  EXPECT(Exists(new_key));
  EXPECT(source.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT(target.size() == 32);
  EXPECT(target.Key().second == new_key);
  EXPECT(registry.Count() == 1);
  EXPECT_CODE(target.Close(), TRITON_SHM_OK);
  EXPECT(!Exists(new_key));
  Remove(old_key);
  Remove(new_key);
}

// Close() unmaps first and then closes: a region the host already unmapped
// through the C API closes normally, and an owned one is unlinked.
void CloseAfterTheHostUnmappedTheRegion() {
  auto [created, registry] = triton_shm::Registry::Create();
  EXPECT_CODE(created, TRITON_SHM_OK);
  const std::string key = Key("unm");
  auto [made, region] = registry.CreateRegion(key, 64);
  EXPECT_CODE(made, TRITON_SHM_OK);
  EXPECT(triton_shm_region_unmap(region.get()) == TRITON_SHM_OK);
  EXPECT(region.data() == nullptr);
  EXPECT(!region.empty());
  EXPECT(registry.GetStats().mapped_bytes == 0);
  EXPECT(registry.Count() == 1);
  EXPECT_CODE(region.Close(), TRITON_SHM_OK);
  EXPECT(region.empty());
  EXPECT(registry.Count() == 0);
  EXPECT(!Exists(key));
  Remove(key);
}

// release() hands the C region over unclosed; the caller closes it.
void ReleasedRegionIsTheCallersToClose() {
  auto [created, registry] = triton_shm::Registry::Create();
  EXPECT_CODE(created, TRITON_SHM_OK);
  const std::string key = Key("relr");
  triton_shm_region* raw = nullptr;
  {
    auto [made, region] = registry.CreateRegion(key, 8);
    EXPECT_CODE(made, TRITON_SHM_OK);
    raw = region.release();
    EXPECT(region.empty());
  }
  EXPECT(raw != nullptr);
  EXPECT(Exists(key));
  EXPECT(triton_shm_region_size(raw) == 8);
  EXPECT(triton_shm_region_close(raw) == TRITON_SHM_OK);
  EXPECT(!Exists(key));
  Remove(key);
}

// The cleanup setting travels with the registry: moved (constructed or
// assigned) into another object, a registry told to keep its regions still
// keeps them.
void MovesCarryTheCleanupSetting() {
  const std::string kept = Key("mvk"), kept_too = Key("mvk2");
  if (!Create(kept) || !Create(kept_too)) {
    ++failures;
    return;
  }
  {
    auto [status, registry] = triton_shm::Registry::Create();
    EXPECT(status.ok());
    EXPECT(registry.Register(kept, true).ok());
    registry.set_cleanup_on_destroy(false);
    triton_shm::Registry moved(std::move(registry));
    EXPECT(!moved.cleanup_on_destroy());
  }
  EXPECT(Exists(kept));
  {
    auto [status, registry] = triton_shm::Registry::Create();
    EXPECT(status.ok());
    EXPECT(registry.Register(kept_too, true).ok());
    registry.set_cleanup_on_destroy(false);
    triton_shm::Registry target;
    EXPECT(target.cleanup_on_destroy());
    target = std::move(registry);
    EXPECT(!target.cleanup_on_destroy());
    EXPECT(target.Contains(kept_too));
  }
  EXPECT(Exists(kept_too));
  Remove(kept);
  Remove(kept_too);
}

}  // namespace

void RegionsMapCloseAndCount() {
  auto [created, registry] = triton_shm::Registry::Create({triton_shm::Naming::kDarwin});
  EXPECT_CODE(created, TRITON_SHM_OK);
  const std::string key = "/w" + std::to_string(static_cast<long>(getpid())) + "/region";
  // 64 KiB: a multiple of every page size, so exact on macOS too.
  const std::size_t size = 64 * 1024;
  auto [made, owned] = registry.CreateRegion(key, size);
  EXPECT_CODE(made, TRITON_SHM_OK);
  EXPECT(owned.size() == size && owned.data() != nullptr);
  if (owned.data() != nullptr) std::memcpy(static_cast<char*>(owned.data()) + 4097, "xyz", 3);

  auto [opened, view] = registry.OpenRegion(key, 4097, 3);
  EXPECT_CODE(opened, TRITON_SHM_OK);
  EXPECT(view.data() != nullptr && std::memcmp(view.data(), "xyz", 3) == 0);
  EXPECT(view.Key().second == key);
  EXPECT(view.SystemName().second == "/" + key.substr(1, key.find('/', 1) - 1) + "_region");
  EXPECT(registry.GetStats().mapped_bytes == size + 3);
  EXPECT(registry.StatsLine().find("tracked=1 mapped_bytes=65539") == 0);

  // Untracked: mapped bytes counted, no entry.
  auto [untracked, peek] = registry.OpenUntrackedRegion(key, 4097, 3);
  EXPECT_CODE(untracked, TRITON_SHM_OK);
  EXPECT(peek.data() != nullptr && std::memcmp(peek.data(), "xyz", 3) == 0);
  EXPECT(peek.Key().second == key);
  EXPECT(registry.GetStats().mapped_bytes == size + 6);
  EXPECT(registry.Count() == 1);
  EXPECT_CODE(peek.Close(), TRITON_SHM_OK);
  EXPECT(registry.GetStats().mapped_bytes == size + 3);

  // A mapping: nothing counted, nothing tracked; moves carry it, closing
  // twice does nothing, and the destructor unmaps.
  {
    auto [mapped, mapping] = registry.MapClientRegion(key, 4097, 3);
    EXPECT_CODE(mapped, TRITON_SHM_OK);
    EXPECT(mapping.data() != nullptr && std::memcmp(mapping.data(), "xyz", 3) == 0);
    EXPECT(mapping.get().length == 4097 % 4096 + 3 || mapping.get().length == 4097 + 3);
    EXPECT(registry.GetStats().mapped_bytes == size + 3);
    EXPECT(registry.Count() == 1);
    triton_shm::Mapping moved_mapping = std::move(mapping);
    EXPECT(mapping.empty() && mapping.data() == nullptr && !moved_mapping.empty());
    EXPECT_CODE(moved_mapping.Close(), TRITON_SHM_OK);
    EXPECT(moved_mapping.empty());
    EXPECT_CODE(moved_mapping.Close(), TRITON_SHM_OK);
    auto [kept, in_scope] = registry.MapClientRegion(key, 0, 1);
    EXPECT_CODE(kept, TRITON_SHM_OK);
    auto [past, no_mapping] = registry.MapClientRegion(key, size, 1);
    EXPECT_CODE(past, TRITON_SHM_OUT_OF_BOUNDS);
    EXPECT(no_mapping.empty());
  }

  auto [refused, none] = registry.OpenRegion(key, size, 1);
  EXPECT_CODE(refused, TRITON_SHM_OUT_OF_BOUNDS);
  EXPECT(none.empty());
  auto [again, other] = registry.CreateRegion(key, 16);
  EXPECT_CODE(again, TRITON_SHM_ALREADY_EXISTS);

  triton_shm::Region moved = std::move(view);
  EXPECT(view.empty() && !moved.empty());
  EXPECT_CODE(moved.Close(), TRITON_SHM_OK);
  EXPECT(moved.empty());
  EXPECT_CODE(owned.Close(), TRITON_SHM_OK);
  EXPECT(registry.Count() == 0);
  auto [gone, nothing] = registry.OpenRegion(key, 0, 1);
  EXPECT_CODE(gone, TRITON_SHM_NOT_FOUND);
}

int main() {
  StatusIsOkByDefaultAndTrueWhenOk();
  RegionsMapCloseAndCount();
  StatusKeepsTheMessageOfItsFailure();
  NamesAreByteStrings();
  CreateRefusesUnknownPolicies();
  CreateAgreesWithTheCPath();
  RegistryTracksAndRefusesCollisions();
  DestructorUnlinksOwnedRegions();
  CleanupAllReports();
  MovesTransferOwnership();
  OptingOutOfCleanupKeepsRegions();
  MovedFromRegionIsEmpty();
  MoveAssigningARegionClosesTheOldOne();
  CloseAfterTheHostUnmappedTheRegion();
  ReleasedRegionIsTheCallersToClose();
  MovesCarryTheCleanupSetting();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  return 0;
}

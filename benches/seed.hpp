// The seed design's macOS code, written out in C++ as the baseline the
// library is measured against (see /BENCHMARKS.md for what each benchmark
// times). Kept in its own translation unit so the compiler cannot fold it
// into the timing loops, just as the library sits behind its C ABI.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>

namespace seed {

// The seed's NormalizeSharedMemoryName, step by step as the seed describes
// it: remove every leading slash, replace the remaining slashes with
// underscores, prepend one slash.
std::string NormalizeSharedMemoryName(const std::string& name);

// The same transformation in one pass into a reserved string: not the
// seed's code, a tuned C++ reference shown for comparison only.
std::string NormalizeOnePass(const std::string& name);

// The seed's tracking of created regions: a std::set of normalised names
// behind a std::mutex.
class Registry {
 public:
  // RegisterSharedMemoryRegion: normalise the key and track it.
  void Register(const std::string& key);
  // UnlinkSharedMemoryRegion: stop tracking and shm_unlink; false if the
  // key was not tracked.
  bool Unlink(const std::string& key);
  // CleanupAllSharedMemoryRegions: shm_unlink every tracked name; returns
  // how many unlinks succeeded.
  std::size_t CleanupAll();
  std::size_t Size();

 private:
  std::mutex mu_;
  std::set<std::string> created_;
};

}  // namespace seed

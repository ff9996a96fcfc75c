#include "seed.hpp"

#include <sys/mman.h>

#include <algorithm>

namespace seed {

std::string NormalizeSharedMemoryName(const std::string& name) {
  // Remove all leading slashes.
  const std::string::size_type first = name.find_first_not_of('/');
  std::string rest = first == std::string::npos ? std::string() : name.substr(first);
  // Replace any internal slashes with underscores.
  std::replace(rest.begin(), rest.end(), '/', '_');
  // Prepend a single slash.
  return "/" + rest;
}

std::string NormalizeOnePass(const std::string& name) {
  std::string::size_type i = name.find_first_not_of('/');
  if (i == std::string::npos) i = name.size();
  std::string out;
  out.reserve(name.size() - i + 1);
  out.push_back('/');
  for (; i < name.size(); ++i) out.push_back(name[i] == '/' ? '_' : name[i]);
  return out;
}

void Registry::Register(const std::string& key) {
  std::string normalized = NormalizeSharedMemoryName(key);
  std::lock_guard<std::mutex> lock(mu_);
  created_.insert(std::move(normalized));
}

bool Registry::Unlink(const std::string& key) {
  const std::string normalized = NormalizeSharedMemoryName(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (created_.erase(normalized) == 0) return false;
  }
  shm_unlink(normalized.c_str());
  return true;
}

std::size_t Registry::CleanupAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t unlinked = 0;
  for (const std::string& name : created_) {
    if (shm_unlink(name.c_str()) == 0) ++unlinked;
  }
  created_.clear();
  return unlinked;
}

std::size_t Registry::Size() {
  std::lock_guard<std::mutex> lock(mu_);
  return created_.size();
}

}  // namespace seed

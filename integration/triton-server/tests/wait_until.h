// Waiting, with a deadline, for another thread to reach a step.
#pragma once

#include <chrono>
#include <thread>

// Polls `reached` until it is true (true) or `limit` has passed (false): a
// thread that failed before the step would otherwise leave the caller
// waiting until CTest's timeout.
template <typename Reached>
bool
WaitUntil(Reached reached, std::chrono::seconds limit = std::chrono::seconds(30))
{
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!reached()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// TRITONSERVER_Error and the stand-in logger, for the tests: what the
// server's core library and logging give a real build.
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "triton/common/logging.h"
#include "triton/core/tritonserver.h"

struct TRITONSERVER_Error {
  TRITONSERVER_Error_Code code;
  std::string message;
};

extern "C" {

TRITONSERVER_Error*
TRITONSERVER_ErrorNew(TRITONSERVER_Error_Code code, const char* msg)
{
  return new TRITONSERVER_Error{code, msg != nullptr ? msg : ""};
}

void
TRITONSERVER_ErrorDelete(TRITONSERVER_Error* error)
{
  delete error;
}

TRITONSERVER_Error_Code
TRITONSERVER_ErrorCode(TRITONSERVER_Error* error)
{
  return error->code;
}

const char*
TRITONSERVER_ErrorCodeString(TRITONSERVER_Error* error)
{
  switch (error->code) {
    case TRITONSERVER_ERROR_UNKNOWN: return "Unknown";
    case TRITONSERVER_ERROR_INTERNAL: return "Internal";
    case TRITONSERVER_ERROR_NOT_FOUND: return "Not found";
    case TRITONSERVER_ERROR_INVALID_ARG: return "Invalid argument";
    case TRITONSERVER_ERROR_UNAVAILABLE: return "Unavailable";
    case TRITONSERVER_ERROR_UNSUPPORTED: return "Unsupported";
    case TRITONSERVER_ERROR_ALREADY_EXISTS: return "Already exists";
    case TRITONSERVER_ERROR_CANCELLED: return "Cancelled";
  }
  return "<invalid code>";
}

const char*
TRITONSERVER_ErrorMessage(TRITONSERVER_Error* error)
{
  return error->message.c_str();
}

}  // extern "C"

namespace triton { namespace common { namespace standin {
namespace {
std::mutex log_mu;
std::vector<std::string> log_lines;
// Core reads its verbose level without a lock (a plain load of the
// logger's level); an atomic load here costs the same and keeps the tests'
// threads free of data races.
std::atomic<int> verbose_level{1};
}  // namespace

LogLine::~LogLine()
{
  std::lock_guard<std::mutex> lock(log_mu);
  log_lines.push_back(std::string(severity_) + " " + text_.str());
}

bool
VerboseIsOn(int level)
{
  return verbose_level.load(std::memory_order_relaxed) >= level;
}

void
SetVerboseLevel(int level)
{
  verbose_level.store(level, std::memory_order_relaxed);
}

std::vector<std::string>
LogLines()
{
  std::lock_guard<std::mutex> lock(log_mu);
  return log_lines;
}

void
ClearLog()
{
  std::lock_guard<std::mutex> lock(log_mu);
  log_lines.clear();
}

}}}  // namespace triton::common::standin

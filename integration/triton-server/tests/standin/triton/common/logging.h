// Stand-in for triton-inference-server/common's include/triton/common/logging.h:
// the LOG_* stream macros the drop-in manager writes to. Every line is kept
// in memory (standin::LogLines) so that tests can read what was logged;
// verbose lines are kept only at the verbose level standin::SetVerboseLevel
// chose (default 1, as a server started with --log-verbose=1).
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace triton { namespace common { namespace standin {

class LogLine {
 public:
  explicit LogLine(const char* severity) : severity_(severity) {}
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  ~LogLine();
  std::ostream& stream() { return text_; }

 private:
  const char* severity_;
  std::ostringstream text_;
};

bool VerboseIsOn(int level);
void SetVerboseLevel(int level);
// Every line so far, as "<SEVERITY> <text>".
std::vector<std::string> LogLines();
void ClearLog();

}}}  // namespace triton::common::standin

#define LOG_INFO triton::common::standin::LogLine("INFO").stream()
#define LOG_WARNING triton::common::standin::LogLine("WARNING").stream()
#define LOG_ERROR triton::common::standin::LogLine("ERROR").stream()
#define LOG_VERBOSE_IS_ON(L) (triton::common::standin::VerboseIsOn(L))
#define LOG_VERBOSE(L)                              \
  if (triton::common::standin::VerboseIsOn(L))      \
  triton::common::standin::LogLine("VERBOSE").stream()

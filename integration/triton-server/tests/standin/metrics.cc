// The custom-metrics API of Triton's core (TRITONSERVER_Metric*), as the
// drop-in calls it, recording every call for the tests. Behaves as core's
// documentation says: a counter refuses a negative increment and Set, a
// metric made twice with the same labels is one metric, and a server built
// without metrics answers UNSUPPORTED.
#include "metrics.h"

#include <mutex>
#include <sstream>

#include "triton/core/tritonserver.h"

struct TRITONSERVER_Parameter {
  std::string name;
  std::string value;
};

struct TRITONSERVER_MetricFamily {
  std::string name;
  TRITONSERVER_MetricKind kind;
};

struct TRITONSERVER_Metric {
  TRITONSERVER_MetricFamily* family;
  std::string labels;
};

namespace {
std::mutex mu;
bool supported = true;
std::vector<std::string> calls;
// (family, labels) -> value
std::map<std::pair<std::string, std::string>, double> values;

TRITONSERVER_Error*
Refuse(const std::string& why)
{
  return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, why.c_str());
}
}  // namespace

extern "C" {

TRITONSERVER_Parameter*
TRITONSERVER_ParameterNew(
    const char* name, const TRITONSERVER_ParameterType type, const void* value)
{
  if (type != TRITONSERVER_PARAMETER_STRING) {
    return nullptr;
  }
  return new TRITONSERVER_Parameter{name, static_cast<const char*>(value)};
}

void
TRITONSERVER_ParameterDelete(TRITONSERVER_Parameter* parameter)
{
  delete parameter;
}

TRITONSERVER_Error*
TRITONSERVER_MetricFamilyNew(
    TRITONSERVER_MetricFamily** family, const TRITONSERVER_MetricKind kind,
    const char* name, const char* description)
{
  std::lock_guard<std::mutex> lock(mu);
  calls.push_back(
      std::string("MetricFamilyNew ") + name +
      (kind == TRITONSERVER_METRIC_KIND_COUNTER ? " counter" : " gauge"));
  if (!supported) {
    return TRITONSERVER_ErrorNew(
        TRITONSERVER_ERROR_UNSUPPORTED, "metrics not supported");
  }
  *family = new TRITONSERVER_MetricFamily{name, kind};
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricFamilyDelete(TRITONSERVER_MetricFamily* family)
{
  delete family;
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricNew(
    TRITONSERVER_Metric** metric, TRITONSERVER_MetricFamily* family,
    const TRITONSERVER_Parameter** labels, const uint64_t label_count)
{
  std::map<std::string, std::string> sorted;
  for (uint64_t i = 0; i < label_count; i++) {
    if (labels[i] == nullptr) {
      return Refuse("a label is NULL");
    }
    sorted[labels[i]->name] = labels[i]->value;
  }
  std::string text;
  for (const auto& label : sorted) {
    text += (text.empty() ? "" : ",") + label.first + "=" + label.second;
  }
  std::lock_guard<std::mutex> lock(mu);
  calls.push_back("MetricNew " + family->name + " {" + text + "}");
  values.emplace(std::make_pair(family->name, text), 0.0);
  *metric = new TRITONSERVER_Metric{family, text};
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricDelete(TRITONSERVER_Metric* metric)
{
  delete metric;
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricValue(TRITONSERVER_Metric* metric, double* value)
{
  std::lock_guard<std::mutex> lock(mu);
  *value = values[{metric->family->name, metric->labels}];
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricIncrement(TRITONSERVER_Metric* metric, double value)
{
  std::lock_guard<std::mutex> lock(mu);
  std::ostringstream line;
  line << "MetricIncrement " << metric->family->name << " {" << metric->labels
       << "} " << value;
  calls.push_back(line.str());
  if (metric->family->kind == TRITONSERVER_METRIC_KIND_COUNTER && value < 0) {
    return Refuse("a counter cannot decrease");
  }
  values[{metric->family->name, metric->labels}] += value;
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricSet(TRITONSERVER_Metric* metric, double value)
{
  std::lock_guard<std::mutex> lock(mu);
  calls.push_back("MetricSet " + metric->family->name);
  if (metric->family->kind == TRITONSERVER_METRIC_KIND_COUNTER) {
    return Refuse("a counter cannot be set");
  }
  values[{metric->family->name, metric->labels}] = value;
  return nullptr;
}

}  // extern "C"

namespace triton { namespace core { namespace standin {

void
SetMetricsSupported(bool on)
{
  std::lock_guard<std::mutex> lock(mu);
  supported = on;
}

std::vector<std::string>
MetricCalls()
{
  std::lock_guard<std::mutex> lock(mu);
  return calls;
}

void
ClearMetricCalls()
{
  std::lock_guard<std::mutex> lock(mu);
  calls.clear();
}

double
MetricValue(const std::string& family, const std::string& labels)
{
  std::lock_guard<std::mutex> lock(mu);
  auto found = values.find({family, labels});
  return found == values.end() ? -1 : found->second;
}

std::vector<std::string>
Scrape()
{
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::string> lines;
  for (const auto& entry : values) {
    std::ostringstream line;
    line << entry.first.first << "{" << entry.first.second << "} "
         << entry.second;
    lines.push_back(line.str());
  }
  return lines;
}

}}}  // namespace triton::core::standin

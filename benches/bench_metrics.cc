// Core's custom-metrics API for the manager benchmark, at about the cost of
// core's own (a prometheus-cpp metric is an atomic value): an increment is
// one compare-and-swap loop on a double. The tests' stand-in
// (integration/triton-server/tests/standin/metrics.cc) records every call
// in text, which would time the recording instead of the manager.
#include <atomic>
#include <string>

#include "triton/core/tritonserver.h"

struct TRITONSERVER_Parameter {
  std::string name, value;
};
struct TRITONSERVER_MetricFamily {
  TRITONSERVER_MetricKind kind;
};
struct TRITONSERVER_Metric {
  std::atomic<double> value{0};
};

extern "C" {

TRITONSERVER_Parameter*
TRITONSERVER_ParameterNew(
    const char* name, const TRITONSERVER_ParameterType, const void* value)
{
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
    const char*, const char*)
{
  *family = new TRITONSERVER_MetricFamily{kind};
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
    TRITONSERVER_Metric** metric, TRITONSERVER_MetricFamily*,
    const TRITONSERVER_Parameter**, const uint64_t)
{
  *metric = new TRITONSERVER_Metric();
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
  *value = metric->value.load();
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricIncrement(TRITONSERVER_Metric* metric, double delta)
{
  double now = metric->value.load(std::memory_order_relaxed);
  while (!metric->value.compare_exchange_weak(now, now + delta)) {
  }
  return nullptr;
}

TRITONSERVER_Error*
TRITONSERVER_MetricSet(TRITONSERVER_Metric* metric, double value)
{
  metric->value.store(value);
  return nullptr;
}

}  // extern "C"

// The stand-in custom-metrics API's record, for the tests: every call the
// code under test made, and each metric's value.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace triton { namespace core { namespace standin {

// How TRITONSERVER_MetricFamilyNew answers: as a server with metrics, or
// UNSUPPORTED as a server built without them.
void SetMetricsSupported(bool supported);
// Every call so far, one line each: "MetricFamilyNew <name> <kind>",
// "MetricNew <family> {label=value,...}", "MetricIncrement ...", ...
std::vector<std::string> MetricCalls();
void ClearMetricCalls();
// The value of the metric of `family` with exactly these labels
// ("kind=system,reason=NOT_FOUND", labels in name order); -1 if none.
double MetricValue(const std::string& family, const std::string& labels);
// Every metric, "family{labels} value", in a scrape's order.
std::vector<std::string> Scrape();

}}}  // namespace triton::core::standin

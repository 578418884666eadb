#pragma once

// The standard process_* metrics (as the Prometheus client libraries export them), read from
// /proc/self on each scrape. Private to metrics/.

#include <prometheus/metric_family.h>

#include <vector>

namespace inferwatch::metrics {

void append_process_metrics(std::vector<prometheus::MetricFamily>& families);

}  // namespace inferwatch::metrics

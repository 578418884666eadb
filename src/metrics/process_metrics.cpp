#include "process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace inferwatch::metrics {
namespace {

void add(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
         prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter)
    metric.counter.value = value;
  else
    metric.gauge.value = value;
  out.push_back(prometheus::MetricFamily{name, help, type, {metric}});
}

double open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  double n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

void append_process_metrics(std::vector<prometheus::MetricFamily>& out) {
  // /proc/self/stat: fields after the command name (which may hold spaces) start at field 3.
  std::ifstream in("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(stat.substr(close + 2));
  std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                             std::istream_iterator<std::string>());
  if (f.size() < 22) return;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime + stime
  const double start_ticks = std::stod(f[19]);
  const double vsize = std::stod(f[20]);
  const double rss = std::stod(f[21]) * page;

  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::stod(line.substr(6));
  }
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);

  using prometheus::MetricType;
  add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      MetricType::Counter, cpu);
  add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
      rss);
  add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
      vsize);
  add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, boot_time + start_ticks / ticks);
  add(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds());
  add(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
      static_cast<double>(limit.rlim_cur));
}

}  // namespace inferwatch::metrics

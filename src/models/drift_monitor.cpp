#include <inferwatch/models/drift_monitor.hpp>

#include <inferwatch/store/drift_references.hpp>
#include <inferwatch/util/time.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <chrono>

namespace inferwatch::models {
namespace {

// A failed write is tried again after this, not in a tight loop against a full disk.
constexpr auto k_retry = std::chrono::seconds(5);

std::optional<DriftReferenceSource> source_from(std::string_view text) {
  if (text == "golden") return DriftReferenceSource::golden;
  if (text == "first_results") return DriftReferenceSource::first_results;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(DriftReferenceSource source) {
  return source == DriftReferenceSource::golden ? "golden" : "first_results";
}

boost::json::object to_json(const DriftStatus& s) {
  boost::json::value score = nullptr;
  if (s.score) {
    score = boost::json::object{
        {"value", s.score->value()}, {"labels", s.score->labels}, {"scores", s.score->scores}};
  }
  return boost::json::object{
      {"reference",
       {{"source", to_string(s.source)},
        {"results", s.reference_results},
        {"complete", s.reference_complete}}},
      {"window", {{"results", s.window_results}, {"capacity", s.window_capacity}}},
      {"score", std::move(score)},
  };
}

void add_drift(boost::json::object& described, const DriftMonitor& monitor) {
  auto* models = described.if_contains("models");
  if (!models || !models->is_array()) return;
  for (auto& m : models->as_array()) {
    auto* model = m.if_object();
    if (!model || !model->contains("name") || !model->contains("versions")) continue;
    const std::string name(model->at("name").as_string());
    for (auto& v : model->at("versions").as_array()) {
      auto* version = v.if_object();
      if (!version || !version->contains("version")) continue;
      const auto s = monitor.status(name, std::string(version->at("version").as_string()));
      (*version)["drift"] = s ? boost::json::value(to_json(*s)) : boost::json::value(nullptr);
    }
  }
}

DriftMonitor::DriftMonitor(DriftOptions options, store::DriftReferences* references)
    : m_options(options), m_references(references) {
  if (m_references) m_thread = std::thread([this] { run(); });
}

DriftMonitor::~DriftMonitor() { stop(); }

util::Result<std::vector<std::string>> DriftMonitor::restore() {
  std::vector<std::string> warnings;
  if (!m_references) return warnings;
  auto rows = m_references->load_all();
  if (!rows) return rows.error();
  std::lock_guard lock(m_mutex);
  for (const auto& row : *rows) {
    const auto source = source_from(row.source);
    boost::system::error_code ec;
    const auto json = boost::json::parse(row.histogram, ec);
    auto histogram = ec ? util::Result<DriftHistogram>(util::Error{"invalid_drift_histogram", ""})
                        : drift_histogram_from_json(json);
    if (!source || !histogram || histogram->total == 0) {
      warnings.push_back(
          fmt::format("{}@{}: the stored drift reference does not read back; the "
                      "version gathers a new one",
                      row.model, row.version));
      continue;
    }
    Entry& e = entry({row.model, row.version});
    e.source = *source;
    e.reference = *histogram;
    e.complete = true;
  }
  return warnings;
}

DriftMonitor::Entry& DriftMonitor::entry(const Key& key) {
  auto it = m_entries.find(key);
  if (it == m_entries.end()) it = m_entries.try_emplace(key, m_options.window).first;
  return it->second;
}

void DriftMonitor::set_golden_reference(const std::string& model, const std::string& version,
                                        const DriftHistogram& predictions) {
  if (predictions.total == 0) return;
  {
    std::lock_guard lock(m_mutex);
    Entry& e = entry({model, version});
    e.source = DriftReferenceSource::golden;
    e.reference = predictions;
    e.complete = true;
    m_pending.emplace_back(model, version);
  }
  m_wake.notify_one();
}

void DriftMonitor::observe(const std::string& model, const std::string& version, int label_index,
                           double score) {
  const DriftSample sample = drift_sample(label_index, score);
  bool completed = false;
  {
    std::lock_guard lock(m_mutex);
    Entry& e = entry({model, version});
    e.window.add(sample);
    if (!e.complete) {
      e.reference.add(sample);
      if (e.reference.total >= m_options.reference) {
        e.complete = completed = true;
        m_pending.emplace_back(model, version);
      }
    }
  }
  if (completed) m_wake.notify_one();
}

DriftStatus DriftMonitor::status_of(const Key& key, const Entry& e) const {
  DriftStatus s;
  s.model = key.first;
  s.version = key.second;
  s.source = e.source;
  s.reference_results = e.reference.total;
  s.reference_complete = e.complete;
  s.window_results = e.window.size();
  s.window_capacity = e.window.capacity();
  if (e.complete && e.window.full()) s.score = drift_score(e.reference, e.window.histogram());
  return s;
}

std::vector<DriftStatus> DriftMonitor::status() const {
  std::lock_guard lock(m_mutex);
  std::vector<DriftStatus> out;
  out.reserve(m_entries.size());
  for (const auto& [key, e] : m_entries) out.push_back(status_of(key, e));
  return out;
}

std::optional<DriftStatus> DriftMonitor::status(const std::string& model,
                                                const std::string& version) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_entries.find({model, version});
  if (it == m_entries.end()) return std::nullopt;
  return status_of(it->first, it->second);
}

util::Result<void> DriftMonitor::flush() {
  if (!m_references) return {};
  std::lock_guard flushing(m_flush_mutex);
  std::vector<store::DriftReferenceRow> rows;
  {
    std::lock_guard lock(m_mutex);
    for (const Key& key : m_pending) {
      const Entry& e = m_entries.at(key);
      rows.push_back(store::DriftReferenceRow{key.first, key.second,
                                              std::string(to_string(e.source)),
                                              boost::json::serialize(to_json(e.reference)),
                                              util::format_utc(std::chrono::system_clock::now())});
    }
    m_pending.clear();
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (auto saved = m_references->save(rows[i]); !saved) {
      std::lock_guard lock(m_mutex);  // keep the rest for the next flush
      for (std::size_t j = i; j < rows.size(); ++j)
        m_pending.emplace_back(rows[j].model, rows[j].version);
      return saved.error();
    }
  }
  return {};
}

void DriftMonitor::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_wake.wait(lock, [&] { return m_stopping || !m_pending.empty(); });
    if (m_stopping) break;
    lock.unlock();
    const auto flushed = flush();
    if (!flushed) {
      spdlog::warn("drift: {} (retried in {} s)", flushed.error().message, k_retry.count());
    }
    lock.lock();
    if (!flushed) m_wake.wait_for(lock, k_retry, [&] { return m_stopping; });
  }
}

void DriftMonitor::stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    m_stopping = true;
  }
  m_wake.notify_all();
  if (m_thread.joinable()) m_thread.join();
  if (const auto flushed = flush(); !flushed) spdlog::warn("drift: {}", flushed.error().message);
}

}  // namespace inferwatch::models

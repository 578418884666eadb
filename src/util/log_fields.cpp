#include <inferwatch/util/log_fields.hpp>

#include <vector>

namespace inferwatch::util {
namespace {

thread_local std::vector<LogField> t_fields;

}  // namespace

ScopedLogFields::ScopedLogFields(std::initializer_list<LogField> fields) : m_count(fields.size()) {
  t_fields.insert(t_fields.end(), fields.begin(), fields.end());
}

ScopedLogFields::~ScopedLogFields() { t_fields.resize(t_fields.size() - m_count); }

std::span<const LogField> current_log_fields() { return t_fields; }

}  // namespace inferwatch::util

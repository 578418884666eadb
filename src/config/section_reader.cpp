#include "section_reader.hpp"

#include <inferwatch/util/spelling.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace inferwatch::config {
namespace {

std::string_view type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

}  // namespace

SectionReader::SectionReader(const toml::table& table, std::string section, Loaded& out,
                             std::filesystem::path base_dir)
    : m_table(table), m_section(std::move(section)), m_out(out), m_base_dir(std::move(base_dir)) {}

std::string SectionReader::dotted(std::string_view key) const {
  return m_section + "." + std::string(key);
}

const toml::node* SectionReader::take(std::string_view key) {
  m_known.push_back(key);
  const toml::node* node = m_table.get(key);
  if (node) {
    const auto& begin = node->source().begin;
    m_out.sources.positions[dotted(key)] = {static_cast<int>(begin.line),
                                            static_cast<int>(begin.column)};
  }
  return node;
}

void SectionReader::problem(std::string_view key, const toml::node& node, std::string message) {
  const auto& begin = node.source().begin;
  m_out.problems.push_back(Problem{m_out.sources.file, static_cast<int>(begin.line),
                                   static_cast<int>(begin.column), dotted(key),
                                   std::move(message)});
}

void SectionReader::wrong_type(std::string_view key, const toml::node& node,
                               std::string_view expected) {
  problem(key, node, fmt::format("expected {}, got {}", expected, type_name(node.type())));
}

void SectionReader::read(std::string_view key, bool& out) {
  const toml::node* node = take(key);
  if (!node) return;
  if (const auto v = node->value_exact<bool>())
    out = *v;
  else
    wrong_type(key, *node, "a boolean (true or false)");
}

void SectionReader::read(std::string_view key, std::int64_t& out) {
  const toml::node* node = take(key);
  if (!node) return;
  if (const auto v = node->value_exact<std::int64_t>())
    out = *v;
  else
    wrong_type(key, *node, "an integer");
}

void SectionReader::read(std::string_view key, int& out) {
  std::int64_t wide = out;
  const std::size_t before = m_out.problems.size();
  read(key, wide);
  if (m_out.problems.size() != before) return;
  if (wide < INT32_MIN || wide > INT32_MAX) {
    problem(key, *m_table.get(key), fmt::format("{} is out of range", wide));
    return;
  }
  out = static_cast<int>(wide);
}

void SectionReader::read(std::string_view key, double& out) {
  const toml::node* node = take(key);
  if (!node) return;
  // Integers are fine where a float is wanted (`fill = 1`).
  if (const auto v = node->value<double>(); v && (node->is_floating_point() || node->is_integer()))
    out = *v;
  else
    wrong_type(key, *node, "a number");
}

void SectionReader::read(std::string_view key, std::string& out) {
  const toml::node* node = take(key);
  if (!node) return;
  if (const auto v = node->value_exact<std::string>())
    out = *v;
  else
    wrong_type(key, *node, "a string");
}

void SectionReader::read(std::string_view key, std::vector<std::string>& out) {
  const toml::node* node = take(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array) return wrong_type(key, *node, "an array of strings");
  std::vector<std::string> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto v = array->get(i)->value_exact<std::string>();
    if (!v)
      return problem(key, *array->get(i),
                     fmt::format("element {} should be a string, got {}", i + 1,
                                 type_name(array->get(i)->type())));
    values.push_back(*v);
  }
  out = std::move(values);
}

void SectionReader::read(std::string_view key, std::vector<double>& out) {
  const toml::node* node = take(key);
  if (!node) return;
  const toml::array* array = node->as_array();
  if (!array) return wrong_type(key, *node, "an array of numbers");
  std::vector<double> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node* element = array->get(i);
    if (!element->is_number()) {
      return problem(
          key, *element,
          fmt::format("element {} should be a number, got {}", i + 1, type_name(element->type())));
    }
    values.push_back(*element->value<double>());
  }
  out = std::move(values);
}

void SectionReader::read_path(std::string_view key, std::filesystem::path& out) {
  std::string text = out.string();
  const std::size_t before = m_out.problems.size();
  read(key, text);
  if (m_out.problems.size() != before || !m_table.get(key)) return;
  std::filesystem::path path(text);
  out = (path.is_relative() && !text.empty()) ? (m_base_dir / path).lexically_normal() : path;
}

void SectionReader::read_paths(std::string_view key, std::vector<std::filesystem::path>& out) {
  std::vector<std::string> texts;
  const std::size_t before = m_out.problems.size();
  read(key, texts);
  if (m_out.problems.size() != before || !m_table.get(key)) return;
  out.clear();
  for (const auto& text : texts) {
    std::filesystem::path path(text);
    out.push_back((path.is_relative() && !text.empty()) ? (m_base_dir / path).lexically_normal()
                                                        : path);
  }
}

void SectionReader::finish() {
  for (const auto& [key, node] : m_table) {
    const std::string_view name = key.str();
    if (std::find(m_known.begin(), m_known.end(), name) != m_known.end()) continue;
    std::string message = "unknown key";
    if (const auto hint = util::closest_match(name, m_known); !hint.empty()) {
      message += fmt::format(" (did you mean \"{}\"?)", hint);
    }
    const auto& begin = key.source().begin;
    m_out.problems.push_back(Problem{m_out.sources.file, static_cast<int>(begin.line),
                                     static_cast<int>(begin.column), dotted(name), message});
  }
}

std::optional<toml::table> parse_toml(std::string_view text, const std::string& file,
                                      std::vector<Problem>& problems) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    problems.push_back(Problem{file, static_cast<int>(begin.line), static_cast<int>(begin.column),
                               "", fmt::format("TOML syntax error: {}", e.description())});
    return std::nullopt;
  }
}

}  // namespace inferwatch::config

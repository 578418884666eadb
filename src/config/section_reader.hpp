#pragma once

// Reads one TOML table into struct members, recording problems instead of throwing.
// Only loader.cpp and model_manifest.cpp include this (it pulls in toml++, which is costly to
// compile).

#include <inferwatch/config/loader.hpp>

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inferwatch::config {

class SectionReader {
 public:
  SectionReader(const toml::table& table, std::string section, Loaded& out,
                std::filesystem::path base_dir);

  void read(std::string_view key, bool& out);
  void read(std::string_view key, int& out);
  void read(std::string_view key, std::int64_t& out);
  void read(std::string_view key, double& out);
  void read(std::string_view key, std::string& out);
  void read(std::string_view key, std::vector<std::string>& out);
  void read(std::string_view key, std::vector<double>& out);
  // A path; relative paths are taken from the config file's directory.
  void read_path(std::string_view key, std::filesystem::path& out);
  void read_paths(std::string_view key, std::vector<std::filesystem::path>& out);

  template <typename E>
  void read_enum(std::string_view key, E& out,
                 std::initializer_list<std::pair<std::string_view, E>> names) {
    const toml::node* node = take(key);
    if (!node) return;
    const auto text = node->value<std::string>();
    if (!text) return wrong_type(key, *node, "a string");
    std::string choices;
    for (const auto& [name, value] : names) {
      if (name == *text) {
        out = value;
        return;
      }
      choices += (choices.empty() ? "" : ", ") + std::string(name);
    }
    problem(key, *node, "\"" + *text + "\" is not one of " + choices);
  }

  // The node at `key`, marked as known; nullptr when absent.
  const toml::node* take(std::string_view key);

  // Report every key of the table that no read call asked for (with a "did you mean").
  void finish();

  void problem(std::string_view key, const toml::node& node, std::string message);
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected);
  std::string dotted(std::string_view key) const;

 private:
  const toml::table& m_table;
  std::string m_section;
  Loaded& m_out;
  std::filesystem::path m_base_dir;
  std::vector<std::string_view> m_known;
};

// The readers of tables that a daemon config and a model's model.toml share (loader.cpp), so a
// key means exactly the same in both.
// `labels`: an inline array, or a file name taken from `base_dir`.
void read_labels(SectionReader& r, Model& m, const std::filesystem::path& base_dir);
// [model] of a daemon config.
void read_model(SectionReader& r, Model& m, const std::filesystem::path& base_dir);
// `device`, `precision`, `threads`, `optimize`.
void read_model_runtime(SectionReader& r, Model& m);
void read_preprocess(SectionReader& r, Preprocess& p);
void read_postprocess(SectionReader& r, Postprocess& p);

// Parse `text` (read from `file`) as TOML, or report its syntax error into `problems` with the
// line and column toml++ gives.
std::optional<toml::table> parse_toml(std::string_view text, const std::string& file,
                                      std::vector<Problem>& problems);

}  // namespace inferwatch::config

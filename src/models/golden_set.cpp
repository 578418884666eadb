#include <inferwatch/models/golden_set.hpp>

#include <inferwatch/util/file.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <system_error>

namespace inferwatch::models {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

// Entries of `dir` sorted by name (directory order is arbitrary); errors into `problems`.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir,
                                                std::vector<std::string>& problems) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!hidden(it->path())) out.push_back(*it);
  }
  if (ec) problems.push_back(fmt::format("{}: cannot list: {}", dir.string(), ec.message()));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
  return out;
}

// Nested JSON arrays of numbers → one flat list; false when something else is in it.
bool flatten(const boost::json::value& v, std::vector<double>& out) {
  if (v.is_array()) {
    for (const auto& e : v.as_array()) {
      if (!flatten(e, out)) return false;
    }
    return true;
  }
  if (!v.is_number()) return false;
  out.push_back(v.to_number<double>());
  return std::isfinite(out.back());
}

void read_expected(const fs::path& file, GoldenSet& set) {
  auto text = util::read_file(file, 256LL * 1024 * 1024);
  if (!text) {
    set.problems.push_back(text.error().message);
    return;
  }
  std::map<std::string, GoldenImage*, std::less<>> by_name;
  for (auto& image : set.images) by_name[image.name] = &image;
  std::size_t line_no = 0;
  std::size_t begin = 0;
  while (begin < text->size()) {
    std::size_t end = text->find('\n', begin);
    if (end == std::string::npos) end = text->size();
    const std::string_view line(text->data() + begin, end - begin);
    begin = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto where = fmt::format("{}:{}", file.string(), line_no);
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(line, ec);
    const boost::json::object* o = ec ? nullptr : v.if_object();
    if (!o) {
      set.problems.push_back(fmt::format("{}: not a JSON object", where));
      continue;
    }
    const auto* name = o->if_contains("file");
    const auto* output = o->if_contains("output");
    if (!name || !name->is_string() || !output) {
      set.problems.push_back(
          fmt::format("{}: needs \"file\" (a string) and \"output\" (numbers)", where));
      continue;
    }
    const std::string_view file_name = name->as_string();
    const auto it = by_name.find(file_name);
    if (it == by_name.end()) {
      set.problems.push_back(
          fmt::format("{}: \"{}\" is not an image of the golden set", where, file_name));
      continue;
    }
    std::vector<double> values;
    if (!flatten(*output, values) || values.empty()) {
      set.problems.push_back(
          fmt::format("{}: \"output\" must be finite numbers (nested lists allowed)", where));
      continue;
    }
    if (it->second->expected) {
      set.problems.push_back(fmt::format("{}: \"{}\" appears twice", where, file_name));
      continue;
    }
    it->second->expected = std::move(values);
    ++set.expected_outputs;
  }
}

}  // namespace

GoldenSet load_golden_set(const fs::path& version_dir) {
  GoldenSet set;
  const fs::path root = version_dir / k_golden_dir;
  std::error_code ec;
  if (!fs::exists(root, ec)) return set;
  set.present = true;
  if (!fs::is_directory(root, ec)) {
    set.problems.push_back(fmt::format("{} is not a directory", root.string()));
    return set;
  }
  bool has_expected = false;
  for (const auto& entry : sorted_entries(root, set.problems)) {
    const std::string name = entry.path().filename().string();
    if (name == k_expected_file && entry.is_regular_file(ec)) {
      has_expected = true;
      continue;
    }
    if (!entry.is_directory(ec) || entry.is_symlink(ec)) {
      set.problems.push_back(
          fmt::format("{}: not in a label folder (the layout is golden/<label>/<image>)",
                      entry.path().string()));
      continue;
    }
    for (const auto& image : sorted_entries(entry.path(), set.problems)) {
      if (!image.is_regular_file(ec) || image.is_symlink(ec)) {
        set.problems.push_back(
            fmt::format("{}: not a regular file (the layout is golden/<label>/<image>)",
                        image.path().string()));
        continue;
      }
      set.images.push_back(
          GoldenImage{image.path(), name + "/" + image.path().filename().string(), name, {}});
    }
  }
  if (set.images.empty()) set.problems.push_back(fmt::format("{} holds no images", root.string()));
  if (has_expected) read_expected(root / k_expected_file, set);
  return set;
}

}  // namespace inferwatch::models

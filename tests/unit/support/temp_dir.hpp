#pragma once

// A fresh directory for one test, removed with everything in it when the TempDir goes away.
// Created with mkdtemp under $TMPDIR (or /tmp), so parallel test runs never share files.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <stdlib.h>

namespace inferwatch::test {

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    const std::filesystem::path base = (tmp && *tmp) ? tmp : "/tmp";
    std::string pattern = (base / "inferwatch-unit-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed under " + base.string());
    }
    m_path = buffer.data();
  }

  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);  // best effort: a destructor must not throw
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }

  // `name` inside this directory (not created).
  std::filesystem::path operator/(std::string_view name) const { return m_path / name; }

  // Write `bytes` to `name` (parent folders created) and return its full path.
  std::filesystem::path write(std::string_view name, std::string_view bytes) const {
    const std::filesystem::path file = m_path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
  }

 private:
  std::filesystem::path m_path;
};

}  // namespace inferwatch::test

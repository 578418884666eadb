#pragma once

// What `serve` and `scan` both set up before processing: roots, database, model.

#include <inferwatch/config/config.hpp>
#include <inferwatch/infer/model.hpp>
#include <inferwatch/store/database.hpp>
#include <inferwatch/util/result.hpp>

#include <filesystem>
#include <memory>
#include <vector>

namespace inferwatch::app {

struct DaemonParts {
  std::vector<std::filesystem::path> roots;  // absolute, existing
  std::unique_ptr<store::Database> database;
  std::unique_ptr<infer::Model> model;
};

// Create missing roots, remove crash leftovers (temp sidecars), open the database, load and warm
// up the model. Errors name what failed.
util::Result<DaemonParts> open_daemon_parts(const config::Config& config,
                                            std::vector<std::filesystem::path> roots);

}  // namespace inferwatch::app

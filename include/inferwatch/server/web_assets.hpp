#pragma once

// The review page's files (web/), compiled into the binary (cmake/WebAssets.cmake), so the page
// needs nothing on disk and nothing from the internet.

#include <span>
#include <string_view>

namespace inferwatch::server {

struct WebAsset {
  std::string_view name;   // the file name in web/, e.g. "app.js"
  std::string_view bytes;  // its content
};

std::span<const WebAsset> web_assets();

}  // namespace inferwatch::server

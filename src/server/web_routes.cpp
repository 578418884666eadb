#include "web_routes.hpp"

#include <inferwatch/server/web_assets.hpp>
#include <inferwatch/util/sha256.hpp>

#include <string>

namespace inferwatch::server {
namespace {

std::string_view content_type_of(std::string_view name) {
  const auto ends = [&](std::string_view suffix) { return name.ends_with(suffix); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

// The page's code and styles come only from this origin, so a name planted on the share that
// reaches the page as text can never run as script (a page bug that used innerHTML would still
// be stopped here). Thumbnails are blob: URLs made from fetches that carry the token.
constexpr std::string_view k_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

Response asset_response(const WebAsset& asset, const std::string& etag) {
  Response r;
  r.body = std::string(asset.bytes);
  r.content_type = std::string(content_type_of(asset.name));
  r.headers = {{"Content-Security-Policy", std::string(k_policy)},
               {"X-Content-Type-Options", "nosniff"},
               {"Referrer-Policy", "no-referrer"},
               // Revalidate every time: a new binary must not leave an old page in a browser.
               {"Cache-Control", "no-cache"},
               {"ETag", etag}};
  return r;
}

}  // namespace

void add_web_routes(Router& router) {
  for (const WebAsset& asset : web_assets()) {
    const std::string etag = "\"" + util::sha256_hex(asset.bytes).substr(0, 16) + "\"";
    const auto handler = [&asset, etag](const Request&) { return asset_response(asset, etag); };
    router.add("GET", "/" + std::string(asset.name), handler, Access::open);
    if (asset.name == "index.html") router.add("GET", "/", handler, Access::open);
  }
}

}  // namespace inferwatch::server

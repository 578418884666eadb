#include <inferwatch/server/request_target.hpp>

#include <boost/url/parse.hpp>

#include <string>

namespace inferwatch::server {

bool parse_target(std::string_view target, Request& out) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return false;
  out.path = std::string(url->path());
  for (const auto& param : url->params())
    out.query[std::string(param.key)] = std::string(param.value);
  return true;
}

}  // namespace inferwatch::server

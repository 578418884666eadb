#pragma once

// Transport-neutral request and response, so routes and handlers stay free of Boost.Beast
// (which costs ~30 s to compile per translation unit).

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace inferwatch::server {

struct Request {
  std::string method;                         // "GET", "POST", …
  std::string path;                           // percent-decoded, without the query
  std::map<std::string, std::string> query;   // decoded; the last value wins for repeated keys
  std::map<std::string, std::string> params;  // from the route pattern, e.g. {id}
  std::string bearer_token;                   // from "Authorization: Bearer …", or access_token
  std::string body;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"error": {"code": …, "message": …}} with `status` (SPEC §6).
Response error_response(unsigned status, std::string_view code, std::string_view message);

// A JSON body from already-serialized text.
Response json_response(std::string body, unsigned status = 200);

}  // namespace inferwatch::server

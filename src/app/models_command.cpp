#include <inferwatch/app/models_command.hpp>

#include <inferwatch/app/daemon_client.hpp>
#include <inferwatch/models/registry.hpp>
#include <inferwatch/server/models_api.hpp>
#include <inferwatch/server/router.hpp>
#include <inferwatch/server/version_archive.hpp>
#include <inferwatch/store/model_catalog.hpp>
#include <inferwatch/util/json_text.hpp>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cctype>
#include <future>
#include <iostream>

namespace inferwatch::app {
namespace {

namespace json = boost::json;

// Percent-encode everything but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string text_of(const json::value* v) {
  if (!v || v->is_null()) return "-";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_double()) return fmt::format("{:.4f}", v->as_double());
  return json::serialize(*v);
}

const json::value* at(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* p = &v;
  for (const auto key : path) {
    if (!p->is_object()) return nullptr;
    p = p->as_object().if_contains(key);
    if (!p) return nullptr;
  }
  return p;
}

// One model of GET /v1/models, for people.
void print_model(const json::value& m, std::ostream& out) {
  out << fmt::format("{}: {}, live {}, candidate {}\n", text_of(at(m, {"name"})),
                     text_of(at(m, {"state"})), text_of(at(m, {"live_version"})),
                     text_of(at(m, {"candidate_version"})));
  if (const auto* c = at(m, {"candidate_version"}); c && c->is_string()) {
    out << fmt::format(
        "  rollout: {} of {} files, agreement {}, error rate {}, latency ratio {}: "
        "{}\n",
        text_of(at(m, {"rollout", "counters", "files"})),
        text_of(at(m, {"rollout", "policy", "min_files"})),
        text_of(at(m, {"rollout", "agreement"})), text_of(at(m, {"rollout", "error_rate"})),
        text_of(at(m, {"rollout", "latency_ratio"})), text_of(at(m, {"judgement", "detail"})));
  }
  const auto* versions = at(m, {"versions"});
  if (!versions || !versions->is_array()) return;
  for (const auto& v : versions->as_array()) {
    std::string gate = "-";
    if (const auto* passed = at(v, {"gate", "passed"}); passed && passed->is_bool()) {
      gate = passed->as_bool() ? fmt::format("passed, accuracy {}",
                                             text_of(at(v, {"gate", "numbers", "accuracy"})))
                               : "refused:";
      if (const auto* reasons = at(v, {"gate", "reasons"}); reasons && reasons->is_array()) {
        for (const auto& r : reasons->as_array()) gate += " " + text_of(at(r, {"code"}));
      }
    }
    out << fmt::format("  {:<24} {:<12} gate {}\n", text_of(at(v, {"version"})),
                       text_of(at(v, {"state"})), gate);
  }
}

void print_transition(const json::value& reply, std::ostream& out) {
  const json::value* t = at(reply, {"transition"});
  if (!t) return;
  out << fmt::format("{}: {} → {} ({}): {}; live {}\n", text_of(at(*t, {"model"})),
                     text_of(at(*t, {"from"})), text_of(at(*t, {"to"})),
                     text_of(at(*t, {"reason"})), text_of(at(*t, {"detail"})),
                     text_of(at(*t, {"live_version"})));
}

void print_upload(const json::value& reply, std::ostream& out) {
  const json::value& v = *at(reply, {"verdict"});
  out << fmt::format("{} {}: passed the gate (accuracy {}, p99 {} ms)\n", text_of(at(v, {"name"})),
                     text_of(at(v, {"version"})), text_of(at(v, {"numbers", "accuracy"})),
                     text_of(at(v, {"numbers", "p99_ms"})));
  if (const auto* m = at(reply, {"model"}); m && m->is_object()) print_model(*m, out);
}

// A refusal or an error as the daemon put it, reasons included.
void print_error(unsigned status, const json::value& reply, const std::string& raw) {
  const json::value* e = at(reply, {"error"});
  if (!e) {
    std::cerr << fmt::format("inferwatch: the daemon answered {}: {}\n", status, raw);
    return;
  }
  std::cerr << fmt::format("inferwatch: {} ({}): {}\n", text_of(at(*e, {"code"})), status,
                           text_of(at(*e, {"message"})));
  if (const auto* reasons = at(*e, {"reasons"}); reasons && reasons->is_array()) {
    for (const auto& r : reasons->as_array()) {
      std::cerr << fmt::format("  {}: {}\n", text_of(at(r, {"code"})), text_of(at(r, {"message"})));
    }
  }
}

int fail(const util::Error& e) {
  std::cerr << fmt::format("inferwatch: {}\n", e.message);
  return 2;
}

// --offline: the same request through the same routes (server::ModelsApi), answered by a
// Registry over the database's catalog in offline mode instead of the daemon: the same JSON, the
// same statuses, so the same printing and exit codes. Changes take the catalog's lock exclusive
// (refused while a daemon holds it); a list takes none. `path` is decoded, without a query.
util::Result<HttpReply> offline_request(const config::Config& config, const std::string& action,
                                        const std::string& method, const std::string& path,
                                        std::string body) {
  if (config.model.repository.empty()) {
    return util::Error{"usage", "--offline needs model.repository in the configuration"};
  }
  if (action == "upload") {
    return util::Error{
        "usage", fmt::format("upload needs the running daemon (it gates the version); offline, "
                             "copy the directory to {}/<name>/<version> (model.toml last) and the "
                             "daemon gates it when it starts",
                             config.model.repository.string())};
  }
  std::error_code ec;
  if (!std::filesystem::exists(config.database.path, ec)) {
    return util::Error{"no_database",
                       fmt::format("no database at {} (database.path): the daemon has not run "
                                   "with this configuration yet",
                                   config.database.path.string())};
  }
  store::ModelCatalog::Options catalog_options;
  catalog_options.lock =
      action == "list" ? store::CatalogLock::none : store::CatalogLock::exclusive;
  auto catalog = store::ModelCatalog::open(config.database.path, catalog_options);
  if (!catalog) return catalog.error();

  models::Registry::Options options;
  options.repository = config.model.repository;
  options.routes = config.routes;
  options.default_model = config.model.default_model;
  options.keep_versions = config.model.keep_versions;
  options.poll = std::chrono::milliseconds(0);
  options.mode = models::Registry::Options::Mode::offline;
  // Offline nothing is loaded or gated: the daemon does both at its next start.
  models::Registry registry(
      std::move(options), **catalog,
      [](const config::ModelManifest&) -> util::Result<std::shared_ptr<models::Engine>> {
        return util::Error{"load_failed", "nothing is loaded offline"};
      },
      [](const config::ModelManifest& m, std::optional<double>) {
        models::GateVerdict v;
        v.name = m.name;
        v.version = m.version;
        v.reasons.push_back({"gate_unavailable", "nothing is gated offline"});
        return v;
      });
  if (auto started = registry.start(); !started) return started.error();
  // What GET /v1/models answers; without ModelsApi, which would clear a running daemon's
  // unfinished uploads from .staging.
  if (action == "list") return HttpReply{200, util::to_json_text(registry.describe())};

  server::Router router;  // no token: this process is the operator's own
  server::ModelsApi api(
      registry, server::ModelsApiOptions{.staging_dir = config.model.repository / ".staging"});
  api.add_routes(router);
  server::Request request;
  request.method = method;
  request.path = path;
  request.body = std::move(body);
  std::promise<server::Response> answered;
  router.handle(std::move(request), [&](server::Response r) { answered.set_value(std::move(r)); });
  server::Response response = answered.get_future().get();
  api.shutdown();
  registry.stop();
  return HttpReply{response.status, std::move(response.body)};
}

}  // namespace

int models_command(const config::Config& config, const ModelsCommandOptions& o) {
  util::Result<DaemonAddress> address = DaemonAddress{};
  if (!o.offline) address = daemon_address(config.server, o.listen);
  if (!address) return fail(address.error());
  std::string method = "POST", target, path, body, content_type = "application/json";
  if (o.action == "list") {
    method = "GET";
    target = path = "/v1/models";
  } else if (o.action == "promote") {
    target = fmt::format("/v1/models/{}/promote", encode(o.name));
    path = fmt::format("/v1/models/{}/promote", o.name);
  } else if (o.action == "rollback") {
    target = fmt::format("/v1/models/{}/rollback", encode(o.name));
    path = fmt::format("/v1/models/{}/rollback", o.name);
    json::object request;
    if (o.to_version) request["to_version"] = *o.to_version;
    if (!o.reason.empty()) request["reason"] = o.reason;
    body = json::serialize(request);
  } else if (o.action == "upload" && o.offline) {
    // refused by offline_request, before anything is packed
  } else if (o.action == "upload") {
    target = fmt::format("/v1/models/{}/versions?version={}", encode(o.name), encode(o.version));
    auto packed = server::pack_directory(o.dir);
    if (!packed) return fail(packed.error());
    if (packed->size() > static_cast<std::uint64_t>(config.server.max_body_bytes)) {
      return fail(util::Error{
          "too_large", fmt::format("{} packs to {} bytes, over server.max_body_bytes ({}): copy "
                                   "it into the model repository instead (model.toml last)",
                                   o.dir.string(), packed->size(), config.server.max_body_bytes)});
    }
    body = std::move(*packed);
    content_type = "application/gzip";
  } else {
    return fail(util::Error{"usage", fmt::format("unknown action {}", o.action)});
  }

  const auto reply = o.offline ? offline_request(config, o.action, method, path, std::move(body))
                               : http_request(*address, method, target, std::move(body),
                                              content_type, std::chrono::seconds(o.timeout_s));
  if (!reply) return fail(reply.error());
  boost::system::error_code ec;
  const json::value parsed = json::parse(reply->body, ec);
  const bool ok = reply->status >= 200 && reply->status < 300;
  if (!ok) {
    if (o.json) std::cout << reply->body << '\n';
    print_error(reply->status, ec ? json::value() : parsed, reply->body);
    if (reply->status == 401 || reply->status >= 500) return 2;
    return 1;
  }
  if (o.json || ec) {
    std::cout << reply->body << '\n';
    return 0;
  }
  if (o.action == "list") {
    const auto* models = at(parsed, {"models"});
    if (!models || !models->is_array() || models->as_array().empty()) {
      std::cout << "no models (is model.repository set?)\n";
    } else {
      for (const auto& m : models->as_array()) print_model(m, std::cout);
    }
  } else if (o.action == "upload") {
    print_upload(parsed, std::cout);
  } else {
    print_transition(parsed, std::cout);
  }
  return 0;
}

}  // namespace inferwatch::app

#pragma once

// The store module's exception boundary: what SQLiteCpp (or the standard library beneath it)
// throws inside a store call becomes a util::Error naming the call, with a code the caller can act
// on (store.hpp): `store_busy`, `store_full` or `store_failed`. Nothing thrown leaves the module.

#include <inferwatch/util/result.hpp>

#include <SQLiteCpp/Exception.h>

#include <exception>
#include <string_view>
#include <type_traits>
#include <utility>

struct sqlite3;

namespace inferwatch::store {

// The error for SQLite result code `code` (primary or extended) raised while doing `what`.
// `system_errno` is the OS error behind an I/O failure (sqlite3_system_errno), 0 if none: a write
// refused for the disk quota is an I/O error to SQLite, but full to the caller.
util::Error store_error(std::string_view what, int code, int system_errno,
                        std::string_view message);

// The error for what `e` says, thrown on connection `db` (may be null) while doing `what`.
util::Error store_error(std::string_view what, const SQLite::Exception& e, sqlite3* db);

// Run `body` and return its value, or the error it threw while doing `what` (e.g. "recording 12
// file sightings"). A transaction `body` opened and did not commit has been rolled back by then.
template <typename Body>
auto guard(sqlite3* db, std::string_view what, Body&& body)
    -> util::Result<std::invoke_result_t<Body&>> {
  try {
    if constexpr (std::is_void_v<std::invoke_result_t<Body&>>) {
      body();
      return {};
    } else {
      return body();
    }
  } catch (const SQLite::Exception& e) {
    return store_error(what, e, db);
  } catch (const std::exception& e) {
    return store_error(what, 0, 0, e.what());
  }
}

}  // namespace inferwatch::store

#include "store_error.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <cerrno>

namespace inferwatch::store {

util::Error store_error(std::string_view what, int code, int system_errno,
                        std::string_view message) {
  const char* kind = "store_failed";
  switch (code & 0xff) {  // the primary code; extended codes keep it in the low byte
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      kind = "store_busy";
      break;
    case SQLITE_FULL:
      kind = "store_full";
      break;
    case SQLITE_IOERR:
      if (system_errno == ENOSPC || system_errno == EDQUOT) kind = "store_full";
      break;
    default:
      break;
  }
  return util::Error{kind, fmt::format("{}: {}", what, message)};
}

util::Error store_error(std::string_view what, const SQLite::Exception& e, sqlite3* db) {
  // The extended code is only meaningful when the exception came from a connection's call.
  const int code = e.getExtendedErrorCode() > 0 ? e.getExtendedErrorCode() : e.getErrorCode();
  const int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  return store_error(what, code, system_errno, e.what());
}

}  // namespace inferwatch::store

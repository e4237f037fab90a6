// Statement: a prepared SQLite statement with RAII finalization and typed binding, and
// Transaction: BEGIN IMMEDIATE ... COMMIT, rolled back unless committed. Internal to
// store/. One thread per connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace orch::store {

// Maps an SQLite result code to a Status code: BUSY/LOCKED -> Busy (another process
// held the lock past the timeout), FULL -> Resource (disk or quota full), IOERR/
// CANTOPEN/NOLFS -> IOError, CORRUPT/NOTADB -> Corruption, anything else -> Error.
// The message is prefixed with "sqlite: ".
Status SqliteStatus(int rc, const std::string& message);

// Statements of a connection whose cache is enabled are kept prepared when destroyed
// (reset, bindings cleared) and reused by the next Statement of the same SQL text.
// DropStatementCache finalizes them: call it before closing such a connection. The Store
// does both for its connection.
void EnableStatementCache(sqlite3* db);
void DropStatementCache(sqlite3* db);

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool prepared() const { return stmt_ != nullptr; }
  const std::string& error() const { return error_; }
  // The last error as a Status whose code says whose fault it is (SqliteStatus).
  Status status(const std::string& what) const { return SqliteStatus(rc_, what + ": " + error_); }

  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Statement& Bind(int i, double v);
  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, std::optional<int> v);
  Statement& BindNull(int i);
  Statement& BindBlob(int i, std::string_view bytes);

  // SQLITE_ROW -> true, SQLITE_DONE -> false; errors set error() and return false.
  bool Step();
  // The read loop of every query: row(*this) for each row, then Ok, or the first SQLite
  // error naming `what` (an error is never taken for "no more rows").
  template <typename RowFn>
  Status ForEachRow(const std::string& what, RowFn&& row) {
    while (Step()) row(*this);
    return error_.empty() ? Status::Ok() : status(what);
  }
  // One step: true (a row), false (no row), or the SQLite error naming `what`.
  StatusOr<bool> StepOne(const std::string& what) {
    if (Step()) return true;
    if (!error_.empty()) return status(what);
    return false;
  }
  // Runs to completion; error status on failure.
  Status Run();
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;
  std::optional<int> OptInt(int col) const;
  // The column's bytes as a blob; valid until the next Step, Reset or destruction.
  std::string_view Blob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;  // its connection caches statements
  std::string key_;      // then: its SQL text, the cache's key
  std::string error_;
  int rc_ = SQLITE_OK;  // result code of the last failure
};

class Transaction {
 public:
  explicit Transaction(sqlite3* db);  // BEGIN IMMEDIATE: takes the write lock now
  ~Transaction();                     // rolls back unless committed
  const Status& begin_status() const { return begin_; }
  Status Commit();

 private:
  sqlite3* db_;
  Status begin_;
  bool done_ = false;
};

Status Exec(sqlite3* db, const std::string& sql);

}  // namespace orch::store

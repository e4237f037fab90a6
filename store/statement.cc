#include "store/statement.h"

#include <mutex>
#include <string>
#include <unordered_map>

namespace orch::store {

Status SqliteStatus(int rc, const std::string& message) {
  std::string m = "sqlite: " + message;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(m + " (the database stayed locked by another process)");
    case SQLITE_FULL: return Status::Resource(m);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_NOLFS: return Status::IOError(m);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Corruption(m);
    default: return Status::Error(m);
  }
}

namespace {

// Prepared statements not in use, by connection and SQL text, for connections that asked
// for them (EnableStatementCache). Compiling a statement costs more than running it here:
// an UPDATE of trials compiles the study-count triggers with it (store/study_counts.h),
// ~55 us each time, and a claim and a finish run about ten statements.
constexpr size_t kMaxCachedPerConnection = 256;
struct StatementCache {
  std::mutex mu;
  std::unordered_map<sqlite3*, std::unordered_multimap<std::string, sqlite3_stmt*>> idle;
};
StatementCache& Cache() {
  static StatementCache* cache = new StatementCache;  // never destroyed (used at exit)
  return *cache;
}

// A cached statement of `db` for `sql`, or nullptr (none idle, or `db` not caching).
sqlite3_stmt* TakeCached(sqlite3* db, std::string_view sql, bool* caching) {
  StatementCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto conn = c.idle.find(db);
  *caching = conn != c.idle.end();
  if (!*caching) return nullptr;
  auto it = conn->second.find(std::string(sql));
  if (it == conn->second.end()) return nullptr;
  sqlite3_stmt* stmt = it->second;
  conn->second.erase(it);
  return stmt;
}

}  // namespace

void EnableStatementCache(sqlite3* db) {
  StatementCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.idle.try_emplace(db);
}

void DropStatementCache(sqlite3* db) {
  StatementCache& c = Cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto conn = c.idle.find(db);
  if (conn == c.idle.end()) return;
  for (auto& [sql, stmt] : conn->second) sqlite3_finalize(stmt);
  c.idle.erase(conn);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  stmt_ = TakeCached(db, sql, &cached_);
  if (cached_) key_ = sql;
  if (stmt_) return;
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                         cached_ ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db);
    rc_ = sqlite3_extended_errcode(db);
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

Statement::~Statement() {
  if (!stmt_) return;
  if (cached_) {
    // Reset ends its read (no snapshot or lock outlives the Statement) and drops the
    // bindings; then it waits for the next Statement of the same text.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    StatementCache& c = Cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto conn = c.idle.find(db_);
    if (conn != c.idle.end() && conn->second.size() < kMaxCachedPerConnection) {
      conn->second.emplace(std::move(key_), stmt_);
      return;
    }
  }
  sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::Bind(int i, std::optional<int> v) {
  if (v) return Bind(i, static_cast<int64_t>(*v));
  return BindNull(i);
}
Statement& Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::Step() {
  if (!stmt_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    error_ = sqlite3_errmsg(db_);
    rc_ = rc;
  }
  return false;
}

Status Statement::Run() {
  if (!stmt_) return SqliteStatus(rc_, error_);
  while (Step()) {
  }
  if (!error_.empty()) return SqliteStatus(rc_, error_);
  return Status::Ok();
}

void Statement::Reset() {
  if (!stmt_) return;  // keep the prepare error: Step must not read as "no more rows"
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  error_.clear();
  rc_ = SQLITE_OK;
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}
std::string_view Statement::Blob(int col) const {
  const void* b = sqlite3_column_blob(stmt_, col);
  return b ? std::string_view(static_cast<const char*>(b),
                              static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string_view();
}
bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::optional<int> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return static_cast<int>(Int(col));
}

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqliteStatus(rc, msg);
  }
  return Status::Ok();
}

Transaction::Transaction(sqlite3* db) : db_(db), begin_(Exec(db, "BEGIN IMMEDIATE")) {
  if (!begin_.ok()) done_ = true;
}

Transaction::~Transaction() {
  if (!done_) (void)Exec(db_, "ROLLBACK");
}

Status Transaction::Commit() {
  if (done_) return begin_.ok() ? Status::Error("transaction already finished") : begin_;
  done_ = true;
  Status s = Exec(db_, "COMMIT");
  if (!s.ok()) (void)Exec(db_, "ROLLBACK");
  return s;
}

}  // namespace orch::store

#pragma once
// RocksDB's diagnostics, sent to the process's structured log (events/diagnostics.hpp) instead of a
// LOG file in the database's directory. Header-only: only the libraries that open RocksDB include
// it (events/log, projections), and they link RocksDB themselves.
//
// Why not RocksDB's own LOG file: on a full disk its writer fails, and Debian's RocksDB, built with
// assertions, aborts the process on the next line it logs (WritableFileWriter asserts that a writer
// which saw an error is not written again). A full disk must not kill the node. Only warnings and
// errors are passed on: RocksDB's informational lines (every flush and compaction) would drown ours.

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

#include "events/diagnostics.hpp"

namespace encore {

class rocksdb_diagnostics final : public rocksdb::Logger {
public:
    explicit rocksdb_diagnostics(std::string database)
        : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), database_(std::move(database)) {}

    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list ap) override {
        char line[2048];
        std::vsnprintf(line, sizeof line, format, ap);
        diag::warn("rocksdb", line, {{"database", database_}});
    }

private:
    std::string database_;
};

inline std::shared_ptr<rocksdb::Logger> rocksdb_logger_for(const std::string& database) {
    return std::make_shared<rocksdb_diagnostics>(database);
}

}  // namespace encore

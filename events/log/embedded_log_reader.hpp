#pragma once
// A read-only view of an embedded log's directory that the node writing it never notices: for
// tools (`encore export`) that read a running node's data. It opens the RocksDB database as a
// secondary instance (RocksDB's `DB::OpenAsSecondary`): no lock is taken, nothing in the
// directory is written, and the writer's flushes and compactions go on (the instance keeps every
// table file it uses open, so a file the writer deletes stays readable until the view closes).
//
// The view is the log as of `open`: what the writer had written to its write-ahead log and tables
// by then, acknowledged or about to be. Each stream's `end` is fixed at open and `read` never goes
// past it, so a reader sees one dense prefix per partition. `append` is refused (errc::invalid).
//
// Thread-safety: `read` and `end` may be called from any thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "events/log.hpp"
#include "events/result.hpp"

namespace encore {

struct embedded_log_reader_options {
    std::string directory;  // the embedded log's directory (a data dir's `log/`)
    // Checked against the count the directory was created with (errc::invalid if it differs);
    // nothing: take the stored count.
    std::optional<std::uint32_t> partitions;
};

class embedded_log_reader {
public:
    // errc::io when the directory holds no readable log, errc::invalid for a wrong partition count,
    // errc::corrupt when its metadata or keys do not parse.
    static result<std::unique_ptr<embedded_log_reader>> open(const embedded_log_reader_options& options);

    embedded_log_reader(const embedded_log_reader&) = delete;
    embedded_log_reader& operator=(const embedded_log_reader&) = delete;
    // Closes the database and removes the instance's scratch directory (its own info log).
    ~embedded_log_reader();

    std::uint32_t partitions() const;
    log_stream& commands();
    log_stream& events();

private:
    struct state;  // the secondary instance and its streams; defined in embedded_log_reader.cpp
    explicit embedded_log_reader(std::unique_ptr<state> state);
    std::unique_ptr<state> state_;
};

}  // namespace encore

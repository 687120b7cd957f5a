#include "events/log/embedded_log_reader.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "events/log/embedded_log.hpp"
#include "events/log/record_keys.hpp"

namespace encore {
namespace {

using namespace log_keys;

// A stream of the view: reads are bounded by the end found at open. A read that starts where the
// partition's previous read ended goes on with that read's iterator (a scan's reads, the common
// case), so the files are read ahead across reads and nothing is sought again.
class reader_stream final : public log_stream {
public:
    reader_stream(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& family, std::vector<std::uint64_t> ends)
        : db_(db), family_(family), ends_(std::move(ends)), cursors_(ends_.size()) {}

    std::uint32_t partitions() const override { return static_cast<std::uint32_t>(ends_.size()); }

    void append(std::uint32_t, std::vector<std::string>, append_callback done) override {
        done(error{errc::invalid, "embedded log reader: the view is read-only"});
    }

    result<std::vector<log_entry>> read(std::uint32_t partition, std::uint64_t from, std::size_t max,
                                        std::chrono::milliseconds) override {
        std::vector<log_entry> out;
        auto r = scan(partition, from, max, [&](std::size_t count) { out.reserve(count); },
                      [&](std::uint64_t offset, const rocksdb::Slice& value) {
                          out.push_back({offset, value.ToString()});
                          return value.size();
                      });
        if (!r) return r.err();
        return out;
    }

    result<unit> read_into(std::uint32_t partition, std::uint64_t from, std::size_t max, std::chrono::milliseconds,
                           log_batch& out) override {
        out.clear();
        return scan(partition, from, max, [](std::size_t) {},
                    [&](std::uint64_t offset, const rocksdb::Slice& value) {
                        out.add(offset, std::string_view(value.data(), value.size()));
                        return value.size();
                    });
    }

    std::uint64_t end(std::uint32_t partition) override {
        assert(partition < ends_.size());
        return ends_[partition];
    }

private:
    // Hands the records [from, from + max) of the partition to `add` (offset, value; returns the
    // bytes it kept), after `reserve` (how many at most), within the read limits of the log.
    template <class Reserve, class Add>
    result<unit> scan(std::uint32_t partition, std::uint64_t from, std::size_t max, Reserve reserve, Add add) {
        if (partition >= ends_.size()) return error{errc::invalid, "embedded log reader: no partition " + std::to_string(partition)};
        const std::uint64_t end = ends_[partition];
        if (from >= end || max == 0) return unit{};
        const std::uint64_t until = from + std::min<std::uint64_t>({max, embedded_log_read_records_max, end - from});
        cursor& c = cursors_[partition];
        std::lock_guard lock(c.mutex);
        if (!c.it || c.next != from || !c.it->Valid()) {
            c.upper = encode_record_key(partition, end);
            c.upper_slice = as_slice(c.upper);
            rocksdb::ReadOptions options;
            options.iterate_upper_bound = &c.upper_slice;
            // A one-pass scan: its blocks would only push the hot ones out of the cache. (RocksDB
            // reads ahead by itself once an iterator reads on in order; a fixed large readahead
            // costed more, each buffer being memory touched for the first time.)
            options.fill_cache = false;
            c.it.reset(db_.NewIterator(options, &family_));
            c.it->Seek(as_slice(encode_record_key(partition, from)));
        }
        rocksdb::Iterator& it = *c.it;
        c.next = UINT64_MAX;  // until this read has ended well
        reserve(static_cast<std::size_t>(until - from));
        std::size_t bytes = 0;
        std::uint64_t expected = from;
        for (; expected < until && it.Valid() && bytes < embedded_log_read_bytes_max; it.Next()) {
            const rocksdb::Slice key = it.key();
            if (key.size() != record_key_bytes) return error{errc::corrupt, family_.GetName() + ": a key of " + std::to_string(key.size()) + " bytes"};
            const std::uint64_t offset = key_offset(key);
            if (offset != expected) {
                return error{errc::corrupt, family_.GetName() + ": partition " + std::to_string(partition) + " has no offset " +
                                                std::to_string(expected) + " below its end " + std::to_string(end)};
            }
            bytes += add(offset, it.value());
            ++expected;
        }
        if (!it.status().ok()) return io_error(family_.GetName() + ": reading partition " + std::to_string(partition), it.status());
        if (expected < until && bytes < embedded_log_read_bytes_max) {
            return error{errc::corrupt, family_.GetName() + ": partition " + std::to_string(partition) + " has no offset " +
                                            std::to_string(expected) + " below its end " + std::to_string(end)};
        }
        c.next = expected;
        return unit{};
    }

    // Per partition: the iterator of the last read, at the record `next` (UINT64_MAX: none).
    struct cursor {
        std::mutex mutex;
        std::unique_ptr<rocksdb::Iterator> it;
        std::uint64_t next = UINT64_MAX;
        record_key upper{};
        rocksdb::Slice upper_slice;
    };

    rocksdb::DB& db_;
    rocksdb::ColumnFamilyHandle& family_;
    const std::vector<std::uint64_t> ends_;
    std::vector<cursor> cursors_;
};

// The instance's own files (its info log) go to a fresh directory under the temporary folder,
// never into the directory it reads.
result<std::string> make_scratch_directory() {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) return error{errc::io, "embedded log reader: no temporary directory: " + ec.message()};
    std::string pattern = (base / "encore-log-reader-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return error{errc::io, "embedded log reader: cannot create a directory in " + base.string()};
    return pattern;
}

}  // namespace

struct embedded_log_reader::state {
    ~state() {
        commands.reset();
        events.reset();
        if (db) {
            for (rocksdb::ColumnFamilyHandle* family : families) static_cast<void>(db->DestroyColumnFamilyHandle(family));
            static_cast<void>(db->Close());
            db.reset();
        }
        std::error_code ec;
        if (!scratch.empty()) std::filesystem::remove_all(scratch, ec);  // a leftover temporary folder harms nobody
    }

    result<unit> open(const embedded_log_reader_options& options);
    rocksdb::ColumnFamilyHandle* family(std::string_view name) const {
        for (rocksdb::ColumnFamilyHandle* f : families)
            if (f->GetName() == name) return f;
        return nullptr;
    }

    std::string scratch;
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> families;
    std::uint32_t partitions = 0;
    std::unique_ptr<reader_stream> commands;
    std::unique_ptr<reader_stream> events;
};

result<unit> embedded_log_reader::state::open(const embedded_log_reader_options& options) {
    const std::string& dir = options.directory;
    std::vector<std::string> names;
    rocksdb::DBOptions db_options;
    if (const rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir, &names); !listed.ok())
        return io_error("embedded log reader: no log in " + dir, listed);
    for (std::string_view needed : {commands_family_name, events_family_name, meta_family_name}) {
        if (std::find(names.begin(), names.end(), needed) == names.end())
            return error{errc::corrupt, "embedded log reader: " + dir + " has no column family " + std::string(needed)};
    }
    auto made = make_scratch_directory();
    if (!made) return made.err();
    scratch = *made;
    // A secondary instance must keep every table file open: the writer may delete one at any time.
    db_options.max_open_files = -1;
    db_options.create_if_missing = false;
    db_options.keep_log_file_num = 1;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* opened = nullptr;
    const rocksdb::Status status = rocksdb::DB::OpenAsSecondary(db_options, dir, scratch, descriptors, &families, &opened);
    if (!status.ok()) return io_error("embedded log reader: opening " + dir, status);
    db.reset(opened);

    std::string stored;
    const rocksdb::Status got = db->Get(rocksdb::ReadOptions(), family(meta_family_name),
                                        rocksdb::Slice(partitions_meta_key.data(), partitions_meta_key.size()), &stored);
    if (!got.ok()) return io_error("embedded log reader: reading the partition count of " + dir, got);
    const auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), partitions);
    if (ec != std::errc{} || end != stored.data() + stored.size() || partitions == 0 || partitions > partitions_max)
        return error{errc::corrupt, "embedded log reader: stored partition count '" + stored + "' does not parse"};
    if (options.partitions && *options.partitions != partitions) {
        return error{errc::invalid, "embedded log reader: " + dir + " was created with " + std::to_string(partitions) +
                                        " partitions, not " + std::to_string(*options.partitions)};
    }
    auto command_ends = recover_ends(*db, *family(commands_family_name), partitions);
    if (!command_ends) return command_ends.err();
    auto event_ends = recover_ends(*db, *family(events_family_name), partitions);
    if (!event_ends) return event_ends.err();
    commands = std::make_unique<reader_stream>(*db, *family(commands_family_name), std::move(*command_ends));
    events = std::make_unique<reader_stream>(*db, *family(events_family_name), std::move(*event_ends));
    return unit{};
}

result<std::unique_ptr<embedded_log_reader>> embedded_log_reader::open(const embedded_log_reader_options& options) {
    auto s = std::make_unique<state>();
    if (auto opened = s->open(options); !opened) return opened.err();
    return std::unique_ptr<embedded_log_reader>(new embedded_log_reader(std::move(s)));
}

embedded_log_reader::embedded_log_reader(std::unique_ptr<state> state) : state_(std::move(state)) {}
embedded_log_reader::~embedded_log_reader() = default;

std::uint32_t embedded_log_reader::partitions() const { return state_->partitions; }
log_stream& embedded_log_reader::commands() { return *state_->commands; }
log_stream& embedded_log_reader::events() { return *state_->events; }

}  // namespace encore

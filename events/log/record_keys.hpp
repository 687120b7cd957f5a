// Internal to the embedded log (embedded_log.cpp, embedded_log_reader.cpp): the key layout of
// events/log/README.md, which the log writes and the read-only reader reads, written once.
// Big-endian (u32 partition, u64 offset) in the `commands` and `events` column families, so that
// RocksDB's byte order is (partition, offset) order; the partition count as decimal text under
// `log.partitions` in `meta`.

#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "events/result.hpp"

namespace encore::log_keys {

constexpr std::size_t partition_key_bytes = 4;
constexpr std::size_t record_key_bytes = partition_key_bytes + 8;

// Keys under this prefix in `meta` belong to the log itself.
constexpr std::string_view reserved_meta_prefix = "log.";
constexpr std::string_view partitions_meta_key = "log.partitions";

constexpr std::string_view commands_family_name = "commands";
constexpr std::string_view events_family_name = "events";
constexpr std::string_view checkpoints_family_name = "checkpoints";
constexpr std::string_view meta_family_name = "meta";

using partition_key = std::array<char, partition_key_bytes>;
using record_key = std::array<char, record_key_bytes>;

inline void put_big_endian(char* out, std::uint64_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<char>((value >> (8 * (bytes - 1 - i))) & 0xff);
}

inline std::uint64_t get_big_endian(const char* in, std::size_t bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
    return value;
}

inline partition_key encode_partition_key(std::uint32_t partition) {
    partition_key key{};
    put_big_endian(key.data(), partition, partition_key_bytes);
    return key;
}

inline record_key encode_record_key(std::uint32_t partition, std::uint64_t offset) {
    record_key key{};
    put_big_endian(key.data(), partition, partition_key_bytes);
    put_big_endian(key.data() + partition_key_bytes, offset, record_key_bytes - partition_key_bytes);
    return key;
}

inline rocksdb::Slice as_slice(const auto& key) { return rocksdb::Slice(key.data(), key.size()); }

inline std::uint32_t key_partition(const rocksdb::Slice& key) {
    return static_cast<std::uint32_t>(get_big_endian(key.data(), partition_key_bytes));
}

inline std::uint64_t key_offset(const rocksdb::Slice& key) {
    return get_big_endian(key.data() + partition_key_bytes, record_key_bytes - partition_key_bytes);
}

inline error io_error(std::string_view what, const rocksdb::Status& status) {
    return error{errc::io, std::string(what) + ": " + status.ToString()};
}

// Each partition's end in one record family: one past its last key, found by seeking backwards
// from its largest possible key. A key of another length is errc::corrupt.
result<std::vector<std::uint64_t>> recover_ends(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& family,
                                                std::uint32_t partitions);

}  // namespace encore::log_keys

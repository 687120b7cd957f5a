// The embedded log's key layout (record_keys.hpp).

#include "events/log/record_keys.hpp"

#include <limits>
#include <memory>

namespace encore::log_keys {

result<std::vector<std::uint64_t>> recover_ends(rocksdb::DB& db, rocksdb::ColumnFamilyHandle& family,
                                                std::uint32_t partitions) {
    std::vector<std::uint64_t> ends(partitions, 0);
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), &family));
    for (std::uint32_t p = 0; p < partitions; ++p) {
        const record_key last_possible = encode_record_key(p, std::numeric_limits<std::uint64_t>::max());
        it->SeekForPrev(as_slice(last_possible));
        if (!it->Valid()) continue;
        const rocksdb::Slice key = it->key();
        if (key.size() != record_key_bytes) {
            return error{errc::corrupt, family.GetName() + ": a key of " + std::to_string(key.size()) + " bytes"};
        }
        if (key_partition(key) == p) ends[p] = key_offset(key) + 1;
    }
    if (!it->status().ok()) return io_error(family.GetName() + ": recovering partition ends", it->status());
    return ends;
}

}  // namespace encore::log_keys

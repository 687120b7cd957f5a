#include "events/log/durable_ends.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "events/binary.hpp"
#include "events/diagnostics.hpp"

namespace encore {
namespace {

constexpr std::uint32_t slot_magic = 0x31444e45;  // "END1"
constexpr std::size_t partitions_max_in_file = 256;
// magic, generation, partition count, ends, checksum
constexpr std::size_t slot_bytes = 4 + 8 + 4 + 8 * partitions_max_in_file + 8;

// Tells a torn or damaged slot from a whole one (not an adversary's).
std::uint64_t checksum(std::string_view bytes) { return fnv1a_64(bytes); }

std::string encode_slot(std::uint64_t generation, const std::vector<std::uint64_t>& ends) {
    std::string out;
    byte_writer w(out);
    w.put_int(slot_magic);
    w.put_int(generation);
    w.put_int(static_cast<std::uint32_t>(ends.size()));
    for (std::size_t p = 0; p < partitions_max_in_file; ++p) w.put_int(p < ends.size() ? ends[p] : std::uint64_t{0});
    w.put_int(checksum(out));
    return out;
}

struct slot {
    std::uint64_t generation = 0;
    std::vector<std::uint64_t> ends;
};

std::optional<slot> decode_slot(std::string_view bytes) {
    if (bytes.size() != slot_bytes) return std::nullopt;
    byte_reader r(bytes);
    if (r.get_int<std::uint32_t>() != slot_magic) return std::nullopt;
    slot s;
    s.generation = r.get_int<std::uint64_t>();
    const auto count = r.get_int<std::uint32_t>();
    if (count == 0 || count > partitions_max_in_file) return std::nullopt;
    for (std::size_t p = 0; p < partitions_max_in_file; ++p) {
        const auto end = r.get_int<std::uint64_t>();
        if (p < count) s.ends.push_back(end);
    }
    const auto sum = r.get_int<std::uint64_t>();
    if (r.failed() || sum != checksum(bytes.substr(0, slot_bytes - 8))) return std::nullopt;
    return s;
}

error errno_error(const std::string& what) { return error{errc::io, "durable ends: " + what + ": " + std::strerror(errno)}; }

}  // namespace

std::string durable_ends_path(const std::string& log_directory) { return log_directory + "/durable-ends"; }

result<std::optional<std::vector<std::uint64_t>>> read_durable_ends(const std::string& log_directory) {
    const std::string path = durable_ends_path(log_directory);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) && !ec) return std::optional<std::vector<std::uint64_t>>{};
    std::ifstream in(path, std::ios::binary);
    std::string bytes(2 * slot_bytes, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in && !in.eof()) return error{errc::io, "durable ends: reading " + path + " failed"};
    const std::size_t got = static_cast<std::size_t>(in.gcount());
    bytes.resize(got);
    std::optional<slot> best;
    for (std::size_t i = 0; i < 2 && (i + 1) * slot_bytes <= bytes.size(); ++i) {
        auto s = decode_slot(std::string_view(bytes).substr(i * slot_bytes, slot_bytes));
        if (s && (!best || s->generation > best->generation)) best = std::move(s);
    }
    if (!best) {
        // A file created but never written whole (a crash right after creating it) holds no claim.
        if (got < slot_bytes) return std::optional<std::vector<std::uint64_t>>{};
        return error{errc::corrupt, path + " holds no intact record of the log's durable ends"};
    }
    return std::optional<std::vector<std::uint64_t>>{std::move(best->ends)};
}

std::optional<std::string> lost_durable_records(const std::vector<std::uint64_t>& recovered,
                                                const std::vector<std::uint64_t>& marked,
                                                const std::string& log_directory) {
    if (recovered.size() != marked.size()) return std::nullopt;
    std::string lost;
    for (std::size_t p = 0; p < recovered.size(); ++p) {
        if (recovered[p] >= marked[p]) continue;
        if (!lost.empty()) lost += "; ";
        lost += "partition " + std::to_string(p) + " ends at offset " + std::to_string(recovered[p]) +
                " but offsets up to " + std::to_string(marked[p] - 1) + " were acknowledged as durable (" +
                std::to_string(marked[p] - recovered[p]) + " commands missing)";
    }
    if (lost.empty()) return std::nullopt;
    return "the command log in " + log_directory + " lost records it had acknowledged: " + lost +
           ". Its write-ahead log was cut or damaged after they were synced (" + durable_ends_path(log_directory) +
           " records what was durable). Restore the data directory from a backup; nothing was served from it";
}

result<std::unique_ptr<durable_ends_marker>> durable_ends_marker::open(const std::string& log_directory,
                                                                       std::vector<std::uint64_t> initial) {
    if (initial.empty() || initial.size() > partitions_max_in_file)
        return error{errc::invalid, "durable ends: 1.." + std::to_string(partitions_max_in_file) + " partitions"};
    const std::string path = durable_ends_path(log_directory);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno_error("opening " + path);
    // The generation goes on from the file's, so that the newest slot stays the newest.
    std::unique_ptr<durable_ends_marker> marker(new durable_ends_marker(fd, path, std::move(initial)));
    return marker;
}

durable_ends_marker::durable_ends_marker(int fd, std::string path, std::vector<std::uint64_t> initial)
    : fd_(fd), path_(std::move(path)), noted_(std::move(initial)), dirty_(true) {
    std::string bytes(2 * slot_bytes, '\0');
    for (std::size_t i = 0; i < 2; ++i) {
        const ssize_t n = ::pread(fd_, bytes.data(), slot_bytes, static_cast<off_t>(i * slot_bytes));
        if (n != static_cast<ssize_t>(slot_bytes)) continue;
        if (auto s = decode_slot(std::string_view(bytes).substr(0, slot_bytes))) generation_ = std::max(generation_, s->generation);
    }
    thread_ = std::thread([this] {
        diag::name_thread("durable-ends");
        run();
    });
}

durable_ends_marker::~durable_ends_marker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_one();
    thread_.join();
    ::close(fd_);
}

void durable_ends_marker::mark(const std::vector<std::uint64_t>& ends) {
    {
        std::lock_guard lock(mutex_);
        noted_ = ends;
        dirty_ = true;
    }
    changed_.notify_one();
}

std::uint64_t durable_ends_marker::failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
}

void durable_ends_marker::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        changed_.wait(lock, [this] { return dirty_ || stopping_; });
        if (!dirty_) return;  // stopping, everything written
        std::vector<std::uint64_t> ends = noted_;
        dirty_ = false;
        const bool last = stopping_;
        lock.unlock();
        auto written = write(ends);
        if (!written) {
            // The check is lost for these ends, not the records: appends go on. A later mark retries.
            diag::warn("log", "recording the durable ends failed", {{"path", path_}, {"error", written.err().message}});
        }
        lock.lock();
        if (!written) {
            ++failures_;
            dirty_ = true;
        }
        if (last || (stopping_ && !written)) return;
        // At most one write per interval; a stop cuts the wait short.
        changed_.wait_for(lock, durable_ends_mark_interval, [this] { return stopping_; });
    }
}

result<unit> durable_ends_marker::write(const std::vector<std::uint64_t>& ends) {
    const std::uint64_t generation = generation_ + 1;
    const std::string bytes = encode_slot(generation, ends);
    const off_t at = static_cast<off_t>((generation % 2) * slot_bytes);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, at + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("writing " + path_);
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_) != 0) return errno_error("syncing " + path_);
    generation_ = generation;
    return unit{};
}

}  // namespace encore

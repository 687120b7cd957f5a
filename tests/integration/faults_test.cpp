// Storage faults on a real node's data directory: a checkpoint damaged or cut, a read model store
// damaged, the write-ahead log's tail cut after it was synced, a torn last record. For each: what
// the client sees after a restart, what survived, and what `encore audit` says.

#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <fstream>
#include <iterator>
#include <numeric>
#include <regex>

#include "events/log/durable_ends.hpp"
#include "tests/integration/api.hpp"
#include "tests/integration/export_checks.hpp"

namespace encore::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    REQUIRE(out.good());
}

// Files in `dir` whose names match `pattern`, sorted.
std::vector<std::string> files_matching(const std::string& dir, const std::string& pattern) {
    const std::regex re(pattern);
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (std::regex_match(entry.path().filename().string(), re)) out.push_back(entry.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The write-ahead log file RocksDB appends to now: the highest-numbered `NNNNNN.log`.
std::string newest_wal(const std::string& log_dir) {
    auto wals = files_matching(log_dir, R"(\d+\.log)");
    REQUIRE_FALSE(wals.empty());
    return wals.back();
}

// A user charged `count` times 1,000 won, every charge acknowledged.
user_account charged_user(http_client& client, int count) {
    user_account kim = new_user(client);
    for (int i = 0; i < count; ++i) REQUIRE_STATUS(charge(client, kim, 1'000), 200);
    return kim;
}

// The same, over a connection of its own to `server`.
user_account charged_user(const server_process& server, int count) {
    http_client client(server.host(), server.port());
    return charged_user(client, count);
}

// Waits until the log's record of its durable ends covers at least `commands` commands.
void wait_marked(const server_process& server, std::uint64_t commands) {
    const std::string log_dir = server.data_dir() + "/log";
    std::uint64_t marked = 0;
    const bool caught_up = eventually(std::chrono::seconds(30), [&] {
        auto ends = read_durable_ends(log_dir);
        if (!ends || !ends->has_value()) return false;
        marked = std::accumulate((*ends)->begin(), (*ends)->end(), std::uint64_t{0});
        return marked >= commands;
    });
    INFO("marked " << marked << " of " << commands << " commands");
    REQUIRE(caught_up);
}

double metric_value(http_client& client, const std::string& name) {
    auto reply = call(client, "GET", "/metrics");
    REQUIRE_STATUS(reply, 200);
    const std::regex line("(^|\n)" + name + " ([0-9.e+]+)");
    std::smatch m;
    REQUIRE(std::regex_search(reply.body, m, line));
    return std::stod(m[2]);
}

command_run audit(const server_process& server) {
    return run_command(std::string(ENCORE_BINARY) + " audit --data-dir " + server.data_dir() + " 2>/dev/null");
}

// The server stopped, `encore audit` of its data directory passes.
void check_audit_passes(const server_process& server) {
    const command_run audited = audit(server);
    INFO(audited.output);
    CHECK(audited.status == 0);
}

TEST_CASE("a damaged or cut checkpoint is set aside and the partition recovers from its log", "[faults]") {
    server_process server;
    std::vector<user_account> users;  // user i charged i + 1 times, spread over the partitions
    {
        http_client client(server.host(), server.port());
        for (int i = 0; i < 8; ++i) users.push_back(charged_user(client, i + 1));
    }
    REQUIRE(server.stop() == 0);  // every partition that applied anything writes its last checkpoint
    const std::string folder = server.data_dir() + "/log/checkpoints";
    const auto checkpoints = files_matching(folder, R"(\d+\.checkpoint)");
    REQUIRE_FALSE(checkpoints.empty());
    // One flipped bit in the middle of the first (a balance, a seat: whatever is there), any other
    // cut in half.
    std::string flipped = read_file(checkpoints[0]);
    flipped[flipped.size() / 2] ^= 0x04;
    write_file(checkpoints[0], flipped);
    for (std::size_t i = 1; i < checkpoints.size(); ++i) {
        const std::string whole = read_file(checkpoints[i]);
        write_file(checkpoints[i], whole.substr(0, whole.size() / 2));
    }

    server.restart();  // ready: no partition is stuck on its checkpoint
    http_client client(server.host(), server.port());
    for (int i = 0; i < 8; ++i) CHECK(balance_of(client, users[i]) == 1'000 * (i + 1));
    CHECK(charge(client, users[0], 1).json().at("balance") == 1'001);
    CHECK(metric_value(client, "encore_checkpoints_set_aside") == static_cast<double>(checkpoints.size()));
    // Kept for a look, out of the way of the next start.
    CHECK(files_matching(folder, R"(\d+\.checkpoint\.bad-\d+)").size() == checkpoints.size());
    CHECK(server.stderr_tail(1 << 20).find("checkpoint set aside") != std::string::npos);
    REQUIRE(server.stop() == 0);

    // The next start reads the new checkpoints: nothing set aside again.
    server.restart();
    {
        http_client again(server.host(), server.port());
        CHECK(balance_of(again, users[0]) == 1'001);
        CHECK(metric_value(again, "encore_checkpoints_set_aside") == 0);
    }
    REQUIRE(server.stop() == 0);
    check_audit_passes(server);
}

TEST_CASE("a damaged read model store is set aside and rebuilt from the event log", "[faults]") {
    server_process server;
    const user_account kim = charged_user(server, 12);
    REQUIRE(server.stop() == 0);
    const std::string models = server.data_dir() + "/projections";
    auto tables = files_matching(models, R"(\d+\.sst)");
    REQUIRE_FALSE(tables.empty());
    // The largest table cut in half: RocksDB finds it shorter than its manifest says.
    std::sort(tables.begin(), tables.end(), [](const std::string& a, const std::string& b) {
        return fs::file_size(a) > fs::file_size(b);
    });
    fs::resize_file(tables.front(), fs::file_size(tables.front()) / 2);

    server.restart();
    http_client client(server.host(), server.port());
    CHECK(balance_of(client, kim) == 12'000);
    CHECK(call(client, "GET", "/users/me/balance/history", {}, bearer(kim.token)).json().at("entries").size() == 12);
    CHECK(files_matching(server.data_dir(), R"(projections\.bad-\d+)").size() == 1);
    CHECK(server.stderr_tail(1 << 20).find("the read models are damaged") != std::string::npos);
    REQUIRE(server.stop() == 0);
    check_audit_passes(server);
}

TEST_CASE("a write-ahead log that lost synced records refuses to start, and the audit names what is missing", "[faults]") {
    server_process server;
    const user_account kim = charged_user(server, 40);
    wait_marked(server, 41);  // kim's registration and 40 charges, all acknowledged
    server.kill9();           // nothing flushed: every command is in the write-ahead log only
    const std::string wal = newest_wal(server.data_dir() + "/log");
    fs::resize_file(wal, fs::file_size(wal) / 2);

    REQUIRE_THROWS_WITH(server.restart(), Catch::Contains("lost records it had acknowledged") &&
                                              Catch::Contains("commands missing") && Catch::Contains("backup"));
    const command_run audited = audit(server);
    INFO(audited.output);
    CHECK(audited.status == 1);
    CHECK_THAT(audited.output, Catch::Contains("FAILED log") && Catch::Contains("were acknowledged as durable"));
}

TEST_CASE("a torn last record after a crash still recovers every acknowledged command", "[faults]") {
    server_process server;
    const user_account kim = charged_user(server, 20);
    wait_marked(server, 21);
    server.kill9();
    // A write cut short by the crash: half a record's worth of bytes after the last whole one.
    const std::string wal = newest_wal(server.data_dir() + "/log");
    std::ofstream(wal, std::ios::binary | std::ios::app) << std::string(100, '\x7f');

    server.restart();
    http_client client(server.host(), server.port());
    CHECK(balance_of(client, kim) == 20'000);
    CHECK(charge(client, kim, 1).json().at("balance") == 20'001);
    REQUIRE(server.stop() == 0);
    check_audit_passes(server);
}

// A small tmpfs mounted over a directory for the life of the guard (root only).
class small_disk {
public:
    small_disk(const std::string& where, std::uint64_t bytes) : where_(where) {
        const std::string size = "size=" + std::to_string(bytes);
        mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, size.c_str()) == 0;
        if (!mounted_) why_ = std::strerror(errno);
    }
    ~small_disk() {
        if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    const std::string& why() const { return why_; }
    std::uint64_t free_bytes() const {
        struct statvfs s {};
        REQUIRE(::statvfs(where_.c_str(), &s) == 0);
        return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
    }

private:
    std::string where_;
    bool mounted_ = false;
    std::string why_;
};

// Fills the file system of `path` until `leave` bytes are free.
void fill_until_free(const std::string& path, const small_disk& disk, std::uint64_t leave) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    const std::string chunk(1 << 20, '\x33');
    while (disk.free_bytes() > leave + chunk.size()) {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        out.flush();
        REQUIRE(out.good());
    }
}

TEST_CASE("a full disk: commands get 503 STORAGE_UNAVAILABLE and change nothing, queries go on, and it resumes by itself",
          "[faults][disk]") {
    if (::geteuid() != 0) {
        WARN("skipped: mounting a small tmpfs needs root (CI runs as root)");
        SUCCEED("not run without root");
        return;
    }
    server_options options;
    options.extra_flags = {"--storage-reserve-mb", "16"};
    server_process server(options);
    REQUIRE(server.stop() == 0);
    // The data directory moves onto a 64 MiB file system of its own; the node starts afresh on it.
    small_disk disk(server.data_dir(), std::uint64_t{64} << 20);
    REQUIRE(disk.mounted());
    server.restart();

    constexpr int writers = 4;
    std::vector<user_account> users;
    {
        http_client client(server.host(), server.port());
        for (int i = 0; i < writers; ++i) users.push_back(charged_user(client, 1));
    }
    // Writers charge 1 won at a time, each charge with its own Idempotency-Key, all along: before,
    // while and after the disk is full. 200 is applied, STORAGE_UNAVAILABLE is not; anything else
    // is settled at the end by repeating its key.
    std::atomic<bool> stop{false};
    std::atomic<int> storage_refusals{0};
    std::atomic<int> without_retry_after{0};
    std::mutex mutex;
    std::vector<std::int64_t> applied(writers, 1'000);
    std::vector<std::vector<std::string>> unsettled(writers);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            http_client client(server.host(), server.port());
            for (int n = 0; !stop.load(); ++n) {
                const std::string key = "w" + std::to_string(w) + "-" + std::to_string(n);
                auto reply = charge(client, users[w], 1, {{"Idempotency-Key", key}});
                std::lock_guard lock(mutex);
                if (reply.status == 200) {
                    applied[w] += 1;
                } else if (reply.status == 503 && error_code_of(reply) == "STORAGE_UNAVAILABLE") {
                    if (!reply.header("Retry-After")) ++without_retry_after;  // Catch's CHECK is not for threads
                    ++storage_refusals;
                } else {
                    unsettled[w].push_back(key);
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        });
    }
    http_client client(server.host(), server.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string filler = server.data_dir() + "/filler";
    fill_until_free(filler, disk, std::uint64_t{8} << 20);  // under the 16 MiB reserve

    // Refused, and said so; reads, probes, pages and metrics go on.
    REQUIRE(eventually(std::chrono::seconds(30), [&] { return storage_refusals.load() >= 20; }));
    CHECK_ERROR(call(client, "POST", "/users", R"({"name":"late"})"), 503, "STORAGE_UNAVAILABLE");
    CHECK_STATUS(call(client, "GET", "/healthz"), 200);
    auto ready = call(client, "GET", "/readyz");
    CHECK(ready.status == 503);
    CHECK_THAT(ready.body, Catch::Contains("storage"));
    CHECK(metric_value(client, "encore_storage_refusing") == 1);
    CHECK(metric_value(client, "encore_commands_storage_refused_total") >= 20);
    CHECK_STATUS(call(client, "GET", "/"), 200);
    CHECK_STATUS(call(client, "GET", "/users/me/balance", {}, bearer(users[0].token)), 200);
    CHECK(server.running());

    // Space comes back: commands are taken again, with no restart.
    fs::remove(filler);
    const int refused_before = storage_refusals.load();
    REQUIRE(eventually(std::chrono::seconds(30), [&] { return call(client, "GET", "/readyz").status == 200; }));
    CHECK_STATUS(charge(client, users[0], 1), 200);
    {
        std::lock_guard lock(mutex);
        applied[0] += 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    for (auto& t : threads) t.join();
    CHECK(storage_refusals.load() >= refused_before);
    CHECK(without_retry_after.load() == 0);
    for (int w = 0; w < writers; ++w) {
        for (const std::string& key : unsettled[w]) {
            auto again = charge(client, users[w], 1, {{"Idempotency-Key", key}});
            REQUIRE_STATUS(again, 200);
            applied[w] += 1;
        }
    }
    // Every acknowledged charge is there, and no refused one.
    for (int w = 0; w < writers; ++w) {
        INFO("writer " << w);
        CHECK(balance_of(client, users[w]) == applied[w]);
    }
    CHECK(metric_value(client, "encore_storage_refusing") == 0);
    // The log said when it began refusing and when it took commands again.
    const std::string log = server.stderr_tail(1 << 22);
    CHECK(log.find("free space under the reserve: new commands are refused") != std::string::npos);
    CHECK(log.find("free space is back above the reserve") != std::string::npos);
    REQUIRE(server.stop() == 0);
    check_audit_passes(server);
}

// `encore serve` on `data_dir` in the foreground, its stdout and stderr together; killed after 60 s
// if it ever got as far as serving.
command_run serve_once(const std::string& data_dir) {
    return run_command("sh -c 'timeout 60 " + std::string(ENCORE_BINARY) + " serve --data-dir " + data_dir +
                       " --listen 127.0.0.1:0 --admin-key faults-admin-key 2>&1' 2>/dev/null");
}

TEST_CASE("a second server on the same data directory is refused, and the first goes on", "[faults]") {
    server_process server;
    const user_account kim = charged_user(server, 2);
    const command_run second = serve_once(server.data_dir());
    INFO(second.output);
    CHECK(second.status == 1);
    CHECK_THAT(second.output, Catch::Contains("lock"));
    http_client client(server.host(), server.port());
    CHECK(charge(client, kim, 1).json().at("balance") == 2'001);
    REQUIRE(server.stop() == 0);
    check_audit_passes(server);
}

TEST_CASE("a read-only data directory: serve refuses to start with the reason, the audit reads it", "[faults][disk]") {
    if (::geteuid() != 0) {
        WARN("skipped: mounting a read-only tmpfs needs root (CI runs as root)");
        SUCCEED("not run without root");
        return;
    }
    server_process server;
    charged_user(server, 3);
    REQUIRE(server.stop() == 0);
    // The data, copied onto a file system of its own, which is then made read-only (as root, file
    // modes alone stop nothing).
    const std::string mounted = server.data_dir() + "-ro";
    fs::create_directories(mounted);
    small_disk disk(mounted, std::uint64_t{64} << 20);
    REQUIRE(disk.mounted());
    fs::copy(server.data_dir(), mounted, fs::copy_options::recursive);
    REQUIRE(::mount(nullptr, mounted.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0);

    const command_run refused = serve_once(mounted);
    INFO(refused.output);
    CHECK(refused.status == 1);
    CHECK_THAT(refused.output, Catch::Contains("Read-only file system"));
    const command_run audited = run_command(std::string(ENCORE_BINARY) + " audit --data-dir " + mounted + " 2>/dev/null");
    INFO(audited.output);
    CHECK(audited.status == 0);
}

}  // namespace
}  // namespace encore::test

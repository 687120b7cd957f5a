// `encore audit --data-dir` on a data directory written by a real node: a clean one passes with
// the money balanced, and neither the audit nor `encore events` writes anything in it (the
// partition count is read from it); one flipped byte in a stored event, or in a stored read model
// value, fails the audit (exit 1) with the partition and offset, or the key, named in the JSON
// report; a bad command line exits 2 and a missing directory 3. Its progress goes to stderr: a
// plain line in a log, a line redrawn in place on a terminal.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>

#include <rocksdb/db.h>

#include "tests/integration/api.hpp"
#include "tests/integration/export_checks.hpp"

namespace encore::test {
namespace {

struct audit_run {
    int status = -1;
    std::string output;
    json report;  // the --json object, when it printed one
};

audit_run run_audit(const std::string& arguments) {
    const command_run ran = run_command(std::string(ENCORE_BINARY) + " audit " + arguments + " 2>/dev/null");
    return {ran.status, ran.output, json::parse(ran.output, nullptr, false)};
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (char c : bytes) {
        out += digits[static_cast<std::uint8_t>(c) >> 4];
        out += digits[static_cast<std::uint8_t>(c) & 0xF];
    }
    return out;
}

std::uint64_t big_endian(std::string_view bytes) {
    std::uint64_t v = 0;
    for (char c : bytes) v = (v << 8) | static_cast<std::uint8_t>(c);
    return v;
}

// Opens a stopped node's RocksDB directory with the given column families (the first is default).
struct rocks {
    rocks(const std::string& dir, const std::vector<std::string>& families) {
        std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
        for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions());
        rocksdb::DB* raw = nullptr;
        const rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, descriptors, &handles, &raw);
        INFO(s.ToString());
        REQUIRE(s.ok());
        db.reset(raw);
    }
    ~rocks() {
        for (auto* h : handles) static_cast<void>(db->DestroyColumnFamilyHandle(h));
        static_cast<void>(db->Close());
    }
    // The first key of the family (whose tag is `tag`, if given); flips the last byte of its value.
    std::string flip_first(rocksdb::ColumnFamilyHandle* family, std::optional<char> tag = std::nullopt) {
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), family));
        if (tag) it->Seek(std::string(1, *tag));
        else it->SeekToFirst();
        REQUIRE(it->Valid());
        const std::string key = it->key().ToString();
        if (tag) REQUIRE(key[0] == *tag);
        std::string value = it->value().ToString();
        REQUIRE(!value.empty());
        value.back() = static_cast<char>(value.back() ^ 0x01);
        it.reset();
        REQUIRE(db->Put(rocksdb::WriteOptions(), family, key, value).ok());
        return key;
    }
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
};

// Some of everything: users, charges, a concert, holds, payments, a refund and a cancelled hold.
void write_traffic(const server_process& server) {
    http_client client(server.host(), server.port());
    json body = concert_body(20, 80'000);
    body["refundsUntil"] = "2099-01-01T00:00:00.000Z";
    const auto concert = create_concert(client, server, body);
    for (std::uint32_t seat = 1; seat <= 4; ++seat) {
        const auto g = admitted_guest(client, concert);
        REQUIRE_STATUS(charge(client, g.user, 100'000), 200);
        auto held = hold(client, g, concert, seat);
        REQUIRE_STATUS(held, 201);
        const std::string id = held.json().at("reservationId");
        if (seat == 3) {
            REQUIRE_STATUS(cancel(client, g.user, id), 200);
            continue;
        }
        REQUIRE_STATUS(pay(client, g.user, id), 201);
        if (seat == 4) REQUIRE_STATUS(call(client, "POST", "/reservations/" + id + "/refund", {}, bearer(g.user.token)), 200);
    }
}

std::string copy_of(const std::string& data_dir, const std::string& name) {
    const std::string copy = data_dir + "-" + name;
    std::filesystem::remove_all(copy);
    std::filesystem::copy(data_dir, copy, std::filesystem::copy_options::recursive);
    return copy;
}

// Every file under `dir`: its size, mode and contents.
std::map<std::string, std::string> files_of(const std::string& dir) {
    std::map<std::string, std::string> out;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto mode = static_cast<unsigned>(entry.status().permissions());
        out[entry.path().string()] = std::to_string(mode) + " " + std::to_string(bytes.size()) + " " + bytes;
    }
    return out;
}

// (No semicolon in a test name: ctest's discovery would cut the name there, and run nothing.)
TEST_CASE("encore audit: a clean data dir passes, and a flipped event or read model byte is named", "[audit]") {
    server_options o;
    o.partitions = 2;
    server_process server(o);
    write_traffic(server);
    REQUIRE(server.stop() == 0);
    const std::string partitions = " --partitions 2 --json";

    SECTION("a clean data dir passes with the money balanced") {
        const audit_run run = run_audit("--data-dir " + server.data_dir() + partitions);
        INFO(run.output);
        REQUIRE(run.status == 0);
        const json& r = run.report;
        CHECK(r.at("passed") == true);
        CHECK(r.at("failures").empty());
        CHECK(r.at("partitions") == 2);
        CHECK(r.at("commands").get<std::uint64_t>() > 0);
        CHECK(r.at("events").get<std::uint64_t>() > 0);
        const json& m = r.at("money");
        CHECK(m.at("charges") == 400'000);
        CHECK(m.at("payments") == 240'000);
        CHECK(m.at("refunds") == 80'000);
        CHECK(m.at("charges").get<std::int64_t>() ==
              m.at("balances").get<std::int64_t>() + m.at("payments").get<std::int64_t>() - m.at("refunds").get<std::int64_t>());
        CHECK(r.at("seats_sold") == 2);
        CHECK(r.at("seats_sold_twice") == 0);
        CHECK(r.at("read_models").at("compared") == true);
    }

    SECTION("the audit and encore events write nothing in the directory, and take its partition count") {
        const auto before = files_of(server.data_dir());
        const audit_run run = run_audit("--data-dir " + server.data_dir() + " --json");  // no --partitions
        INFO(run.output);
        CHECK(run.status == 0);
        CHECK(run.report.at("partitions") == 2);
        const std::string events = std::string(ENCORE_BINARY) + " events --data-dir " + server.data_dir() + " --limit 1 >/dev/null 2>&1";
        CHECK(std::system(events.c_str()) == 0);
        const auto after = files_of(server.data_dir());
        CHECK(after.size() == before.size());
        for (const auto& [path, file] : after) {
            INFO(path);
            CHECK((before.count(path) == 1 && before.at(path) == file));
        }
        CHECK(run_audit("--data-dir " + server.data_dir() + " --partitions 3").status == 2);
    }

    SECTION("progress on stderr: a last plain line in a log, a bar redrawn on a terminal") {
        const std::string log = server.data_dir() + "-progress.txt";
        const std::string audit = std::string(ENCORE_BINARY) + " audit --data-dir " + server.data_dir();
        REQUIRE(std::system((audit + " >/dev/null 2>" + log).c_str()) == 0);
        std::ifstream in(log);
        const std::string plain((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO(plain);
        // Shorter than a line's interval: only the last line, which says where it ended.
        CHECK(plain.find('\r') == std::string::npos);
        CHECK(plain.find("audit: ") == 0);
        CHECK(plain.find("comparing read models") != std::string::npos);
        CHECK(plain.find(" keys\n") != std::string::npos);
        // util-linux `script` gives the audit a terminal: each redraw starts with a carriage return.
        const command_run terminal = run_command("script -qec '" + audit + " >/dev/null' /dev/null 2>/dev/null");
        INFO(terminal.output);
        CHECK(terminal.status == 0);
        CHECK(terminal.output.find("\raudit: ") != std::string::npos);
        CHECK(terminal.output.find(" keys") != std::string::npos);
        std::filesystem::remove(log);
    }

    SECTION("one flipped byte of a stored event: its partition and offset") {
        const std::string dir = copy_of(server.data_dir(), "event");
        std::string key;
        {
            rocks log(dir + "/log", {"default", "commands", "events", "checkpoints", "meta"});
            key = log.flip_first(log.handles[2]);
        }
        REQUIRE(key.size() == 12);
        const audit_run run = run_audit("--data-dir " + dir + partitions);
        INFO(run.output);
        REQUIRE(run.status == 1);
        REQUIRE(run.report.at("passed") == false);
        const json& failures = run.report.at("failures");
        REQUIRE(!failures.empty());
        CHECK(failures[0].at("check") == "events");
        CHECK(failures[0].at("partition") == big_endian(std::string_view(key).substr(0, 4)));
        CHECK(failures[0].at("offset") == big_endian(std::string_view(key).substr(4, 8)));
        std::filesystem::remove_all(dir);
    }

    SECTION("one flipped byte of a stored read model value: its key") {
        const std::string dir = copy_of(server.data_dir(), "models");
        std::string key;
        {
            rocks models(dir + "/projections", {"default"});
            key = models.flip_first(models.handles[0], 'b');  // a balance
        }
        const audit_run run = run_audit("--data-dir " + dir + partitions);
        INFO(run.output);
        REQUIRE(run.status == 1);
        const json& failures = run.report.at("failures");
        REQUIRE(failures.size() == 1);
        CHECK(failures[0].at("check") == "read_models");
        CHECK(failures[0].at("key") == "b " + hex(std::string_view(key).substr(1)));
        std::filesystem::remove_all(dir);
    }

    SECTION("a bad command line exits 2, a data dir that is not there 3") {
        CHECK(run_audit("").status == 2);
        CHECK(run_audit("--data-dir " + server.data_dir() + " --no-such-flag 1").status == 2);
        CHECK(run_audit("--data-dir " + server.data_dir() + "-absent").status == 3);
    }
}

}  // namespace
}  // namespace encore::test

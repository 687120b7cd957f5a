// The `encore` command line as a user meets it: `--help` of a subcommand shows that subcommand's
// flags only, with their defaults and environment variables, and exits 0; no arguments, an unknown
// subcommand or flag, a bad value (given or from an ENCORE_ variable), or a flag of the other mode
// exit 2 naming what was wrong, before anything is opened or created; the environment fallbacks
// and `--flag=value` reach the subcommand.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/integration/export_checks.hpp"

namespace encore::test {
namespace {

struct cli_run {
    int status = -1;
    std::string out, err;
};

// `[ENVIRONMENT] encore ARGUMENTS` through the shell: exit status, stdout and stderr.
cli_run encore_cli(const std::string& arguments, const std::string& environment = "") {
    const std::string err_path =
        (std::filesystem::temp_directory_path() / ("encore-cli-" + std::to_string(::getpid()) + ".stderr")).string();
    const command_run r = run_command("(env " + environment + " " + ENCORE_BINARY + " " + arguments + " 2>" + err_path + ")");
    std::ifstream in(err_path);
    cli_run run{r.status, r.output, std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
    std::filesystem::remove(err_path);
    return run;
}

// A data directory that does not exist: a refused command line must not create it.
std::string absent_dir() {
    const auto dir = std::filesystem::temp_directory_path() / ("encore-cli-absent-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    return dir.string();
}

TEST_CASE("a subcommand's --help shows its own flags, defaults and environment variables", "[cli]") {
    const cli_run onsale = encore_cli("bench onsale --help");
    INFO(onsale.out << onsale.err);
    CHECK(onsale.status == 0);
    CHECK(onsale.err.empty());
    CHECK_THAT(onsale.out, Catch::Contains("Usage: encore bench onsale"));
    for (const char* flag : {"--users", "--seats-per-date", "--dates", "--connections", "--streams", "--map-readers", "--partitions",
                             "--capacity", "--seconds", "--seed"})
        CHECK_THAT(onsale.out, Catch::Contains(flag));
    CHECK_THAT(onsale.out, Catch::Contains("[default: 1000000]"));
    CHECK_THAT(onsale.out, Catch::Contains("[env: ENCORE_SEATS_PER_DATE]"));
    // Not serve's, nor another benchmark's.
    CHECK_THAT(onsale.out, !Catch::Contains("--admin-key"));
    CHECK_THAT(onsale.out, !Catch::Contains("--hold-share"));

    const cli_run serve = encore_cli("help serve");
    INFO(serve.out);
    CHECK(serve.status == 0);
    for (const char* shown : {"--data-dir DIR", "[env: ENCORE_ADMIN_KEY]", "--admin-key-file", "[env: ENCORE_PARTITIONS]",
                              "[default: 127.0.0.1:8080]", "--storage-reserve-mb", "Kafka mode", "--kafka-config"})
        CHECK_THAT(serve.out, Catch::Contains(shown));
    CHECK_THAT(serve.out, !Catch::Contains("--seats-per-date"));

    const cli_run top = encore_cli("--help");
    CHECK(top.status == 0);
    for (const char* subcommand : {"serve", "audit", "events", "export", "kafka-mock", "bench"})
        CHECK_THAT(top.out, Catch::Contains(subcommand));
    CHECK_THAT(top.out, !Catch::Contains("--admin-key"));
}

TEST_CASE("bench phases times each kind of apply of a small stadium's phases", "[cli][bench]") {
    const cli_run run = encore_cli("bench phases --ids 20000 --claims 100 --users 1000");
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
    const json result = json::parse(run.out, nullptr, false);
    REQUIRE(result.is_object());
    // Two batches of 10,000 ids; a claim and a join per claimant; each tick one apply.
    CHECK(result.at("list_upload").at("applies") == 2);
    CHECK(result.at("claim").at("applies") == 100);
    CHECK(result.at("presale_join").at("applies") == 100);
    // The presale opens: PhaseOpened, each of the 100 placed and admitted (capacity 1,000).
    CHECK(result.at("presale_open").at("events") == 201);
    CHECK(result.at("presale_close").at("events") == 1);
    // The general sale: 1,000 placed and 1,000 admitted.
    CHECK(result.at("general_open").at("events") == 2001);
    for (const char* kind : {"list_upload", "claim", "presale_join", "presale_open", "presale_close", "general_join", "general_open"})
        CHECK(result.at(kind).at("longest_ms").get<double>() > 0);
    CHECK(encore_cli("bench phases --ids 10 --claims 11").status == 2);
}

TEST_CASE("bench door checks a small date's tickets in at its gates, each once", "[cli][bench]") {
    const cli_run run = encore_cli("bench door --tickets 800 --gates 4 --duplicates 10 --partitions 2");
    INFO(run.out << run.err);
    REQUIRE(run.status == 0);
    const json result = json::parse(run.out, nullptr, false);
    REQUIRE(result.is_object());
    CHECK(result.at("admitted") == 800);
    CHECK(result.at("admitted_twice") == 0);
    CHECK(result.at("already_admitted") == 80);  // 10% of each gate's 200 scanned again
    CHECK(result.at("admissions_recorded") == 800);
    CHECK(result.at("checkins").at("requests") == 880);
    CHECK(result.at("checkins").at("p99_ms").get<double>() > 0);
    CHECK(encore_cli("bench door --tickets 850 --gates 4").status == 2);  // not a multiple of 4 x 100
}

TEST_CASE("a bad command line exits 2 naming what is wrong", "[cli]") {
    const std::string dir = absent_dir();
    const std::string serve = "serve --data-dir " + dir + " --listen 127.0.0.1:0 --admin-key cli-admin-key";

    SECTION("no arguments: the subcommands on stderr") {
        const cli_run none = encore_cli("");
        CHECK(none.status == 2);
        CHECK(none.out.empty());
        CHECK_THAT(none.err, Catch::Contains("kafka-mock"));
    }
    SECTION("an unknown subcommand") {
        CHECK_THAT(encore_cli("frob").err, Catch::Contains("unknown subcommand 'frob'"));
        const cli_run bench = encore_cli("bench frob");
        CHECK(bench.status == 2);
        CHECK_THAT(bench.err, Catch::Contains("encore bench: unknown subcommand 'frob'"));
    }
    SECTION("an unknown flag") {
        const cli_run onsale = encore_cli("bench onsale --no-such-flag 1");
        CHECK(onsale.status == 2);
        CHECK_THAT(onsale.err, Catch::Contains("--no-such-flag"));
        CHECK_THAT(onsale.err, Catch::Contains("encore bench onsale --help"));
        const cli_run served = encore_cli(serve + " --bogus");
        CHECK(served.status == 2);
        CHECK_THAT(served.err, Catch::Contains("--bogus"));
    }
    SECTION("a value out of range, given as --flag value or --flag=value") {
        const cli_run partitions = encore_cli(serve + " --partitions 0");
        CHECK(partitions.status == 2);
        CHECK_THAT(partitions.err, Catch::Contains("--partitions") && Catch::Contains("'0'"));
        const cli_run brokers = encore_cli("kafka-mock --brokers=17");
        CHECK(brokers.status == 2);
        CHECK_THAT(brokers.err, Catch::Contains("--brokers") && Catch::Contains("'17'"));
        const cli_run share = encore_cli("bench http --hold-share=-5");
        CHECK(share.status == 2);
        CHECK_THAT(share.err, Catch::Contains("not '-5'"));
    }
    SECTION("a bad value from the environment names its variable") {
        const cli_run partitions = encore_cli(serve, "ENCORE_PARTITIONS=0");
        CHECK(partitions.status == 2);
        CHECK_THAT(partitions.err, Catch::Contains("'0'") && Catch::Contains("ENCORE_PARTITIONS"));
        const cli_run config = encore_cli("bench kafka", "ENCORE_KAFKA_CONFIG='socket.timeout.ms=2000 broken'");
        CHECK(config.status == 2);
        CHECK_THAT(config.err, Catch::Contains("--kafka-config takes key=value, not 'broken'"));
    }
    SECTION("a flag of the other mode, or two that exclude each other") {
        const cli_run node_id = encore_cli(serve + " --node-id n1");
        CHECK(node_id.status == 2);
        CHECK_THAT(node_id.err, Catch::Contains("--node-id is for Kafka mode only"));
        const cli_run secrets = encore_cli(serve + " --admin-key-file /dev/null");
        CHECK(secrets.status == 2);
        CHECK_THAT(secrets.err, Catch::Contains("--admin-key") && Catch::Contains("--admin-key-file"));
        const cli_run state = encore_cli("audit --data-dir " + dir + " --state-json " + dir + ".json");
        CHECK(state.status == 2);
        CHECK_THAT(state.err, Catch::Contains("--state-json"));
    }
    SECTION("a missing required flag") {
        const cli_run missing = encore_cli("serve --admin-key cli-admin-key");
        CHECK(missing.status == 2);
        CHECK_THAT(missing.err, Catch::Contains("--data-dir"));
    }
    CHECK(!std::filesystem::exists(dir));
}

TEST_CASE("a flag not given is read from its ENCORE_ variable, and one given wins over it", "[cli]") {
    const std::string dir = absent_dir();
    // An unreadable data directory exits 3, a missing --data-dir 2: the variable reached the audit.
    const cli_run from_environment = encore_cli("audit", "ENCORE_DATA_DIR=" + dir);
    INFO(from_environment.err);
    CHECK(from_environment.status == 3);
    CHECK_THAT(from_environment.err, Catch::Contains(dir));
    CHECK(encore_cli("audit --data-dir=" + dir).status == 3);
    // Given on the command line, a flag's variable is not read.
    CHECK(encore_cli("kafka-mock --brokers 17", "ENCORE_BROKERS=1").status == 2);
    const cli_run overridden = encore_cli("serve --data-dir " + dir + " --admin-key cli-admin-key --partitions 0",
                                          "ENCORE_PARTITIONS=2");
    CHECK(overridden.status == 2);
    CHECK_THAT(overridden.err, !Catch::Contains("ENCORE_PARTITIONS"));
    CHECK(!std::filesystem::exists(dir));
}

}  // namespace
}  // namespace encore::test

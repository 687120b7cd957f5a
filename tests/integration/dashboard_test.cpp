// docs/grafana-dashboard.json against a running server: every metric it queries is one that
// GET /metrics serves, and it is importable (a Prometheus data source variable that every panel
// uses).

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/api.hpp"

namespace encore::test {
namespace {

// Every string under a key named `expr`, `definition` or `query`, anywhere in the document.
void queries_of(const json& j, std::vector<std::string>& out) {
    if (j.is_object()) {
        for (const auto& [key, value] : j.items()) {
            if (value.is_string() && (key == "expr" || key == "definition" || key == "query"))
                out.push_back(value.get<std::string>());
            else queries_of(value, out);
        }
    } else if (j.is_array()) {
        for (const json& item : j) queries_of(item, out);
    }
}

// The sample names of a Prometheus text exposition (histograms' _bucket, _sum and _count
// included) and the family names of its TYPE lines.
std::set<std::string> metric_names(const std::string& text) {
    std::set<std::string> names;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# TYPE ")) {
            std::istringstream words(line.substr(7));
            std::string name;
            words >> name;
            names.insert(name);
            continue;
        }
        if (line.empty() || line[0] == '#') continue;
        names.insert(line.substr(0, line.find_first_of("{ ")));
    }
    return names;
}

}  // namespace

TEST_CASE("the Grafana dashboard queries only metrics that /metrics serves", "[operations][metrics][dashboard]") {
    std::ifstream in(ENCORE_GRAFANA_DASHBOARD);
    REQUIRE(in);
    const json dashboard = json::parse(in);

    // A data source variable of type prometheus, used by every panel and every query.
    bool has_datasource_variable = false;
    for (const json& v : dashboard.at("templating").at("list")) {
        if (v.at("type") == "datasource" && v.at("name") == "datasource" && v.at("query") == "prometheus")
            has_datasource_variable = true;
    }
    CHECK(has_datasource_variable);
    std::set<int> ids;
    std::size_t panels = 0;
    for (const json& p : dashboard.at("panels")) {
        INFO(p.at("title"));
        CHECK(ids.insert(p.at("id").get<int>()).second);
        if (p.at("type") == "row") continue;
        ++panels;
        CHECK(p.at("datasource").at("uid") == "${datasource}");
        REQUIRE_FALSE(p.at("targets").empty());
        for (const json& t : p.at("targets")) {
            CHECK(t.at("datasource").at("uid") == "${datasource}");
            CHECK_FALSE(t.at("expr").get<std::string>().empty());
        }
    }
    CHECK(panels >= 10);

    // A server with a concert, a queue, a hold and requests, so that every labelled family has a series.
    server_process server;
    http_client client(server.host(), server.port());
    const auto concert = create_concert(client, server, concert_body(10, 1'000));
    const auto g = admitted_guest(client, concert);
    REQUIRE_STATUS(hold(client, g, concert, 1), 201);
    CHECK_STATUS(call(client, "GET", "/no-such-route"), 404);
    auto metrics = call(client, "GET", "/metrics");
    REQUIRE_STATUS(metrics, 200);
    const std::set<std::string> served = metric_names(metrics.body);
    INFO(metrics.body.substr(0, 4000));

    std::vector<std::string> queries;
    queries_of(dashboard, queries);
    REQUIRE_FALSE(queries.empty());
    const std::regex metric_name(R"(\bencore_[a-zA-Z0-9_]+)");
    std::set<std::string> used;
    for (const std::string& q : queries) {
        for (std::sregex_iterator it(q.begin(), q.end(), metric_name), end; it != end; ++it) used.insert(it->str());
    }
    for (const std::string& name : used) {
        INFO(name);
        CHECK(served.count(name) == 1);
    }
    // The panels the dashboard promises.
    for (const char* name : {"encore_http_requests_total", "encore_http_request_duration_seconds_bucket",
                             "encore_commands_applied_total", "encore_queue_waiting", "encore_queue_active",
                             "encore_checkpoint_seconds_max", "encore_checkpoint_bytes_max",
                             "encore_http_connections_open", "encore_http_connections_limit",
                             "encore_command_log_end_offset", "encore_projection_applied_sequence"}) {
        INFO(name);
        CHECK(used.count(name) == 1);
    }
    // The per-concert series carry the concert's id.
    CHECK(metrics.body.find("encore_queue_active{concert=\"" + concert + "\"} 1") != std::string::npos);
}

}  // namespace encore::test

// The three formats of `encore export`. Each writes beside its final path (`.partial`) and renames
// when the file is complete, so that an analyst never opens half an export.
//
//   sqlite  one database file: typed columns (INTEGER, REAL, TEXT), each table's primary key, the
//           indexes of `table::indexes` (made after the rows are in, which is faster), all in one
//           transaction with the journal off (the file is new: nothing to roll back to)
//   csv     RFC 4180: a header row, CRLF line ends, a field quoted (quotes doubled) when it holds
//           a comma, a quote, CR or LF; NULL is an empty field
//   jsonl   one JSON object per line, NULL as null, `json` columns nested as JSON values

#include <sqlite3.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "replay/export/tables.hpp"

namespace encore::replay::export_data {
namespace {

// Big buffered writes: a table is written front to back once.
constexpr std::size_t file_buffer_bytes = 1u << 20;
// SQLite's page cache while loading, in KiB (negative: KiB rather than pages).
constexpr int sqlite_cache_kib = 128 * 1024;

std::string partial(const std::string& path) { return path + ".partial"; }

void move_into_place(const std::string& from, const std::string& to) {
    std::error_code ec;
    std::filesystem::rename(from, to, ec);
    if (ec) throw output_error{"cannot rename " + from + " to " + to + ": " + ec.message()};
}

std::string quoted_identifier(const std::string& name) { return "\"" + name + "\""; }

std::string number_text(double v) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return ec == std::errc{} ? std::string(buffer, end) : std::string("0");
}

// ---- a file written front to back ---------------------------------------------------------------

class output_file {
public:
    explicit output_file(std::string path) : path_(std::move(path)), partial_(partial(path_)) {
        file_ = std::fopen(partial_.c_str(), "wb");
        if (file_ == nullptr) throw output_error{"cannot create " + partial_ + ": " + std::strerror(errno)};
        std::setvbuf(file_, nullptr, _IOFBF, file_buffer_bytes);
    }
    ~output_file() {
        if (file_ != nullptr) {
            std::fclose(file_);
            std::remove(partial_.c_str());  // unfinished: an error is on its way up
        }
    }
    output_file(const output_file&) = delete;
    output_file& operator=(const output_file&) = delete;

    void write(std::string_view bytes) {
        if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
            throw output_error{"cannot write " + partial_ + ": " + std::strerror(errno)};
    }
    void close() {
        const bool flushed = std::fflush(file_) == 0;
        const int saved = errno;
        const bool closed = std::fclose(file_) == 0;
        file_ = nullptr;
        if (!flushed || !closed) {
            std::remove(partial_.c_str());
            throw output_error{"cannot write " + partial_ + ": " + std::strerror(flushed ? errno : saved)};
        }
        move_into_place(partial_, path_);
    }

private:
    std::string path_, partial_;
    std::FILE* file_ = nullptr;
};

void make_folder(const std::string& folder) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec || !std::filesystem::is_directory(folder, ec)) throw output_error{"cannot make the folder " + folder + (ec ? ": " + ec.message() : "")};
}

// ---- CSV ----------------------------------------------------------------------------------------

void append_csv_field(std::string& line, std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        line += text;
        return;
    }
    line += '"';
    for (char c : text) {
        if (c == '"') line += '"';
        line += c;
    }
    line += '"';
}

class csv_sink final : public sink {
public:
    explicit csv_sink(std::string folder) : folder_(std::move(folder)) { make_folder(folder_); }

    void begin_table(const table& t) override {
        file_.emplace(folder_ + "/" + t.name + ".csv");
        line_.clear();
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            if (i > 0) line_ += ',';
            append_csv_field(line_, t.columns[i].name);
        }
        line_ += "\r\n";
        file_->write(line_);
    }
    void add_row(const row& r) override {
        line_.clear();
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (i > 0) line_ += ',';
            if (const auto* n = std::get_if<std::int64_t>(&r[i])) line_ += std::to_string(*n);
            else if (const auto* d = std::get_if<double>(&r[i])) line_ += number_text(*d);
            else if (const auto* s = std::get_if<std::string>(&r[i])) append_csv_field(line_, *s);
        }
        line_ += "\r\n";
        file_->write(line_);
    }
    void end_table() override {
        file_->close();
        file_.reset();
    }
    void finish() override {}

private:
    std::string folder_;
    std::optional<output_file> file_;
    std::string line_;
};

// ---- JSON Lines ---------------------------------------------------------------------------------

class jsonl_sink final : public sink {
public:
    explicit jsonl_sink(std::string folder) : folder_(std::move(folder)) { make_folder(folder_); }

    void begin_table(const table& t) override {
        file_.emplace(folder_ + "/" + t.name + ".jsonl");
        keys_.clear();
        nested_.clear();
        for (const column& c : t.columns) {
            keys_.push_back(nlohmann::json(c.name).dump() + ":");
            nested_.push_back(c.type == column_type::json);
        }
    }
    void add_row(const row& r) override {
        line_ = "{";
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (i > 0) line_ += ',';
            line_ += keys_[i];
            if (const auto* n = std::get_if<std::int64_t>(&r[i])) line_ += std::to_string(*n);
            else if (const auto* d = std::get_if<double>(&r[i])) line_ += number_text(*d);
            else if (const auto* s = std::get_if<std::string>(&r[i])) line_ += nested_[i] ? *s : nlohmann::json(*s).dump();
            else line_ += "null";
        }
        line_ += "}\n";
        file_->write(line_);
    }
    void end_table() override {
        file_->close();
        file_.reset();
    }
    void finish() override {}

private:
    std::string folder_;
    std::optional<output_file> file_;
    std::vector<std::string> keys_;
    std::vector<bool> nested_;
    std::string line_;
};

// ---- SQLite -------------------------------------------------------------------------------------

class sqlite_sink final : public sink {
public:
    explicit sqlite_sink(std::string path) : path_(std::move(path)), partial_(partial(path_)) {
        if (const auto parent = std::filesystem::path(path_).parent_path(); !parent.empty()) make_folder(parent.string());
        std::error_code ec;
        std::filesystem::remove(partial_, ec);
        if (sqlite3_open_v2(partial_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
            const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            throw output_error{"cannot create " + partial_ + ": " + why};
        }
        exec("PRAGMA journal_mode = OFF");
        exec("PRAGMA synchronous = OFF");
        exec("PRAGMA locking_mode = EXCLUSIVE");
        exec("PRAGMA cache_size = -" + std::to_string(sqlite_cache_kib));
        exec("BEGIN");
    }
    ~sqlite_sink() override {
        if (insert_ != nullptr) sqlite3_finalize(insert_);
        if (db_ != nullptr) {
            sqlite3_close(db_);
            std::error_code ec;
            std::filesystem::remove(partial_, ec);  // unfinished: an error is on its way up
        }
    }

    void begin_table(const table& t) override {
        std::string create = "CREATE TABLE " + quoted_identifier(t.name) + " (";
        std::string insert = "INSERT INTO " + quoted_identifier(t.name) + " VALUES (";
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
            const column& c = t.columns[i];
            create += (i > 0 ? ", " : "") + quoted_identifier(c.name) + " " +
                      (c.type == column_type::json ? std::string("TEXT") : std::string(column_type_name(c.type)));
            insert += i > 0 ? ", ?" : "?";
        }
        if (!t.primary_key.empty()) {
            create += ", PRIMARY KEY (";
            for (std::size_t i = 0; i < t.primary_key.size(); ++i) create += (i > 0 ? ", " : "") + quoted_identifier(t.primary_key[i]);
            create += ")";
        }
        exec(create + ")");
        for (const auto& index : t.indexes) {
            std::string name = t.name, columns;
            for (const std::string& c : index) {
                name += "_" + c;
                columns += (columns.empty() ? "" : ", ") + quoted_identifier(c);
            }
            indexes_.push_back("CREATE INDEX " + quoted_identifier(name) + " ON " + quoted_identifier(t.name) + " (" + columns + ")");
        }
        if (sqlite3_prepare_v2(db_, (insert + ")").c_str(), -1, &insert_, nullptr) != SQLITE_OK) fail("preparing the insert into " + t.name);
        table_ = t.name;
    }
    void add_row(const row& r) override {
        for (std::size_t i = 0; i < r.size(); ++i) {
            const int at = static_cast<int>(i + 1);
            int bound = SQLITE_OK;
            if (const auto* n = std::get_if<std::int64_t>(&r[i])) bound = sqlite3_bind_int64(insert_, at, *n);
            else if (const auto* d = std::get_if<double>(&r[i])) bound = sqlite3_bind_double(insert_, at, *d);
            else if (const auto* s = std::get_if<std::string>(&r[i]))
                bound = sqlite3_bind_text(insert_, at, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
            else bound = sqlite3_bind_null(insert_, at);
            if (bound != SQLITE_OK) fail("binding a value of " + table_);
        }
        if (sqlite3_step(insert_) != SQLITE_DONE) fail("inserting into " + table_);
        sqlite3_reset(insert_);
    }
    void end_table() override {
        sqlite3_finalize(insert_);
        insert_ = nullptr;
    }
    void finish() override {
        for (const std::string& index : indexes_) exec(index);
        exec("COMMIT");
        // Statistics for the query planner, so that analysts' joins pick the indexes.
        exec("ANALYZE");
        if (sqlite3_close(db_) != SQLITE_OK) fail("closing");
        db_ = nullptr;
        move_into_place(partial_, path_);
    }

private:
    [[noreturn]] void fail(const std::string& what) {
        throw output_error{"sqlite: " + what + " in " + partial_ + ": " + sqlite3_errmsg(db_)};
    }
    void exec(const std::string& sql) {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
            const std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
            sqlite3_free(message);
            throw output_error{"sqlite: " + why + " (" + sql.substr(0, 80) + ") in " + partial_};
        }
    }

    std::string path_, partial_;
    sqlite3* db_ = nullptr;
    sqlite3_stmt* insert_ = nullptr;
    std::string table_;
    std::vector<std::string> indexes_;
};

}  // namespace

std::unique_ptr<sink> open_sink(format f, const std::string& out) {
    switch (f) {
        case format::sqlite: return std::make_unique<sqlite_sink>(out);
        case format::csv: return std::make_unique<csv_sink>(out);
        case format::jsonl: return std::make_unique<jsonl_sink>(out);
    }
    throw output_error{"unknown format"};
}

}  // namespace encore::replay::export_data

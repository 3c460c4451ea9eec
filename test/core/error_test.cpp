#include <set>

#include "tarn/core/error.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("error table: every code has a unique pnpm-or-tarn name, an exit status and a documented row") {
  std::string doc = test::read_file(std::string(TARN_SOURCE_DIR) + "/docs/errors.md");
  std::set<std::string_view> names;
  size_t i = 0;
  for (const CodeInfo& c : all_codes()) {
    CAPTURE(c.name);
    CHECK(static_cast<size_t>(c.code) == i++);
    CHECK(names.insert(c.name).second);
    bool prefixed = c.name.rfind("ERR_PNPM_", 0) == 0 || c.name.rfind("ERR_TARN_", 0) == 0 || c.name == "ELIFECYCLE";
    CHECK(prefixed);
    CHECK(!c.meaning.empty());
    CHECK((c.exit_status == 1 || c.exit_status == 2 || c.exit_status == 130));
    std::string needle = "`";
    needle.append(c.name).append("`");
    CHECK(doc.find(needle) != std::string::npos);
  }
  CHECK(info(Code::Usage).exit_status == 2);
  CHECK(Error::http(404, "x").code_name() == "ERR_PNPM_FETCH_404");
  CHECK(Error::http(404, "x").is_not_found());
}

TEST_CASE("errors: a parallel pass's many failures become one summary by code") {
  ErrorSink sink;
  for (int i = 0; i < 10; ++i) sink.add(Error::failed(Code::FetchFailed, "pkg" + std::to_string(i)));
  sink.add(Error::http(404, "missing"));
  Error e = sink.merged("fetching");
  CHECK(e.message.find("11 errors while fetching") == 0);
  CHECK(e.message.find("ERR_TARN_FETCH_FAILED (10)") != std::string::npos);
  CHECK(e.message.find("... and 7 more") != std::string::npos);
  CHECK(e.message.find("pkg9") == std::string::npos);
  CHECK(e.message.find("ERR_PNPM_FETCH_404 (1)") != std::string::npos);
  // The same failure added again (another dependent met it) does not count twice.
  for (int i = 0; i < 5; ++i) sink.add(Error::http(404, "missing"));
  CHECK(sink.merged("fetching").message == e.message);
  ErrorSink one;
  for (int i = 0; i < 4; ++i) one.add(Error::http(500, "GET /x: Internal Server Error - 500"));
  CHECK(one.merged("resolving").render() == "ERR_PNPM_FETCH_500  GET /x: Internal Server Error - 500");
}

TEST_CASE("printable: input bytes are escaped before they reach a terminal") {
  struct Row {
    std::string in, out;
  };
  for (auto& r : {Row{"plain", "plain"}, Row{"a\x1b[2Jb", "a\\x1b[2Jb"}, Row{"\xff\xfe", "\\xff\\xfe"},
                  Row{"caf\xc3\xa9", "caf\xc3\xa9"}, Row{"\xc3", "\\xc3"}, Row{"tab\there", "tab\\x09here"},
                  Row{std::string(300, 'x'), std::string(200, 'x') + "..."}}) {
    CAPTURE(r.in);
    CHECK(printable(r.in) == r.out);
  }
}

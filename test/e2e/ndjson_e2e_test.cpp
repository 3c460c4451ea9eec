// tarn's --reporter=ndjson against pnpm 12.21's log of the same install: test/e2e/ndjson
// (registry.json, project/ with pnpm's lockfile, pnpm-12.21.ndjson recorded by
// scripts/record-pnpm-ndjson.sh against the same loopback registry). Times, pids and which
// of two concurrent downloads finishes first differ from run to run; what a tool reading
// pnpm's log relies on does not: the kinds of events and how many, their fields, the
// values that name packages, and the order rules below. Each rule is checked on pnpm's
// recorded log too, so a rule pnpm itself does not keep fails here, not silently.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <filesystem>
#include <map>
#include <set>

#include "registry_case.hpp"
#include "testing.hpp"

using namespace tarn::test;
namespace json = boost::json;

namespace {

const std::string kCase = std::string(TARN_SOURCE_DIR) + "/test/e2e/ndjson";

struct Event {
  std::string kind;  // name, ":" status or stage, and for pnpm:stats which count it carries
  json::object body;
};

std::string kind_of(const json::object& e) {
  std::string k(e.at("name").as_string());
  for (const char* f : {"status", "stage"})
    if (auto* v = e.if_contains(f)) k += ":" + std::string(v->as_string());
  if (k == "pnpm:stats") k += e.contains("added") ? ":added" : ":removed";
  return k;
}

// One event per line; `prefix` (the project's directory) becomes "<project>", as the
// recording script writes pnpm's.
std::vector<Event> parse_log(const std::string& text, const std::string& prefix) {
  std::vector<Event> out;
  for (size_t i = 0; i < text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos) j = text.size();
    std::string line = text.substr(i, j - i);
    i = j + 1;
    if (line.empty()) continue;
    if (!prefix.empty())
      for (size_t at = line.find(prefix); at != std::string::npos; at = line.find(prefix, at))
        line.replace(at, prefix.size(), "<project>");
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    INFO(line);
    REQUIRE(!ec);
    REQUIRE(v.is_object());
    out.push_back({kind_of(v.as_object()), v.as_object()});
  }
  return out;
}

std::string str(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : "";
}

// The fields of an event, in order, nested objects' fields after a '.' (the manifest
// under package-manifest's `initial` is the project's own, not a field of the event).
std::vector<std::string> fields(const json::object& o) {
  std::vector<std::string> out;
  for (auto& [k, v] : o) {
    out.emplace_back(k);
    if (v.is_object() && k != "initial")
      for (auto& [k2, v2] : v.as_object()) out.push_back(std::string(k) + "." + std::string(k2));
  }
  return out;
}

std::string package_of_import(const json::object& e) {
  // "<project>/node_modules/.pnpm/<slot>/node_modules/<name>": the name, scoped or not.
  std::string to = str(e, "to");
  size_t at = to.rfind("/node_modules/");
  return at == std::string::npos ? to : to.substr(at + 14);
}

std::string name_of(const std::string& package_id) { return package_id.substr(0, package_id.rfind('@')); }

// The order rules pnpm 12.21 keeps on every run (six recordings of this install compared).
std::vector<std::string> order_violations(const std::vector<Event>& log) {
  std::vector<std::string> bad;
  const std::vector<std::string> head = {"pnpm:scope", "pnpm:package-manifest", "pnpm:context",
                                         "pnpm:stage:importing_started", "pnpm", "pnpm:lockfile-verification:started"};
  for (size_t i = 0; i < head.size(); ++i)
    if (i >= log.size() || log[i].kind != head[i]) bad.push_back("event " + std::to_string(i) + " is not " + head[i]);
  // The tail: stats, every root, then the closing four.
  std::vector<std::string> tail = {"pnpm:stats:added", "pnpm:stats:removed"};
  for (auto& e : log)
    if (e.kind == "pnpm:root") tail.push_back("pnpm:root");
  for (const char* k : {"pnpm:stage:importing_done", "pnpm:ignored-scripts", "pnpm:summary", "pnpm:execution-time"})
    tail.push_back(k);
  for (size_t i = 0; i < tail.size(); ++i)
    if (tail.size() > log.size() || log[log.size() - tail.size() + i].kind != tail[i])
      bad.push_back("event " + std::to_string(i) + " from the end's last " + std::to_string(tail.size()) + " is not " + tail[i]);
  // Per package: resolved, fetch started, in progress, fetched, imported.
  std::map<std::string, int> stage;  // package name -> last step seen
  bool import_method = false, verified = false;
  for (auto& e : log) {
    int step = e.kind == "pnpm:progress:resolved"              ? 1
               : e.kind == "pnpm:fetching-progress:started"     ? 2
               : e.kind == "pnpm:fetching-progress:in_progress" ? 3
               : e.kind == "pnpm:progress:fetched"              ? 4
               : e.kind == "pnpm:progress:imported"             ? 5
                                                                : 0;
    if (e.kind == "pnpm:package-import-method") import_method = true;
    if (e.kind == "pnpm:lockfile-verification:done") verified = true;
    if (e.kind == "pnpm:stats:added" && !verified) bad.push_back("lockfile-verification:done after stats");
    if (!step) continue;
    std::string pkg = step == 5 ? package_of_import(e.body) : name_of(str(e.body, "packageId"));
    int& last = stage[pkg];
    bool ok = step == 3 || step == 4 ? (last == 2 || last == 3) : last == step - 1;
    if (!ok) bad.push_back(e.kind + " of " + pkg + " after step " + std::to_string(last));
    last = step;
    if (step == 5 && !import_method) bad.push_back("imported " + pkg + " before package-import-method");
  }
  for (auto& [pkg, last] : stage)
    if (last != 5) bad.push_back(pkg + " ends at step " + std::to_string(last));
  return bad;
}

std::map<std::string, int> counts(const std::vector<Event>& log) {
  std::map<std::string, int> out;
  for (auto& e : log)
    if (e.kind != "pnpm:fetching-progress:in_progress") ++out[e.kind];  // one every 500 ms: timing
  return out;
}

// Field lists per kind; every event of a kind has the same ones.
std::map<std::string, std::vector<std::string>> field_lists(const std::vector<Event>& log) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& e : log) {
    auto f = fields(e.body);
    auto [it, fresh] = out.emplace(e.kind, f);
    INFO(e.kind);
    if (!fresh) CHECK(it->second == f);
  }
  return out;
}

// The values that name the install's packages and counts, per kind, as sorted texts.
std::map<std::string, std::multiset<std::string>> values(const std::vector<Event>& log) {
  std::map<std::string, std::multiset<std::string>> out;
  for (auto& e : log) {
    auto& o = e.body;
    auto& v = out[e.kind];
    if (e.kind == "pnpm:fetching-progress:started")
      v.insert(str(o, "packageId") + " attempt " + json::serialize(o.at("attempt")) + " size " + json::serialize(o.at("size")));
    else if (e.kind.starts_with("pnpm:progress:"))
      v.insert(str(o, "packageId") + str(o, "to") + " " + str(o, "requester") + " " + str(o, "method"));
    else if (e.kind == "pnpm:root" || e.kind.starts_with("pnpm:stats") || e.kind == "pnpm:scope" ||
             e.kind == "pnpm:package-manifest" || e.kind == "pnpm:ignored-scripts" || e.kind == "pnpm:package-import-method")
      v.insert(json::serialize(json::object(o.begin() + 4, o.end())));  // past time, hostname, pid, name
    else if (e.kind.starts_with("pnpm:lockfile-verification"))
      v.insert(str(o, "status") + " entries " + json::serialize(o.at("entries")) + " " + str(o, "lockfilePath"));
    else if (e.kind == "pnpm" || e.kind.starts_with("pnpm:stage") || e.kind == "pnpm:summary")
      v.insert(str(o, "message") + str(o, "stage") + " " + str(o, "prefix"));
  }
  return out;
}

}  // namespace

TEST_CASE("ndjson: kinds, counts, fields, package values and order rules of pnpm 12.21's log of the same install") {
  namespace sfs = std::filesystem;
  RegistryServer server;
  load_registry_case(server, kCase);
  TempDir tmp;
  std::string project = tmp.path() + "/project";
  sfs::copy(kCase + "/project", project, sfs::copy_options::recursive);
  write_file(project + "/.npmrc", "registry=" + server.url() + "\n");
  std::string cmd = "cd '" + project + "' && '" TARN_BINARY "' install --frozen-lockfile --store-dir '" + tmp.path() +
                    "/store' --reporter=ndjson > '" + tmp.path() + "/stdout' 2> '" + tmp.path() + "/events'";
  int rc = std::system(cmd.c_str());
  std::string events = read_file(tmp.path() + "/events");
  INFO(events);
  REQUIRE(WIFEXITED(rc));
  REQUIRE(WEXITSTATUS(rc) == 0);
  CHECK(read_file(tmp.path() + "/stdout").empty());  // pnpm's ndjson goes to stderr only

  auto pnpm = parse_log(read_file(kCase + "/pnpm-12.21.ndjson"), "");
  auto tarn = parse_log(events, project);
  REQUIRE(pnpm.size() > 30);

  CHECK(counts(tarn) == counts(pnpm));
  CHECK(field_lists(tarn) == field_lists(pnpm));
  // The envelope: pnpm's five fields first, in its order.
  for (auto& e : tarn) {
    std::vector<std::string> f = fields(e.body);
    f.resize(std::min<size_t>(f.size(), 5));
    CHECK(f == std::vector<std::string>{"time", "hostname", "pid", "name", "level"});
  }
  auto want = values(pnpm), got = values(tarn);
  for (auto& [kind, v] : want) {
    INFO(kind);
    CHECK(got[kind] == v);
  }
  auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (auto& s : v) out += s + "\n";
    return out;
  };
  CHECK(joined(order_violations(pnpm)) == "");
  CHECK(joined(order_violations(tarn)) == "");
  // The big tarball's progress: the leading edge, and the last event at its full size.
  for (auto* log : {&pnpm, &tarn}) {
    std::vector<const Event*> in_progress;
    for (auto& e : *log)
      if (e.kind == "pnpm:fetching-progress:in_progress") in_progress.push_back(&e);
    REQUIRE(in_progress.size() >= 2);
    CHECK(str(in_progress.back()->body, "packageId") == "big@1.0.0");
    CHECK(in_progress.back()->body.at("downloaded").as_int64() > 5 << 20);
    CHECK(in_progress.front()->body.at("downloaded").as_int64() < in_progress.back()->body.at("downloaded").as_int64());
  }
}

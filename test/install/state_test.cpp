// The files an install leaves for the next one: the identity that makes a repeat install a
// no-op, the workspace state that records it, and pnpm's .modules.yaml.
#include <boost/json.hpp>

#include "state.hpp"
#include "testing.hpp"

using namespace tarn;

TEST_CASE("lockfile digest: read through the buffer equals the one of the whole text, around the buffer's size") {
  test::TempDir tmp;
  std::string path = tmp.path() + "/pnpm-lock.yaml";
  std::string prev;
  for (size_t n : {size_t(0), size_t(1), size_t(65535), size_t(65536), size_t(65537), size_t(300001)}) {
    CAPTURE(n);
    std::string text(n, 'x');
    for (size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + (i * 7919) % 26);
    test::write_file(path, text);
    auto d = lockfile_digest_of_file(path);
    REQUIRE(d);
    CHECK(d->size == n);
    CHECK(d->hash == lockfile_digest(text).hash);
    Settings s;
    InstallOptions o;
    CHECK(install_identity(*d, "m", s, o) == install_identity(text, "m", s, o));
    CHECK(install_identity(*d, "m", s, o) != prev);
    prev = install_identity(*d, "m", s, o);
  }
  auto missing = lockfile_digest_of_file(tmp.path() + "/absent.yaml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is_not_found());
}

TEST_CASE("install identity: equal inputs give equal identity, any input that shapes the tree changes it") {
  Settings s;
  InstallOptions o;
  const std::string base = install_identity("lock", "manifest", s, o);
  CHECK(install_identity("lock", "manifest", s, o) == base);
  struct Row {
    const char* what;
    std::function<std::string()> identity;
  };
  std::vector<Row> rows = {
      {"lockfile", [&] { return install_identity("lock2", "manifest", s, o); }},
      {"manifest", [&] { return install_identity("lock", "manifest2", s, o); }},
      {"--prod", [&] { InstallOptions p = o; p.dev = false; return install_identity("lock", "manifest", s, p); }},
      {"--no-optional", [&] { InstallOptions p = o; p.optional = false; return install_identity("lock", "manifest", s, p); }},
      {"--ignore-scripts", [&] { InstallOptions p = o; p.ignore_scripts = true; return install_identity("lock", "manifest", s, p); }},
      {"store", [&] { Settings t = s; t.store_dir = "/elsewhere"; return install_identity("lock", "manifest", t, o); }},
      {"hoisting", [&] { Settings t = s; t.hoist_pattern.clear(); return install_identity("lock", "manifest", t, o); }},
  };
  for (auto& r : rows) {
    CAPTURE(r.what);
    CHECK(r.identity() != base);
  }
}

TEST_CASE("workspace state: records every project and matches only its own identity") {
  std::string text = workspace_state("id-1", {{"/w", "root", "1.0.0"}, {"/w/packages/a", "a", ""}});
  auto v = boost::json::parse(text).as_object();
  CHECK(v.at("projects").as_object().size() == 2);
  CHECK(v.at("projects").at("/w").at("name").as_string() == "root");
  CHECK(v.at("projects").at("/w/packages/a").as_object().count("version") == 0);
  CHECK(workspace_state_matches(text, "id-1"));
  CHECK_FALSE(workspace_state_matches(text, "id-2"));
  CHECK_FALSE(workspace_state_matches(text, "id-"));
}

TEST_CASE(".modules.yaml: pnpm's fields, hoisted dependencies in plan order, skipped optionals") {
  Settings s;
  s.store_dir = "/store";
  s.public_hoist_pattern = {"*eslint*"};
  InstallOptions o;
  o.dev = false;
  InstallPlan plan;
  plan.hoisted = {{"b@1.0.0", {{"b", HoistKind::Private}}}, {"a@1.0.0", {{"a", HoistKind::Public}}}};
  plan.skipped = {"fsevents@2.3.3"};
  auto m = boost::json::parse(modules_yaml(plan, s, o)).as_object();
  auto& hd = m.at("hoistedDependencies").as_object();
  REQUIRE(hd.size() == 2);
  CHECK(hd.begin()->key() == "b@1.0.0");
  CHECK(hd.at("a@1.0.0").at("a").as_string() == "public");
  CHECK(m.at("included").at("devDependencies").as_bool() == false);
  CHECK(m.at("included").at("dependencies").as_bool() == true);
  CHECK(m.at("skipped").as_array().at(0).as_string() == "fsevents@2.3.3");
  CHECK(m.at("storeDir").as_string() == "/store");
  CHECK(m.at("virtualStoreDir").as_string() == ".pnpm");
  CHECK(m.at("nodeLinker").as_string() == "isolated");
  CHECK(m.at("publicHoistPattern").as_array().at(0).as_string() == "*eslint*");
}

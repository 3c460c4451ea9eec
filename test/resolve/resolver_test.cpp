// Version picking and the resolution walk over an in-memory registry.
#include "tarn/resolve/resolver.hpp"

#include <map>

#include "testing.hpp"

using namespace tarn;
using namespace tarn::resolve;

namespace {

struct V {
  std::string version;
  std::vector<std::pair<std::string, std::string>> deps = {};
  std::string time = "2020-01-01T00:00:00.000Z";
  bool deprecated = false;
  std::vector<std::pair<std::string, std::string>> optional = {};
};

Packument doc(const std::string& name, std::vector<V> vs, std::map<std::string, std::string> tags = {}) {
  Packument d;
  d.name = *PkgName::parse(name);
  for (auto& v : vs) {
    PackageVersion pv;
    pv.version = *Version::parse(v.version);
    pv.dependencies = v.deps;
    pv.optional_dependencies = v.optional;
    if (v.deprecated) pv.deprecated = "old";
    d.versions.push_back(std::move(pv));
    d.time[v.version] = v.time;
  }
  std::sort(d.versions.begin(), d.versions.end(), [](auto& a, auto& b) { return a.version < b.version; });
  d.dist_tags = tags;
  return d;
}

class TableSource : public PackumentSource {
 public:
  std::map<std::string, std::shared_ptr<const Packument>> docs;
  std::map<std::string, int> requests;
  void add(Packument d) {
    std::string n = d.name.str();
    docs[n] = std::make_shared<Packument>(std::move(d));
  }
  void get(const PkgName& name, bool, Callback done) override {
    ++requests[name.str()];
    auto it = docs.find(name.str());
    if (it == docs.end()) return done(Error::http(404, "GET " + name.str() + ": Not Found - 404"));
    done(it->second);
  }
};

WantedSpec spec(const std::string& name, const std::string& s) { return *WantedSpec::parse(*PkgName::parse(name), s); }

std::string picked(const Packument& d, const std::string& s, PickOptions o = {}) {
  auto* pv = pick_version(d, spec(d.name.str(), s), o);
  return pv ? pv->version.str() : "none";
}

}  // namespace

TEST_CASE("pick_version follows pnpm 12's picker") {
  Packument d = doc("a", {{"1.0.0"}, {"1.1.0"}, {"1.2.0", {}, "2020-01-01T00:00:00.000Z", true}, {"2.0.0-rc.1"}, {"2.0.0"}},
                    {{"latest", "1.1.0"}, {"next", "2.0.0-rc.1"}});
  struct Row {
    const char* spec;
    const char* want;
  } rows[] = {
      {"^1.0.0", "1.1.0"},   // latest satisfies: taken over the higher 1.2.0
      {"^2.0.0", "2.0.0"},   // latest does not satisfy: highest match
      {"1.0.0", "1.0.0"},    // exact
      {"next", "2.0.0-rc.1"},  // dist-tag
      {"latest", "1.1.0"},
      {"*", "1.1.0"},
      {"^3", "none"},
      {"beta", "none"},
      {">=2.0.0-rc.0 <2.0.0", "2.0.0-rc.1"},  // prerelease only with a same-tuple comparator
  };
  for (auto& r : rows) {
    INFO(r.spec);
    CHECK(picked(d, r.spec) == r.want);
  }
  // Without a satisfying latest, a deprecated top pick yields to the best non-deprecated one.
  Packument e = doc("e", {{"1.0.0"}, {"1.1.0", {}, "2020-01-01T00:00:00.000Z", true}}, {{"latest", "0.0.0"}});
  CHECK(picked(e, "^1.0.0") == "1.0.0");
  PickOptions low;
  low.lowest = true;
  CHECK(picked(d, "^1.0.0", low) == "1.0.0");
}

TEST_CASE("minimumReleaseAge hides new versions and moves dist-tags within their lane") {
  Packument d = doc("a", {{"1.0.0"}, {"1.1.0", {}, "2099-01-01T00:00:00.000Z"}, {"2.0.0", {}, "2099-01-01T00:00:00.000Z"}},
                    {{"latest", "2.0.0"}});
  PickOptions o;
  o.published_by = *parse_timestamp("2026-11-25T00:00:00.000Z");
  CHECK(picked(d, "^1.0.0", o) == "1.0.0");
  CHECK(picked(d, "latest", o) == "1.0.0");  // latest falls back across majors
  CHECK(picked(d, "^2.0.0", o) == "none");
  o.trusted_versions = {"2.0.0"};
  CHECK(picked(d, "^2.0.0", o) == "2.0.0");
  CHECK(picked(d, "^1.0.0") == "1.1.0");
}

TEST_CASE("the walk resolves each name once, shares package nodes and follows preferred versions") {
  TableSource src;
  src.add(doc("a", {{"1.0.0", {{"b", "^1.0.0"}, {"c", "^1.0.0"}}}}));
  src.add(doc("b", {{"1.0.0", {{"c", "^1.0.0"}}}, {"1.5.0", {{"c", "1.0.0"}, {"a", "^1.0.0"}}}}));  // a cycle
  src.add(doc("c", {{"1.0.0"}, {"1.0.1"}}));
  struct Row {
    const char* name;
    std::vector<std::pair<std::string, std::string>> dev;
    std::vector<std::string> want;
  } rows[] = {
      // b@1.5.0 pins c@1.0.0 and a wants ^1.0.0: the highest, 1.0.1, for a.
      {"no bias", {}, {"a@1.0.0", "b@1.5.0", "c@1.0.0", "c@1.0.1"}},
      // The project's own `c: 1.0.0` weighs 1000 for every `c` range it satisfies (pnpm's
      // preferred versions), so a's ^1.0.0 takes 1.0.0 too.
      {"a project spec biases the whole tree", {{"c", "1.0.0"}}, {"a@1.0.0", "b@1.5.0", "c@1.0.0"}},
  };
  for (auto& r : rows) {
    INFO(r.name);
    src.requests.clear();
    ResolveInput in;
    in.projects.push_back({ImporterId("."), "/p", {}});
    in.projects[0].manifest.dependencies = {{"a", "^1.0.0"}};
    in.projects[0].manifest.dev_dependencies = r.dev;
    std::vector<std::string> picked_order;
    in.on_picked = [&](const PkgName& n, const PackageVersion& v) { picked_order.push_back(n.str() + "@" + v.version.str()); };
    auto t = resolve_tree(in, src);
    REQUIRE(t);
    std::sort(picked_order.begin(), picked_order.end());
    CHECK(picked_order == r.want);
    CHECK(t->packages.size() == r.want.size());
    CHECK(src.requests.size() == 3);
    for (auto& [n, count] : src.requests) CHECK(count == 1);
  }
}

TEST_CASE("walk failures are collected: every missing version and unknown package") {
  TableSource src;
  src.add(doc("a", {{"1.0.0", {{"nope", "^1"}, {"b", "^9"}}}}));
  src.add(doc("b", {{"1.0.0"}}));
  ResolveInput in;
  in.projects.push_back({ImporterId("."), "/p", {}});
  in.projects[0].manifest.dependencies = {{"a", "^1.0.0"}};
  auto t = resolve_tree(in, src);
  REQUIRE_FALSE(t);
  std::string msg = t.error().render();
  CHECK(msg.find("404") != std::string::npos);
  CHECK(msg.find("ERR_PNPM_NO_MATCHING_VERSION") != std::string::npos);
  CHECK(msg.find("b@^9") != std::string::npos);
}

#include "tarn/resolve/save_spec.hpp"

TEST_CASE("save specifiers keep the operator a range pinned to, as pnpm's add and update write them") {
  struct Row {
    const char* spec;
    const char* version;
    const char* want;  // version_range(v, style(spec), nullopt, ^)
  } rows[] = {
      {"^1.0.0", "1.4.0", "^1.4.0"}, {"~1.2", "1.2.9", "~1.2.9"}, {"1.2", "1.2.9", "~1.2.9"},
      {"1", "1.9.0", "^1.9.0"},      {"1.2.3", "1.2.3", "1.2.3"}, {"=1.2.3", "1.2.3", "=1.2.3"},
      {"*", "2.0.0", "^2.0.0"},      {">=1 <2", "1.5.0", "^1.5.0"}, {"latest", "3.0.0", "^3.0.0"},
      {"npm:foo@~2.1.0", "2.1.5", "~2.1.5"}, {"^1.0.0", "2.0.0-rc.1", "^2.0.0-rc.1"},
      {"latest", "2.0.0-rc.1", "2.0.0-rc.1"},
  };
  for (auto& r : rows) {
    INFO(r.spec);
    CHECK(version_range(*Version::parse(r.version), infer_range_style(r.spec), std::nullopt, RangeStyle::Major) == r.want);
  }
  CHECK(version_range(*Version::parse("1.0.0"), std::nullopt, std::nullopt, style_of_prefix("")) == "1.0.0");
  CHECK(version_range(*Version::parse("1.0.0"), std::nullopt, std::nullopt, style_of_prefix("~")) == "~1.0.0");
}

TEST_CASE("resolve: one failing package that many depend on is one error, not one per dependent") {
  TableSource src;
  for (int i = 0; i < 20; ++i) src.add(doc("p" + std::to_string(i), {{"1.0.0", {{"shared", "^1.0.0"}}}}));
  ResolveInput in;
  in.projects.push_back({ImporterId("."), "/p", {}});
  for (int i = 0; i < 20; ++i) in.projects[0].manifest.dependencies.emplace_back("p" + std::to_string(i), "^1.0.0");
  auto t = resolve_tree(in, src);
  REQUIRE_FALSE(t);
  std::string text = t.error().render();
  INFO(text);
  CHECK(text == "ERR_PNPM_FETCH_404  GET shared: Not Found - 404");
}

TEST_CASE("the compatibility database adds what a package forgot, never overriding it") {
  TableSource src;
  // @yarnpkg/extensions: `react-scripts@*` gets the peer `eslint: *`;
  // `gatsby-core-utils@<2.14.0-next.1` gets `got: 8.3.2`.
  src.add(doc("react-scripts", {{"4.0.3"}}));
  src.add(doc("gatsby-core-utils", {{"2.13.0", {{"got", "^11.0.0"}}}, {"3.0.0"}}));
  src.add(doc("got", {{"8.3.2"}, {"11.8.6"}}));
  src.add(doc("@babel/runtime", {{"7.14.8"}}));
  // consolidate@0.14.5 matches `<0.16.0` (peer mustache ^3.0.0) and then `<=0.16.0` (^4.0.1):
  // the later entry wins, as pnpm records it.
  src.add(doc("consolidate", {{"0.14.5"}}));
  for (bool db : {true, false}) {
    ResolveInput in;
    in.compat_db = db;
    in.auto_install_peers = false;
    in.projects.push_back({ImporterId("."), "/p", {}});
    in.projects[0].manifest.dependencies = {{"react-scripts", "4.0.3"}, {"gatsby-core-utils", "2.13.0"}, {"consolidate", "0.14.5"}};
    auto t = resolve_tree(in, src);
    REQUIRE(t);
    INFO("compat db " << db);
    std::map<std::string, const ResolvedPackage*> by;
    for (auto& p : t->packages) by[p.id()] = &p;
    REQUIRE(by.count("react-scripts@4.0.3"));
    bool has_eslint_peer = false;
    for (auto& peer : by["react-scripts@4.0.3"]->peers) has_eslint_peer |= peer.name == "eslint";
    CHECK(has_eslint_peer == db);
    CHECK(by.count("got@11.8.6") == 1);  // the package's own range wins over the database's
    CHECK(by.count("got@8.3.2") == 0);
    std::string mustache = "none";
    for (auto& peer : by["consolidate@0.14.5"]->peers)
      if (peer.name == "mustache") mustache = peer.range;
    CHECK(mustache == (db ? "^4.0.1" : "none"));
  }
}

TEST_CASE("overrides parse as pnpm's config-parse-overrides does") {
  Catalogs cats{{"default", {{"s", "1.0.0"}}}};
  Manifest root;
  root.dev_dependencies = {{"r", "^1.0.0"}};
  root.dependencies = {{"r", "2.0.0"}};  // prod wins over dev
  struct Row {
    std::string key, value;
    std::string parent, target, range, resolved;
    bool has_range;
  };
  for (auto& r : {Row{"a>b", "1", "a", "b", "", "1", false}, Row{"a@1>b@^2", "1", "a", "b", "^2", "1", true},
                  Row{"foo@>1", "2", "", "foo", ">1", "2", true}, Row{"@s/a>@s/b", "-", "@s/a", "@s/b", "", "-", false},
                  Row{"r", "$r", "", "r", "", "2.0.0", false}, Row{"s", "catalog:", "", "s", "", "1.0.0", false},
                  Row{"c@", "1.2.3", "", "c", "", "1.2.3", true}}) {
    CAPTURE(r.key, r.value);
    auto p = parse_overrides({{r.key, r.value}}, cats, &root);
    REQUIRE(p);
    REQUIRE(p->size() == 1);
    auto& o = p->front();
    CHECK((o.parent ? o.parent->name : "") == r.parent);
    CHECK(o.target.name == r.target);
    CHECK(o.target.range.has_value() == r.has_range);
    CHECK(o.target.range.value_or("") == r.range);
    CHECK(o.value == r.resolved);
    CHECK(o.converge == (r.key == "c@"));
  }
  struct Bad {
    std::string key, value;
    Code code;
  };
  for (auto& b : {Bad{"x", "$nope", Code::CannotResolveOverrideVersion}, Bad{"x", "catalog:", Code::CatalogInOverrides},
                  Bad{"a>c@", "1.0.0", Code::InvalidConvergenceOverride}, Bad{"c@", "^1", Code::InvalidConvergenceOverride},
                  Bad{"a>.bad", "1", Code::InvalidSelector}}) {
    CAPTURE(b.key, b.value);
    auto p = parse_overrides({{b.key, b.value}}, cats, &root);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == b.code);
  }
}

TEST_CASE("the manifest rewriter: packageExtensions under the manifest, then overrides") {
  PackageExtension x;
  x.selector = "m@1";
  x.dependencies = std::map<std::string, std::string>{{"added", "^1.0.0"}, {"keep", "^9.0.0"}};
  auto parsed = parse_overrides({{"m>keep", "2.0.0"}, {"gone", "-"}, {"peer", "npm:fork@^1"}, {"p2", "^3"}}, {}, nullptr);
  REQUIRE(parsed);
  ManifestRewriter rw(std::move(*parsed), {x}, "/root");
  PackageVersion pv;
  pv.version = *Version::parse("1.0.0");
  pv.dependencies = {{"gone", "^1"}, {"keep", "^1.0.0"}, {"other", "^1"}};
  pv.peer_dependencies = {{"peer", "^1"}, {"p2", "^2"}};
  auto out = rw.apply(*PkgName::parse("m"), pv);
  REQUIRE(out);
  // "gone" removed (its place taken by the last entry), keep overridden (parent m), the
  // extension's `keep` ignored (the manifest has one), `added` appended; the npm: peer value
  // becomes a dependency, the range one replaces the peer's range.
  using P = std::vector<std::pair<std::string, std::string>>;
  CHECK(out->dependencies == P{{"added", "^1.0.0"}, {"keep", "2.0.0"}, {"other", "^1"}, {"peer", "npm:fork@^1"}});
  CHECK(out->peer_dependencies == P{{"peer", "^1"}, {"p2", "^3"}});
  // Another package: only the generic overrides apply.
  auto two = rw.apply(*PkgName::parse("other-name"), pv);
  REQUIRE(two);
  CHECK(two->dependencies == P{{"other", "^1"}, {"keep", "^1.0.0"}, {"peer", "npm:fork@^1"}});
  CHECK(rw.for_undeclared("gone", "^1") == std::optional<std::string>("-"));
  CHECK_FALSE(rw.for_undeclared("keep", "^1"));  // parent-scoped overrides never apply there
}

// package.json edits as pnpm add/remove write them: key order, indent unit, final newline,
// sorted dependency fields, empty fields dropped.
#include "tarn/lockfile/manifest_edit.hpp"

#include "testing.hpp"

using namespace tarn;

namespace {

std::string edit(const std::string& text, void (*f)(ManifestDoc&)) {
  auto d = ManifestDoc::parse(text, "package.json");
  REQUIRE(d);
  f(*d);
  return d->render();
}

}  // namespace

TEST_CASE("manifest edits keep order, indent and final newline, and sort dependency fields") {
  struct Row {
    const char* name;
    std::string in;
    void (*op)(ManifestDoc&);
    std::string out;
  };
  std::vector<Row> rows = {
      {"add to an existing field, two spaces", "{\n  \"name\": \"a\",\n  \"dependencies\": {\n    \"z\": \"1\"\n  }\n}\n",
       [](ManifestDoc& d) { d.set(DepGroup::Prod, "b", "^1.0.0"); },
       "{\n  \"name\": \"a\",\n  \"dependencies\": {\n    \"b\": \"^1.0.0\",\n    \"z\": \"1\"\n  }\n}\n"},
      {"new field goes last, tabs, no final newline", "{\n\t\"name\": \"a\",\n\t\"scripts\": {}\n}",
       [](ManifestDoc& d) { d.set(DepGroup::Dev, "x", "^2.0.0"); },
       "{\n\t\"name\": \"a\",\n\t\"scripts\": {},\n\t\"devDependencies\": {\n\t\t\"x\": \"^2.0.0\"\n\t}\n}"},
      {"moving between groups removes from the others", "{\"dependencies\":{\"x\":\"1\"},\"devDependencies\":{\"y\":\"1\"}}",
       [](ManifestDoc& d) { d.set(DepGroup::Dev, "x", "2"); },
       "{\"devDependencies\":{\"x\":\"2\",\"y\":\"1\"}}"},
      {"remove drops an emptied field and keeps the order of the rest",
       "{\n    \"a\": 1,\n    \"dependencies\": {\n        \"x\": \"1\"\n    },\n    \"b\": [1, \"t\\n\"]\n}\n",
       [](ManifestDoc& d) { d.remove("x"); }, "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        \"t\\n\"\n    ]\n}\n"},
  };
  for (auto& r : rows) {
    INFO(r.name);
    CHECK(edit(r.in, r.op) == r.out);
  }
}

TEST_CASE("manifest edit finds the group pnpm would guess and rejects a non-object field") {
  auto d = ManifestDoc::parse(R"({"dependencies":{"a":"1"},"optionalDependencies":{"a":"2"},"devDependencies":{"b":"3"}})", "p");
  REQUIRE(d);
  CHECK(d->group_of("a") == DepGroup::Optional);
  CHECK(d->spec_of("a") == std::optional<std::string>("2"));
  CHECK(d->group_of("b") == DepGroup::Dev);
  CHECK_FALSE(d->group_of("c"));
  CHECK_FALSE(d->remove("c"));
  auto bad = ManifestDoc::parse(R"({"dependencies":"oops"})", "pkg/package.json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().render().find("pkg/package.json") != std::string::npos);
}

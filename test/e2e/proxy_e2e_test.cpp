// End-to-end: the tarn binary resolves and installs a project through a loopback proxy,
// from an HTTPS loopback registry whose certificates are made here, configured the way
// pnpm users configure it (.npmrc keys and HTTPS_PROXY & co.). No internet needed.
#include <catch2/catch.hpp>
#include <sys/wait.h>

#include <filesystem>

#include "registry_case.hpp"
#include "testing.hpp"

using namespace tarn::test;
namespace stdfs = std::filesystem;

namespace {

const std::string kCase = std::string(TARN_SOURCE_DIR) + "/test/resolve/cases/basic-dedupe";

struct Row {
  const char* what;
  bool https;
  std::string npmrc;  // after registry=; {proxy} and {cafile} are filled in
  std::string env;    // "NAME=value ..." for env -i; {proxy} filled in
  bool auth;          // the proxy requires user:p@ss
  unsigned refuse;    // the proxy answers CONNECT with this status
  int exit_status;
  std::string proxy_line;  // the proxy's request lines start with this; "": it saw none
  std::string output;      // the output contains this
};

std::string fill(std::string s, const std::string& proxy, const std::string& cafile) {
  for (auto [key, value] : {std::pair<std::string, std::string>{"{proxy}", proxy}, {"{cafile}", cafile}})
    for (size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), value);
  return s;
}

int run_tarn(const std::string& env, const std::string& dir, const std::string& home, std::string& output) {
  std::string out = home + "/output";
  std::string cmd = "cd '" + dir + "' && env -i PATH=\"$PATH\" HOME='" + home + "' XDG_CACHE_HOME='" + home +
                    "/cache' " + env + " '" TARN_BINARY "' install --store-dir '" + home +
                    "/store' --reporter=append-only > '" + out + "' 2>&1";
  int rc = std::system(cmd.c_str());
  output = read_file(out);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const Row kRows[] = {
    {"https-proxy with credentials in the URL, cafile trusts the registry", true,
     "https-proxy=http://user:p%40ss@{proxy}\ncafile={cafile}\n", "", true, 0, 0, "CONNECT 127.0.0.1:", ""},
    {"HTTPS_PROXY from the environment, strict-ssl=false", true, "strict-ssl=false\n", "HTTPS_PROXY=http://{proxy}",
     false, 0, 0, "CONNECT 127.0.0.1:", ""},
    {"HTTP_PROXY for an http:// registry: absolute URIs", false, "", "http_proxy=http://{proxy}", false, 0, 0,
     "GET http://127.0.0.1:", ""},
    {"no-proxy names the registry's host: direct", true, "https-proxy=http://{proxy}\nno-proxy=127.0.0.1\ncafile={cafile}\n",
     "", false, 0, 0, "", ""},
    {"the registry's certificate is not trusted by default", true, "https-proxy=http://{proxy}\n", "", false, 0, 1,
     "CONNECT 127.0.0.1:", "ERR_TARN_TLS_VERIFY"},
    {"a proxy that refuses the tunnel", true, "https-proxy=http://{proxy}\ncafile={cafile}\n", "", false, 403, 1,
     "CONNECT 127.0.0.1:", "ERR_TARN_PROXY_CONNECT"},
};

}  // namespace

TEST_CASE("proxy and TLS: tarn install through a proxy, against an HTTPS registry, as .npmrc and the environment say") {
  TestPki pki = make_test_pki();
  for (const Row& row : kRows) {
    DYNAMIC_SECTION(row.what) {
      auto server = row.https ? std::make_unique<RegistryServer>(pki) : std::make_unique<RegistryServer>();
      load_registry_case(*server, kCase);
      ProxyServer proxy;
      if (row.auth) proxy.require_auth("Basic dXNlcjpwQHNz");  // user:p@ss
      if (row.refuse) proxy.refuse_connect(row.refuse);
      TempDir tmp;
      std::string work = tmp.path() + "/work", home = tmp.path() + "/home", cafile = tmp.path() + "/ca.pem";
      stdfs::create_directories(home);
      stdfs::copy(kCase + "/project", work, stdfs::copy_options::recursive);
      write_file(cafile, pki.ca_pem);
      std::string hostport = proxy.url().substr(7);
      write_file(work + "/.npmrc", "registry=" + server->url() + "\nfetch-retries=0\n" + fill(row.npmrc, hostport, cafile));
      std::string output;
      int status = run_tarn(fill(row.env, hostport, cafile), work, home, output);
      INFO(output);
      CHECK(status == row.exit_status);
      CHECK_THAT(output, Catch::Contains(row.output));
      auto lines = proxy.request_lines();
      if (row.proxy_line.empty()) CHECK(lines.empty());
      for (auto& l : lines) CHECK_THAT(l, Catch::StartsWith(row.proxy_line));
      if (row.exit_status != 0) {
        CHECK(output.find("127.0.0.1") != std::string::npos);  // the host is named
        CHECK(!stdfs::exists(work + "/pnpm-lock.yaml"));
        continue;
      }
      // Packuments and tarballs both came through: pnpm's lockfile, and the links.
      CHECK(read_file(work + "/pnpm-lock.yaml") == read_file(kCase + "/expected/pnpm-lock.yaml"));
      auto listing = layout_listing(work);
      for (const char* dep : {"a", "b", "c", "f"}) {
        std::string link = std::string("l node_modules/") + dep + " -> ";
        CHECK(std::any_of(listing.begin(), listing.end(), [&](const std::string& l) { return l.rfind(link, 0) == 0; }));
      }
      size_t tarballs = 0, packuments = 0;
      for (auto& r : server->received()) (r.target.find("/-/") != std::string::npos ? tarballs : packuments)++;
      CHECK(packuments >= 4);
      CHECK(tarballs >= 4);
      if (!row.https && !row.proxy_line.empty()) CHECK(lines.size() == packuments + tarballs);  // one line per GET
    }
  }
}

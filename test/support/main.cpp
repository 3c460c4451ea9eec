#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

// The loopback registries must not be reached through a developer's proxy: tarn, like
// pnpm 12, honours these variables (an e2e test that wants one sets it for its child).
int main(int argc, char** argv) {
  for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "PROXY", "proxy", "NO_PROXY",
                           "no_proxy", "npm_config_https_proxy", "npm_config_http_proxy", "npm_config_proxy"})
    ::unsetenv(name);
  return Catch::Session().run(argc, argv);
}

// tarn-test-registry <case_dir> [--log]: serves a resolver test case's registry.json on
// 127.0.0.1 (a free port), prints the registry URL on stdout, and serves until SIGTERM or
// SIGINT. With --log, prints every request path on stderr at exit, "(404)" after the paths
// it does not serve. scripts/gen-resolve-cases.sh
// runs pnpm against it to write each case's expected lockfile.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "registry_case.hpp"

int main(int argc, char** argv) {
  std::string dir;
  bool log = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--log") log = true;
    else dir = a;
  }
  if (dir.empty()) {
    std::cerr << "usage: tarn-test-registry <case_dir> [--log]\n";
    return 2;
  }
  // Blocked before the server starts its threads, so they inherit the mask and only
  // sigwait() below sees the signal.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  try {
    tarn::test::RegistryServer server;
    auto c = tarn::test::load_registry_case(server, dir);
    std::cout << server.url() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    if (log)
      for (auto& r : server.received())
        std::cerr << r.target << (c.served.contains(r.target) ? "" : " (404)") << "\n";
  } catch (const std::exception& e) {
    std::cerr << "tarn-test-registry: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

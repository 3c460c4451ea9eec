#include "tarn/cli/cli.hpp"

int main(int argc, char** argv) { return tarn::run_cli(argc, argv); }

#include "tarn/install/install.hpp"

int main(int argc, char** argv) { return tarn::run_cli(argc, argv); }

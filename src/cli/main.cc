// dynamo-profiler: everything lives in the library; main only hands over the arguments.
#include "cli/cli.h"

int main(int argc, char** argv) { return dyprof::RunCli(argc, argv); }

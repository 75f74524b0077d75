// nurseryctl: the admin's command line for nurseryd, over the control socket.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "control_client.hpp"
#include "ctl_args.hpp"
#include "ctl_run.hpp"

int main(int argc, char** argv) {
  using namespace nursery;
  std::vector<std::string> words(argv + 1, argv + argc);
  auto args = parse_ctl_args(words, std::getenv("RUNTIME_DIRECTORY"));
  if (!args) {
    std::cerr << "nurseryctl: " << args.error().message << "\n\n" << ctl_usage();
    return kCtlUsage;
  }
  ControlClient client(args->socket);
  return run_ctl(*args, client, std::cout, std::cerr);
}

#pragma once
// What nurseryctl does with its parsed arguments, apart from main() so that
// tests can run it against a server. Returns the exit code (see ctl_args.hpp);
// people's output goes to `out`, errors to `err` as "nurseryctl: …".
// Blocking; never throws.

#include <ostream>

#include "control_client.hpp"
#include "ctl_args.hpp"

namespace nursery {

int run_ctl(const CtlArgs& args, ControlClient& client, std::ostream& out, std::ostream& err);

}  // namespace nursery

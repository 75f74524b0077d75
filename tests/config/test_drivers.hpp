#pragma once
// Driver specs for the config tests. The real `simulated` spec belongs to its
// plugin; this one mirrors its documented options so that these tests depend
// on nothing outside config/.

#include "config/driver_spec.hpp"

namespace nursery::config::testing {

// Knows "simulated" (kind: String, required, light|sound|massager;
// native_transition: Bool; its capability is its kind) and "probe" (one option of every type, none
// required, no validate).
DriverCatalog test_drivers();

}  // namespace nursery::config::testing

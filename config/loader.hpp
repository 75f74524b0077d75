#pragma once
// The TOML loader. Never throws: every problem becomes a Diagnostic with its
// file:line:col. Unknown keys are warnings; anything else wrong is an error and
// leaves `config` empty. The same function runs for --check-config, at start
// and on reload.

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "driver_spec.hpp"
#include "model.hpp"

namespace nursery::config {

struct LoadResult {
  std::optional<Config> config;  // set only when there is no error
  std::vector<Diagnostic> diagnostics;
  bool ok() const { return config.has_value(); }
};

LoadResult load_file(const std::filesystem::path& file, const DriverCatalog& drivers);
LoadResult load_string(std::string_view text, std::string_view source_name,
                       const DriverCatalog& drivers);

// "90s", "5m", "1h30m", "2h" -> seconds; nullopt when malformed.
std::optional<Seconds> parse_duration(std::string_view text);

}  // namespace nursery::config

#pragma once
namespace nursery {
inline constexpr const char* kVersion = "0.1.0";
}

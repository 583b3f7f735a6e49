/// @file version.h
/// @brief Library version.
#pragma once

#include "qsdk/export.h"

/// @brief Major version of qsdk.
#define QSDK_VERSION_MAJOR 0
/// @brief Minor version of qsdk.
#define QSDK_VERSION_MINOR 2
/// @brief Patch version of qsdk.
#define QSDK_VERSION_PATCH 0

namespace qsdk {
/// @brief "MAJOR.MINOR.PATCH" of the library actually loaded.
QSDK_API const char* GetVersionString();
}  // namespace qsdk

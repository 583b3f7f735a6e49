/// @file export.h
/// @brief QSDK_API: marks the declarations libqsdk.so exports.
///
/// The library is compiled with hidden symbol visibility (`-fvisibility=hidden
/// -fvisibility-inlines-hidden`) and linked so that only names of namespace qsdk stay
/// global, so only what the public headers mark with QSDK_API is part of its dynamic
/// symbol table: the public classes (with their vtables, typeinfo and out-of-line
/// members) and the public free functions. Everything else in the library
/// (graph IR, passes, runtime kernels, oneDNN / protobuf / JSON helpers) stays internal,
/// so it can change without breaking programs linked against the library and cannot clash
/// with the same names in the program or in other libraries.
///
/// The macro is put on a class (`class QSDK_API IModel`, which exports its vtable, typeinfo
/// and out-of-line members) or on a function declaration (`QSDK_API Status
/// DeserializeModelFromFile(...)`). Users never need it themselves.
///
/// It is GCC's `visibility("default")` attribute in the standard `[[gnu::...]]` spelling
/// rather than `__attribute__((...))`: GCC rejects an `__attribute__` before or after a
/// standard attribute in a class head, and Status is `class [[nodiscard]] QSDK_API Status`.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
/// @brief Gives a public class or function default (exported) visibility.
#define QSDK_API [[gnu::visibility("default")]]
#else
/// @brief Gives a public class or function default (exported) visibility.
#define QSDK_API
#endif

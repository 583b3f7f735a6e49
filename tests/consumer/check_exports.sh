#!/usr/bin/env bash
# Checks that libqsdk.so exports its public API and nothing else.
# Usage: check_exports.sh NM LIBRARY PUBLIC_HEADER_DIR
#
# The public API is read from the headers: every class or struct declared
# `class QSDK_API Name` and every function declared `QSDK_API ... Name(` in
# PUBLIC_HEADER_DIR/*.h (include/qsdk/export.h). The check fails when
#   1. the library exports a symbol (`nm -DC --defined-only`) that is not a member,
#      vtable, typeinfo or thunk of one of those classes or one of those functions:
#      anything outside namespace qsdk (oneDNN, nlohmann::json, protobuf, std::
#      instantiations), anything in an internal namespace (qsdk::graph::, qsdk::runtime::,
#      qsdk::builder::, qsdk::calib::, qsdk::onnx::, qsdk::reference::, qsdk::engine_file::,
#      qsdk::(anonymous namespace)::, ...) and any qsdk:: name the headers do not mark;
#   2. a QSDK_API function is not exported (its definition missed the attribute), or a
#      QSDK_API class has no exported symbol at all (its typeinfo is hidden, so the
#      program and the library would each have their own type_info for it), except the
#      interfaces only users implement (listed below);
#   3. a header uses QSDK_API in a form this script does not recognize (so the API it
#      reads is never silently incomplete).
#
# No other symbol is allowed, and none has to be: checked with GCC 12 / binutils 2.40,
# the compiler and runtime symbols a shared object may carry (_init, _fini, __bss_start,
# _edata, _end) are not in its dynamic symbol table, and the weak instantiations of std::
# templates that hidden visibility cannot hide (libstdc++ declares namespace std
# visibility("default")) are made local by the linker version script of src/CMakeLists.txt.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 NM LIBRARY PUBLIC_HEADER_DIR" >&2
  exit 2
fi
nm_tool=$1
library=$2
header_dir=$3

# Interfaces implemented only by user code: the library never emits their vtable or
# typeinfo (the user's program does), so requirement 2 does not apply to them.
user_implemented=" CalibDataInterface IProfiler "

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- The public API, from the headers --------------------------------------------------
# Declarations only: skip preprocessor lines and comments (export.h defines the macro and
# its documentation mentions it).
grep -h 'QSDK_API' "$header_dir"/*.h | grep -vE '^[[:space:]]*(#|//)' > "$work/uses" || true
grep -oE '^(class|struct) (\[\[nodiscard\]\] )?QSDK_API [A-Za-z_][A-Za-z_0-9]*' "$work/uses" |
  awk '{print $NF}' | sort -u > "$work/classes"
grep -E '^QSDK_API [^(]*[A-Za-z_][A-Za-z_0-9]*\(' "$work/uses" |
  sed -E 's/^([^(]*[^A-Za-z_0-9(])?([A-Za-z_][A-Za-z_0-9]*)\(.*/\2/' | sort -u > "$work/functions"
unrecognized=$(grep -vE '^((class|struct) (\[\[nodiscard\]\] )?QSDK_API [A-Za-z_]|QSDK_API [^(]*\()' \
  "$work/uses" || true)
if [[ -n "$unrecognized" ]]; then
  echo "FAIL: QSDK_API used in a form this check does not parse (put it on a class head" \
       "or at the start of a namespace-scope function declaration):" >&2
  echo "$unrecognized" >&2
  exit 1
fi
if [[ ! -s "$work/classes" || ! -s "$work/functions" ]]; then
  echo "FAIL: found no QSDK_API class or function in $header_dir/*.h" >&2
  exit 1
fi
cat "$work/classes" "$work/functions" | sort -u > "$work/public"

# --- The exported symbols --------------------------------------------------------------
# "ADDRESS TYPE NAME" (demangled; NAME may contain spaces) -> "TYPE NAME".
"$nm_tool" -DC --defined-only "$library" | sed -E 's/^[0-9a-fA-F]+ //' > "$work/exports"
count=$(wc -l < "$work/exports")
echo "$library exports $count symbols"
if [[ "$count" -eq 0 ]]; then
  echo "FAIL: nm listed no symbol: '$nm_tool' cannot read $library?" >&2
  exit 1
fi

# --- 1. Nothing outside the API --------------------------------------------------------
failures=0
: > "$work/seen"
public_name_re='^qsdk::([A-Za-z_][A-Za-z_0-9]*)($|::|\(|\[)'
while IFS= read -r line; do
  name=${line#? }
  # Compiler-generated companions of a class: judged by the class they belong to.
  for prefix in "typeinfo name for " "typeinfo for " "vtable for " "VTT for " \
                "construction vtable for " "non-virtual thunk to " "virtual thunk to " \
                "covariant return thunk to "; do
    name=${name#"$prefix"}
  done
  # The first name after "qsdk::" (a class or a function), e.g. "Dims" in
  # "qsdk::Dims::ToString[abi:cxx11]() const".
  if [[ "$name" =~ $public_name_re ]] &&
     grep -qxF "${BASH_REMATCH[1]}" "$work/public"; then
    echo "${BASH_REMATCH[1]}" >> "$work/seen"
    continue
  fi
  if [[ "$name" =~ ^qsdk:: ]]; then
    echo "FAIL: exported but not QSDK_API in include/qsdk (internal?): $line" >&2
  else
    echo "FAIL: exported symbol outside the public API (not a qsdk:: name): $line" >&2
  fi
  failures=$((failures + 1))
done < "$work/exports"

# --- 2. The whole API is exported ------------------------------------------------------
while IFS= read -r fn; do
  if ! grep -qE "^T qsdk::${fn}(\(|\[)" "$work/exports"; then
    echo "FAIL: public function qsdk::$fn is not exported" >&2
    failures=$((failures + 1))
  fi
done < "$work/functions"
while IFS= read -r cls; do
  if [[ "$user_implemented" == *" $cls "* ]]; then
    continue
  fi
  if ! grep -qxF "$cls" "$work/seen"; then
    echo "FAIL: public class qsdk::$cls has no exported symbol (no typeinfo, vtable or" \
         "member): is QSDK_API missing on it?" >&2
    failures=$((failures + 1))
  fi
done < "$work/classes"

if [[ "$failures" -ne 0 ]]; then
  echo "$failures problem(s) with the exported symbols of $library" >&2
  exit 1
fi
echo "OK: $(wc -l < "$work/classes") classes and $(wc -l < "$work/functions") functions" \
     "of the public API exported, nothing else"

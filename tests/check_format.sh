#!/usr/bin/env bash
# Every C source and header of the project is laid out as .clang-format
# says (ctest: layout). Fails naming each file that is not; `clang-format -i
# FILE` lays it out.
#
# Usage: tests/check_format.sh [REPO_ROOT]   (default: the script's parent)
set -euo pipefail

ROOT=${1:-"$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"}
cd -- "$ROOT"
FORMAT=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z $FORMAT ]]; then
  echo "check_format: clang-format is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi
mapfile -t files < <(find services tests fuzz bench faults examples \
  \( -name '*.c' -o -name '*.h' \) -type f | sort)
if ((${#files[@]} < 100)); then
  echo "check_format: found only ${#files[@]} C files under $ROOT: wrong folder?" >&2
  exit 1
fi
# One run over every file is quick; only when it fails is each file asked
# again, to name the ones at fault.
if "$FORMAT" --dry-run --Werror --style=file "${files[@]}" >/dev/null 2>&1; then
  exit 0
fi
bad=()
for file in "${files[@]}"; do
  if ! "$FORMAT" --dry-run --Werror --style=file "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done
if ((${#bad[@]})); then
  printf 'check_format: not laid out as .clang-format says (run clang-format -i on it):\n' >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
printf 'check_format: %d files laid out as .clang-format says\n' "${#files[@]}"

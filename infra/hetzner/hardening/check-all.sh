#!/usr/bin/env bash
# Runs every NN-*.sh in this directory with --check, in order, and keeps going
# after a drift so one run reports everything. Prints the scripts' DRIFT lines and
# then one "RESULT <script>: ok|drift|error" line per script (the Host controller
# parses both). Exit 0 = no drift, 1 = drift, 2 = a check itself failed.
# Accepts an optional --check argument so callers can always pass it.
set -euo pipefail

[[ $# -eq 0 || ( $# -eq 1 && $1 == --check ) ]] || { echo "usage: $0 [--check]" >&2; exit 2; }

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
worst=0
results=()
for script in "$dir"/[0-9][0-9]-*.sh; do
  name=$(basename "$script" .sh)
  status=0
  "$script" --check || status=$?
  case $status in
    0) results+=("RESULT $name: ok") ;;
    1) results+=("RESULT $name: drift"); ((worst < 1)) && worst=1 ;;
    *) results+=("RESULT $name: error"); worst=2 ;;
  esac
done
printf '%s\n' "${results[@]}"
exit "$worst"

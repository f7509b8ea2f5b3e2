#!/usr/bin/env bash
# Runs every NN-*.sh in this directory with --apply, in order, and stops at the
# first failure: later steps may rely on earlier ones (30 merges into the
# daemon.json that 20 wrote). Safe to re-run; a host that already matches prints
# no APPLIED lines. Exit 0 = every step converged, otherwise the failing step's code.
# Accepts an optional --apply argument so callers can always pass it.
set -euo pipefail

[[ $# -eq 0 || ( $# -eq 1 && $1 == --apply ) ]] || { echo "usage: $0 [--apply]" >&2; exit 2; }

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for script in "$dir"/[0-9][0-9]-*.sh; do
  status=0
  "$script" --apply || status=$?
  if [[ $status -ne 0 ]]; then
    echo "FAILED $(basename "$script" .sh): exit $status; later steps were not run" >&2
    exit "$status"
  fi
done

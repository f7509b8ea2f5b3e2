#!/usr/bin/env bash
# Shared helpers for the hardening scripts. Sourced by every NN-*.sh, never run.
#
# The contract every script follows (check-all.sh and the Host controller rely on it):
#   --check  changes nothing. Prints one "DRIFT <script>: <what differs>" line per
#            difference on stdout. Exit 0 = host matches, 1 = drift, 2 = error.
#   --apply  converges the host. Prints "APPLIED <script>: <what changed>" per change
#            (nothing when the host already matched, so a second run is silent).
#            Exit 0 = host now matches, 2 = a step failed or did not converge.
# "NOTE" lines (stderr) are informational and never mean drift.
#
# Every path and binary is overridable through the environment so tests can point
# the scripts at temp-dir fixtures or a throwaway network namespace.

# Unexpected failures (a command erroring, not a drift) must not look like drift
# (exit 1): errtrace + inherit_errexit make them reach the ERR trap even inside
# functions and $(...), which turns them into exit 2 with the failing line.
set -E
shopt -s inherit_errexit
trap 'printf "ERROR %s: command failed at line %s: %s\n" "$HARDENING_SCRIPT" "$LINENO" "$BASH_COMMAND" >&2; exit 2' ERR

HARDENING_SCRIPT=$(basename "$0" .sh)
HARDENING_MODE=""
HARDENING_DRIFTED=0

SYSTEMCTL=${SYSTEMCTL:-systemctl}
SYSTEMD_DIR=${SYSTEMD_DIR:-/etc/systemd/system}
DOCKER=${DOCKER:-docker}
DOCKER_DAEMON_JSON=${DOCKER_DAEMON_JSON:-/etc/docker/daemon.json}

# Destination ports of known stratum mining pools. Shared by 10-egress-rules.sh
# (blocked) and 60-miner-detector.sh (reported). At most 15 entries: the limit of
# one iptables multiport match.
# shellcheck disable=SC2034  # used by the scripts that source this file
MINING_PORTS="3333,3334,3335,3336,3357,4444,5555,5588,7777,14433,14444,45560,45700"

usage() {
  printf 'usage: %s --check | --apply\n' "$0" >&2
  exit 2
}

parse_mode() {
  [[ $# -eq 1 ]] || usage
  case "$1" in
    --check) HARDENING_MODE=check ;;
    --apply) HARDENING_MODE=apply ;;
    *) usage ;;
  esac
}

drift() { printf 'DRIFT %s: %s\n' "$HARDENING_SCRIPT" "$*"; HARDENING_DRIFTED=1; }
applied() { printf 'APPLIED %s: %s\n' "$HARDENING_SCRIPT" "$*"; }
note() { printf 'NOTE %s: %s\n' "$HARDENING_SCRIPT" "$*" >&2; }
die() { printf 'ERROR %s: %s\n' "$HARDENING_SCRIPT" "$*" >&2; exit 2; }

require_cmd() {
  local cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || die "required command '$cmd' not found"
  done
}

# ensure SUBJECT CHECK_FN APPLY_FN
# CHECK_FN prints one line per problem and nothing when the host matches; it must
# not change anything. In check mode each problem becomes a DRIFT line. In apply
# mode APPLY_FN runs only when there are problems, and CHECK_FN runs again after it
# so an apply that does not converge is an error instead of a silent success.
ensure() {
  local subject=$1 check_fn=$2 apply_fn=$3 problems line
  problems=$("$check_fn")
  [[ -z $problems ]] && return 0
  if [[ $HARDENING_MODE == check ]]; then
    while IFS= read -r line; do drift "$line"; done <<<"$problems"
    return 0
  fi
  "$apply_fn"
  problems=$("$check_fn")
  [[ -z $problems ]] || die "$subject still drifts after apply: ${problems//$'\n'/; }"
  applied "$subject"
}

finish() {
  if [[ $HARDENING_MODE == check && $HARDENING_DRIFTED -ne 0 ]]; then exit 1; fi
  exit 0
}

# --- files -------------------------------------------------------------------

# file_matches PATH CONTENT: true when PATH exists with exactly CONTENT.
file_matches() {
  [[ -f $1 ]] && [[ "$(cat "$1")" == "$2" ]]
}

# write_file_atomically PATH MODE CONTENT: readers see the old or the new file, never half.
write_file_atomically() {
  local path=$1 mode=$2 content=$3 tmp
  mkdir -p "$(dirname "$path")"
  tmp=$(mktemp "$(dirname "$path")/.$(basename "$path").XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
}

# --- daemon.json (shared by 20-gvisor.sh and 30-docker-daemon.sh) ------------

daemon_json_valid() {
  [[ ! -e $DOCKER_DAEMON_JSON ]] || jq empty "$DOCKER_DAEMON_JSON" >/dev/null 2>&1
}

# daemon_json_query FILTER [jq args...]: jq -e against daemon.json ({} when absent).
daemon_json_query() {
  local filter=$1
  shift
  if [[ -e $DOCKER_DAEMON_JSON ]]; then
    jq -e "$@" "$filter" "$DOCKER_DAEMON_JSON" >/dev/null 2>&1
  else
    jq -e -n "$@" "{} | $filter" >/dev/null 2>&1
  fi
}

# daemon_json_merge FILTER [jq args...]: rewrite daemon.json through FILTER, keeping
# every key the filter does not touch (other tools and operators own those).
daemon_json_merge() {
  local filter=$1 tmp
  shift
  daemon_json_valid || die "$DOCKER_DAEMON_JSON is not valid JSON; fix it by hand, it is not overwritten"
  mkdir -p "$(dirname "$DOCKER_DAEMON_JSON")"
  tmp=$(mktemp "$(dirname "$DOCKER_DAEMON_JSON")/.daemon.json.XXXXXX")
  if [[ -e $DOCKER_DAEMON_JSON ]]; then
    jq "$@" "$filter" "$DOCKER_DAEMON_JSON" >"$tmp"
  else
    jq -n "$@" "{} | $filter" >"$tmp"
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$DOCKER_DAEMON_JSON"
}

# docker_reachable: the docker CLI can talk to a running daemon.
docker_reachable() {
  command -v "$DOCKER" >/dev/null 2>&1 && "$DOCKER" info >/dev/null 2>&1
}

# --- systemd -------------------------------------------------------------------

systemd_usable() {
  command -v "$SYSTEMCTL" >/dev/null 2>&1
}

# service_action ACTION UNIT: reload/restart UNIT when it is running; a stopped
# service picks up the new configuration when it starts.
service_action() {
  local action=$1 unit=$2
  if ! systemd_usable; then
    note "$SYSTEMCTL not found; $action $unit yourself to pick up the change"
  elif "$SYSTEMCTL" is-active --quiet "$unit"; then
    "$SYSTEMCTL" "$action" "$unit"
  else
    note "$unit is not running; it picks up the change when it starts"
  fi
}

# check_unit NAME CONTENT / apply_unit NAME CONTENT: a boot-time unit that re-applies
# rules the kernel forgets on reboot (iptables, nftables).
check_unit() {
  local name=$1 content=$2
  file_matches "$SYSTEMD_DIR/$name" "$content" || echo "systemd unit $SYSTEMD_DIR/$name missing or outdated"
  if systemd_usable && [[ -f $SYSTEMD_DIR/$name ]] && ! "$SYSTEMCTL" is-enabled --quiet "$name" 2>/dev/null; then
    echo "systemd unit $name is not enabled"
  fi
}

apply_unit() {
  local name=$1 content=$2
  write_file_atomically "$SYSTEMD_DIR/$name" 0644 "$content"
  if systemd_usable; then
    "$SYSTEMCTL" daemon-reload
    "$SYSTEMCTL" enable --quiet "$name"
  else
    note "$SYSTEMCTL not found; enable $name yourself"
  fi
}

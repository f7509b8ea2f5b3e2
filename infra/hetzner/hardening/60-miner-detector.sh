#!/usr/bin/env bash
# Finds cryptominers: processes (on the host or in containers) using at least
# MINER_CPU_THRESHOLD percent CPU whose name or command line matches a known miner
# signature, or that hold a TCP connection to a known mining-pool port. The CPU
# filter keeps builds and busy apps with unlucky names out of the report; the
# figure is ps's average since the process started, so no sampling delay is needed.
#   --check  one DRIFT line per suspicious process (pid, name, CPU, container, why).
#   --apply  stops the container a suspicious process runs in (docker stop, which
#            also keeps restart policies from reviving it) or kills a host process.
# Must run as root to see other users' sockets. Egress to the ports is already
# rejected by 10-egress-rules.sh; this catches miners that got through anyway
# (other ports, proxies) by their CPU use and names.
#
# Env: MINER_CPU_THRESHOLD (percent, default 50), MINER_SIGNATURES (extended regex,
# matched case-insensitively), DOCKER.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

MINER_CPU_THRESHOLD=${MINER_CPU_THRESHOLD:-50}
MINER_SIGNATURES=${MINER_SIGNATURES:-'xmrig|xmr-stak|minerd|cpuminer|cgminer|bfgminer|ethminer|nbminer|t-rex|lolminer|phoenixminer|teamredminer|nanominer|srbminer|kdevtmpfsi|kinsing|stratum\+(tcp|ssl|tls)://|--donate-level|cryptonight|randomx'}
require_cmd ps awk

# "pid pcpu" of live (non-zombie) processes at or above the threshold.
busy_processes() {
  ps -eo pid=,stat=,pcpu= | awk -v t="$MINER_CPU_THRESHOLD" -v self="$$" \
    '$2 !~ /^Z/ && $3 + 0 >= t + 0 && $1 != self { print $1, $3 }'
}

# Mining-pool port of an established or opening TCP connection owned by PID, if any.
# /proc/PID/net/tcp{,6} lists the sockets of the process's network namespace (so
# containers work); the socket inodes in /proc/PID/fd say which are its own.
mining_port_of() {
  local pid=$1 fd link inodes=" " _sl _local remote state inode port table
  for fd in /proc/"$pid"/fd/*; do
    link=$(readlink "$fd" 2>/dev/null || true)
    if [[ $link =~ ^socket:\[([0-9]+)\]$ ]]; then inodes+="${BASH_REMATCH[1]} "; fi
  done
  [[ $inodes != " " ]] || return 0
  for table in /proc/"$pid"/net/tcp /proc/"$pid"/net/tcp6; do
    [[ -r $table ]] || continue
    while read -r _sl _local remote state _ _ _ _ _ inode _; do
      [[ $state == 01 || $state == 02 ]] || continue # ESTABLISHED, SYN_SENT
      [[ $inodes == *" $inode "* ]] || continue
      port=$((16#${remote##*:}))
      if [[ ,$MINING_PORTS, == *",$port,"* ]]; then
        echo "$port"
        return 0
      fi
    done < <(tail -n +2 "$table" 2>/dev/null || true)
  done
}

# One line per suspicious process: "pid<TAB>container id or -<TAB>description".
suspicious_processes() {
  local pid pcpu comm cmdline container why port
  while read -r pid pcpu; do
    [[ -r /proc/$pid/cmdline ]] || continue
    comm=$(cat /proc/"$pid"/comm 2>/dev/null || true)
    cmdline=$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null || true)
    why=""
    shopt -s nocasematch
    if [[ "$comm $cmdline" =~ $MINER_SIGNATURES ]]; then
      why="matches miner signature '${BASH_REMATCH[0]}'"
    fi
    shopt -u nocasematch
    if [[ -z $why ]]; then
      port=$(mining_port_of "$pid")
      [[ -z $port ]] || why="connects to mining-pool port $port"
    fi
    [[ -n $why ]] || continue
    container=$(grep -oE '[0-9a-f]{64}' /proc/"$pid"/cgroup 2>/dev/null | head -n 1 || true)
    printf '%s\t%s\t%s\n' "$pid" "${container:--}" \
      "pid $pid ($comm) at ${pcpu}% CPU${container:+ in container ${container:0:12}} $why"
  done < <(busy_processes)
}

check_miners() { suspicious_processes | cut -f3; }

# SIGKILL returns before the process is gone; wait (bounded) until it has exited
# so the re-check after apply does not see it.
wait_until_gone() {
  local pid=$1 tries=50
  while ((tries-- > 0)); do
    [[ -e /proc/$pid ]] || return 0
    [[ $(awk '{ print $3 }' /proc/"$pid"/stat 2>/dev/null || true) != Z ]] || return 0
    sleep 0.1
  done
}

apply_miners() {
  local pid container description
  while IFS=$'\t' read -r pid container description; do
    if [[ $container != - ]] && docker_reachable; then
      "$DOCKER" stop --time 5 "$container" >/dev/null
      note "stopped container ${container:0:12}: $description"
    else
      kill -KILL "$pid" 2>/dev/null || true
      note "killed $description"
    fi
    wait_until_gone "$pid"
  done < <(suspicious_processes)
}

ensure "stopped suspected cryptominers" check_miners apply_miners
finish

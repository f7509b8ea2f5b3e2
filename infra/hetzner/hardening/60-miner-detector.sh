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

# Mining-pool connections ("inode:port ...") per network namespace, keyed by a
# process that lives in it. /proc/PID/net/tcp{,6} lists the sockets of PID's
# namespace, so containers are covered; every namespace is read once, and two
# processes share one when their /proc/PID/ns/net are the same file (-ef).
declare -A CONNECTIONS_BY_NETNS=()

# Prints "inode:port" for TCP connections (established or opening) to mining ports.
mining_connections_in() {
  cat /proc/"$1"/net/tcp /proc/"$1"/net/tcp6 2>/dev/null | awk -v ports=",$MINING_PORTS," '
    function hex(s,   n, i) { n = 0; for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1; return n }
    ($4 == "01" || $4 == "02") { split($3, remote, ":"); port = hex(remote[2]); if (index(ports, "," port ",")) printf "%s:%d ", $10, port }'
}

# Sets FOUND_PORT to the mining-pool port PID is connected to, or "" (a variable,
# not output: no subshell per process).
FOUND_PORT=""
find_mining_port() {
  local pid=$1 rep connections="" known=0 entry link fd
  FOUND_PORT=""
  for rep in "${!CONNECTIONS_BY_NETNS[@]}"; do
    if [[ /proc/$pid/ns/net -ef /proc/$rep/ns/net ]]; then
      connections=${CONNECTIONS_BY_NETNS[$rep]}
      known=1
      break
    fi
  done
  if ((known == 0)); then
    connections=$(mining_connections_in "$pid" || true)
    CONNECTIONS_BY_NETNS[$pid]=$connections
  fi
  [[ -n $connections ]] || return 0
  # Only now look at the process's own sockets: which of those connections are its?
  for fd in /proc/"$pid"/fd/*; do
    link=$(readlink "$fd" 2>/dev/null || true)
    [[ $link =~ ^socket:\[([0-9]+)\]$ ]] || continue
    for entry in $connections; do
      if [[ ${entry%%:*} == "${BASH_REMATCH[1]}" ]]; then
        FOUND_PORT=${entry##*:}
        return 0
      fi
    done
  done
}

# One line per suspicious process: "pid<TAB>container id or -<TAB>description".
# /proc is read with bash builtins: a scan must stay cheap on a busy host.
suspicious_processes() {
  local pid pcpu comm container why args=()
  while read -r pid pcpu; do
    { read -r comm </proc/"$pid"/comm && mapfile -d '' args </proc/"$pid"/cmdline; } 2>/dev/null || continue
    why=""
    shopt -s nocasematch
    if [[ "$comm ${args[*]}" =~ $MINER_SIGNATURES ]]; then
      why="matches miner signature '${BASH_REMATCH[0]}'"
    fi
    shopt -u nocasematch
    if [[ -z $why ]]; then
      find_mining_port "$pid"
      [[ -z $FOUND_PORT ]] || why="connects to mining-pool port $FOUND_PORT"
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
# The state follows the parenthesised name in /proc/PID/stat; the name may hold spaces.
wait_until_gone() {
  local pid=$1 tries=50 stat
  while ((tries-- > 0)); do
    { read -r stat </proc/"$pid"/stat; } 2>/dev/null || return 0
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 0
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

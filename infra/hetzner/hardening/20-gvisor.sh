#!/usr/bin/env bash
# Installs gVisor's runsc from gVisor's signed apt repository (so apt upgrades it
# like any other package) and registers it with Docker as runtime "runsc", merged
# into daemon.json with jq so keys owned by others survive. Apps opt in with
# `--runtime=runsc` (Coolify: custom_docker_run_options).
#
# Env: DOCKER_DAEMON_JSON, RUNSC_BIN (default /usr/bin/runsc, where the package
# puts it), GVISOR_KEYRING, GVISOR_APT_LIST, DOCKER, SYSTEMCTL.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

RUNSC_BIN=${RUNSC_BIN:-/usr/bin/runsc}
GVISOR_KEYRING=${GVISOR_KEYRING:-/usr/share/keyrings/gvisor-archive-keyring.gpg}
GVISOR_APT_LIST=${GVISOR_APT_LIST:-/etc/apt/sources.list.d/gvisor.list}
require_cmd jq

check_installed() {
  [[ -x $RUNSC_BIN ]] || echo "runsc is not installed at $RUNSC_BIN"
}

# https://gvisor.dev/docs/user_guide/install/#install-latest
apply_install() {
  require_cmd curl gpg apt-get dpkg
  curl -fsSL https://gvisor.dev/archive.key | gpg --dearmor --yes -o "$GVISOR_KEYRING"
  printf 'deb [arch=%s signed-by=%s] https://storage.googleapis.com/gvisor/releases release main\n' \
    "$(dpkg --print-architecture)" "$GVISOR_KEYRING" >"$GVISOR_APT_LIST"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null
}

check_registered() {
  if ! daemon_json_valid; then
    echo "$DOCKER_DAEMON_JSON is not valid JSON"
  elif ! daemon_json_query '.runtimes.runsc.path == $path' --arg path "$RUNSC_BIN"; then
    echo "runtime runsc is not registered in $DOCKER_DAEMON_JSON (want .runtimes.runsc.path = $RUNSC_BIN)"
  fi
}

# Runtimes are reloadable: SIGHUP (systemctl reload) suffices, containers keep running.
apply_registered() {
  daemon_json_merge '.runtimes.runsc = ((.runtimes.runsc // {}) + {path: $path})' --arg path "$RUNSC_BIN"
  service_action reload docker
}

# daemon.json can be right while the running daemon has not loaded it yet. Only
# checked when a daemon answers; a stopped daemon reads daemon.json when it starts.
check_loaded() {
  if docker_reachable; then
    "$DOCKER" info --format '{{json .Runtimes}}' | jq -e 'has("runsc")' >/dev/null ||
      echo "the running docker daemon does not know runtime runsc (reload docker)"
  fi
}
apply_loaded() { service_action reload docker; }

ensure "runsc installed at $RUNSC_BIN" check_installed apply_install
ensure "runtime runsc registered in $DOCKER_DAEMON_JSON" check_registered apply_registered
ensure "docker daemon loaded runtime runsc" check_loaded apply_loaded
finish

#!/usr/bin/env bash
# Docker daemon defaults that protect the host from its tenants, merged into
# daemon.json (other keys, e.g. runtimes from 20-gvisor.sh, are kept):
#   log-driver json-file with max-size/max-file: a chatty app cannot fill the disk;
#   no-new-privileges: setuid binaries in images cannot escalate;
#   live-restore: containers keep running while dockerd restarts or upgrades.
#
# Env: DOCKER_DAEMON_JSON, DOCKER_LOG_DRIVER (json-file), DOCKER_LOG_MAX_SIZE (10m),
# DOCKER_LOG_MAX_FILE (3), DOCKER, SYSTEMCTL.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

require_cmd jq

# daemon.json expects strings for log-opts values.
desired_settings() {
  jq -n -c \
    --arg driver "${DOCKER_LOG_DRIVER:-json-file}" \
    --arg size "${DOCKER_LOG_MAX_SIZE:-10m}" \
    --arg files "${DOCKER_LOG_MAX_FILE:-3}" \
    '{"log-driver": $driver, "log-opts": {"max-size": $size, "max-file": $files},
      "no-new-privileges": true, "live-restore": true}'
}

# One problem line per setting, so drift says exactly which key is off.
check_settings() {
  local desired path want
  if ! daemon_json_valid; then
    echo "$DOCKER_DAEMON_JSON is not valid JSON"
    return 0
  fi
  desired=$(desired_settings)
  while IFS=$'\t' read -r path want; do
    daemon_json_query "getpath($path) == (\$want | fromjson)" --arg want "$want" ||
      echo "$DOCKER_DAEMON_JSON: $(jq -r 'map(tostring) | join(".")' <<<"$path") should be $want"
  done < <(jq -r 'paths(scalars) as $p | [($p | tojson), (getpath($p) | tojson)] | @tsv' <<<"$desired")
}

# `*` merges recursively: other log-opts keys (e.g. compress) survive. live-restore
# is reloadable, so reload first; the restart that log-opts and no-new-privileges
# need then leaves running containers alone.
apply_settings() {
  daemon_json_merge '. * $desired' --argjson desired "$(desired_settings)"
  service_action reload docker
  service_action restart docker
}

check_loaded() {
  local live
  if docker_reachable; then
    live=$("$DOCKER" info --format '{{.LoggingDriver}} {{.LiveRestoreEnabled}}')
    [[ $live == "${DOCKER_LOG_DRIVER:-json-file} true" ]] ||
      echo "the running docker daemon has not loaded daemon.json (logging driver, live-restore: $live); restart docker"
  fi
}
apply_loaded() { service_action reload docker; service_action restart docker; }

ensure "docker daemon settings in $DOCKER_DAEMON_JSON" check_settings apply_settings
ensure "docker daemon loaded its settings" check_loaded apply_loaded
finish

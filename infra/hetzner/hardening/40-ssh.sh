#!/usr/bin/env bash
# SSH login by key only: no passwords, no keyboard-interactive, root by key only.
# Written as a drop-in named 00-* because sshd keeps the FIRST value it reads for
# a keyword and Debian's sshd_config includes sshd_config.d/*.conf at its top, so
# ours wins over later drop-ins such as cloud-init's 50-cloud-init.conf. The check
# also reads the effective config (sshd -T), which catches a main config that sets
# a keyword before its Include line or does not include the drop-in dir at all.
# The new config is validated with sshd -t before sshd is reloaded; an invalid
# result is rolled back. Reloading keeps open sessions.
#
# Env: SSHD (default /usr/sbin/sshd), SSHD_CONFIG (/etc/ssh/sshd_config),
# SSHD_CONFIG_DIR (/etc/ssh/sshd_config.d), SSH_SERVICE (ssh), SYSTEMCTL.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

SSHD=${SSHD:-/usr/sbin/sshd}
SSHD_CONFIG=${SSHD_CONFIG:-/etc/ssh/sshd_config}
SSHD_CONFIG_DIR=${SSHD_CONFIG_DIR:-/etc/ssh/sshd_config.d}
SSH_SERVICE=${SSH_SERVICE:-ssh}
DROP_IN=$SSHD_CONFIG_DIR/00-deploy-mcp-hardening.conf
require_cmd "$SSHD"

dropin_content() {
  cat <<CONF
# Managed by deploy-mcp hardening (40-ssh.sh); local edits are reverted.
PasswordAuthentication no
PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
CONF
}

check_dropin() {
  file_matches "$DROP_IN" "$(dropin_content)" || echo "drop-in $DROP_IN missing or changed"
}

apply_dropin() {
  local backup=""
  if [[ -f $DROP_IN ]]; then
    backup=$(mktemp "$SSHD_CONFIG_DIR/.00-deploy-mcp-hardening.conf.bak.XXXXXX")
    cp -p "$DROP_IN" "$backup"
  fi
  write_file_atomically "$DROP_IN" 0644 "$(dropin_content)"
  if ! "$SSHD" -t -f "$SSHD_CONFIG"; then
    if [[ -n $backup ]]; then mv -f "$backup" "$DROP_IN"; else rm -f "$DROP_IN"; fi
    die "sshd -t rejected the configuration with $DROP_IN; rolled back, sshd not reloaded"
  fi
  [[ -z $backup ]] || rm -f "$backup"
  service_action reload "$SSH_SERVICE"
}

# sshd -T prints the effective settings, lower-cased; prohibit-password is printed
# under its older alias without-password.
check_effective() {
  local effective
  if ! effective=$("$SSHD" -T -f "$SSHD_CONFIG" 2>&1); then
    echo "sshd -T failed: ${effective//$'\n'/ }"
    return 0
  fi
  grep -qx 'passwordauthentication no' <<<"$effective" ||
    echo "effective sshd config allows password authentication"
  grep -qxE 'permitrootlogin (prohibit-password|without-password|no)' <<<"$effective" ||
    echo "effective sshd config allows root login with a password"
  grep -qx 'kbdinteractiveauthentication no' <<<"$effective" ||
    echo "effective sshd config allows keyboard-interactive authentication"
}

# The drop-in is already in place when this runs (ensure order); a difference left
# means the main config overrides it, which only a person should change.
apply_effective() {
  die "$SSHD_CONFIG overrides $DROP_IN (a keyword set before its Include line, or no 'Include $SSHD_CONFIG_DIR/*.conf'); fix $SSHD_CONFIG by hand"
}

ensure "sshd drop-in $DROP_IN" check_dropin apply_dropin
ensure "effective sshd settings" check_effective apply_effective
finish

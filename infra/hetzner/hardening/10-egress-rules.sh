#!/usr/bin/env bash
# Blocks abusive egress from containers: the cloud metadata service (credentials and
# user-data of the host), SMTP (spam), known mining-pool ports, IRC (botnet C2) and
# Tor. Rules live in our own chain DEPLOY-MCP-EGRESS, jumped to first from Docker's
# DOCKER-USER chain, so Docker's own rules stay untouched and a rebuild only
# touches what we own. Only forwarded (container) traffic passes DOCKER-USER; the
# host itself may still reach the metadata service (cloud-init needs it).
# IPv4 only: Docker leaves IPv6 off for bridge networks unless configured.
#
# Env: IPTABLES (default iptables), EGRESS_CHAIN, SYSTEMD_DIR, SYSTEMCTL.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

IPTABLES=${IPTABLES:-iptables}
CHAIN=${EGRESS_CHAIN:-DEPLOY-MCP-EGRESS}
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
UNIT=deploy-mcp-egress.service
require_cmd "$IPTABLES"

# One rule per line, as iptables arguments. REJECT (not DROP) so a legitimate app
# that trips a rule fails fast with "connection refused" instead of hanging.
egress_rules() {
  echo "-d 169.254.169.254/32 -j REJECT --reject-with icmp-port-unreachable"
  echo "-p tcp -m multiport --dports 25,465,587 -j REJECT --reject-with tcp-reset"
  echo "-p tcp -m multiport --dports $MINING_PORTS -j REJECT --reject-with tcp-reset"
  echo "-p tcp -m multiport --dports 6660:6669,6697 -j REJECT --reject-with tcp-reset"
  echo "-p tcp -m multiport --dports 9001,9030,9050,9150 -j REJECT --reject-with tcp-reset"
}

# iptables -C understands rules however the kernel normalised them, so the check
# does not depend on the exact text `iptables -S` prints on this version.
check_chain() {
  local rule wanted=0 present args
  if ! "$IPTABLES" -S "$CHAIN" >/dev/null 2>&1; then
    echo "chain $CHAIN does not exist"
    return 0
  fi
  while IFS= read -r rule; do
    read -ra args <<<"$rule"
    wanted=$((wanted + 1))
    "$IPTABLES" -C "$CHAIN" "${args[@]}" 2>/dev/null || echo "rule missing in $CHAIN: $rule"
  done < <(egress_rules)
  present=$("$IPTABLES" -S "$CHAIN" | grep -c '^-A ' || true)
  if [[ $present -gt $wanted ]]; then
    echo "$CHAIN has $present rules, expected $wanted (unexpected rules present)"
  fi
}

# Flush and refill: the chain is briefly empty (microseconds); acceptable for a
# drift repair, and far simpler than an iptables-restore transaction.
apply_chain() {
  local rule args
  "$IPTABLES" -N "$CHAIN" 2>/dev/null || "$IPTABLES" -F "$CHAIN"
  while IFS= read -r rule; do
    read -ra args <<<"$rule"
    "$IPTABLES" -A "$CHAIN" "${args[@]}"
  done < <(egress_rules)
}

# The jump must come first: Docker and operators may append ACCEPT rules to
# DOCKER-USER, which would otherwise win.
check_jump() {
  local first jumps
  if ! "$IPTABLES" -S DOCKER-USER >/dev/null 2>&1; then
    echo "chain DOCKER-USER does not exist"
    return 0
  fi
  first=$("$IPTABLES" -S DOCKER-USER | sed -n 2p)
  [[ $first == "-A DOCKER-USER -j $CHAIN" ]] || echo "DOCKER-USER does not jump to $CHAIN as its first rule"
  jumps=$("$IPTABLES" -S DOCKER-USER | grep -c -- "-j $CHAIN\$" || true)
  [[ $jumps -le 1 ]] || echo "DOCKER-USER jumps to $CHAIN $jumps times"
}

# Docker creates DOCKER-USER when it starts and keeps an existing one, so creating
# it first is safe.
apply_jump() {
  "$IPTABLES" -N DOCKER-USER 2>/dev/null || true
  while "$IPTABLES" -D DOCKER-USER -j "$CHAIN" 2>/dev/null; do :; done
  "$IPTABLES" -I DOCKER-USER 1 -j "$CHAIN"
}

# The kernel forgets iptables rules on reboot: re-apply once Docker is up.
unit_content() {
  cat <<UNIT
# Managed by deploy-mcp hardening (10-egress-rules.sh).
[Unit]
Description=deploy-mcp: block abusive container egress (DOCKER-USER)
After=docker.service
PartOf=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$SELF --apply

[Install]
WantedBy=docker.service
UNIT
}
check_persistence() { check_unit "$UNIT" "$(unit_content)"; }
apply_persistence() { apply_unit "$UNIT" "$(unit_content)"; }

ensure "egress block rules in chain $CHAIN" check_chain apply_chain
ensure "DOCKER-USER jumps to $CHAIN first" check_jump apply_jump
ensure "boot-time unit $UNIT" check_persistence apply_persistence
finish

#!/usr/bin/env bash
# Host firewall with nftables: inbound only SSH/HTTP/HTTPS (FIREWALL_ALLOWED_TCP),
# loopback, ICMP/ICMPv6 (IPv6 neighbour discovery needs it) and replies to
# connections the host opened; everything else inbound is dropped.
#
# Why nftables and not ufw: the rules live in one table of our own
# (inet deploy_mcp_host), loaded atomically from one file that replaces only that
# table, so Docker's chains (iptables-nft, same kernel) are never flushed or
# reordered; ufw rewrites its iptables chains on every reload and gives a false
# sense of control over Docker-published ports (those go through FORWARD, not
# INPUT, and are handled by Docker and 10-egress-rules.sh). nftables is Debian's
# default framework, needs no daemon, and the table can be compared as a whole.
# Debian's own nftables.service is left alone on purpose: its /etc/nftables.conf
# starts with "flush ruleset", which would wipe Docker's rules.
#
# Drift detection: nft prints a loaded table in a canonical form that varies by
# nft version, so apply records what the kernel shows right after loading our
# file (plus the file's checksum) in HARDENING_STATE_DIR; check compares the live
# table with that record, and our file with what it should contain.
#
# Env: NFT (nft), FIREWALL_ALLOWED_TCP ("22 80 443"), FIREWALL_RULESET
# (/etc/deploy-mcp/firewall.nft), HARDENING_STATE_DIR (/var/lib/deploy-mcp/hardening),
# SYSTEMD_DIR, SYSTEMCTL.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
parse_mode "$@"

NFT=${NFT:-nft}
TABLE_NAME=deploy_mcp_host
TABLE="inet $TABLE_NAME"
FIREWALL_ALLOWED_TCP=${FIREWALL_ALLOWED_TCP:-"22 80 443"}
FIREWALL_RULESET=${FIREWALL_RULESET:-/etc/deploy-mcp/firewall.nft}
STATE_DIR=${HARDENING_STATE_DIR:-/var/lib/deploy-mcp/hardening}
LOADED_LISTING=$STATE_DIR/firewall.loaded
LOADED_CHECKSUM=$STATE_DIR/firewall.sha256
UNIT=deploy-mcp-firewall.service
require_cmd "$NFT" sha256sum

ruleset_content() {
  local ports
  ports=$(tr -s ' ' '\n' <<<"$FIREWALL_ALLOWED_TCP" | grep -v '^$' | paste -sd, - | sed 's/,/, /g')
  cat <<NFT
#!/usr/sbin/nft -f
# Managed by deploy-mcp hardening (50-firewall.sh); local edits are reverted.
# "table; delete table; table {...}" replaces this one table atomically and
# leaves every other table (Docker's) alone.
table $TABLE
delete table $TABLE
table $TABLE {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lo" accept
		meta l4proto icmp accept
		meta l4proto ipv6-icmp accept
		tcp dport { $ports } accept
	}
}
NFT
}

live_listing() { "$NFT" list table inet "$TABLE_NAME" 2>/dev/null; }
ruleset_checksum() { ruleset_content | sha256sum | cut -d' ' -f1; }

check_ruleset() {
  local live
  file_matches "$FIREWALL_RULESET" "$(ruleset_content)" || echo "ruleset file $FIREWALL_RULESET missing or outdated"
  if ! live=$(live_listing); then
    echo "nftables table $TABLE is not loaded"
  elif [[ ! -f $LOADED_LISTING || ! -f $LOADED_CHECKSUM ]]; then
    echo "nftables table $TABLE was not loaded by this script (no record in $STATE_DIR)"
  elif [[ $(cat "$LOADED_CHECKSUM") != "$(ruleset_checksum)" ]]; then
    echo "nftables table $TABLE was loaded from an older ruleset"
  elif [[ $live != "$(cat "$LOADED_LISTING")" ]]; then
    echo "nftables table $TABLE was changed since it was applied"
  fi
}

# nft -c validates the whole file before anything is touched.
apply_ruleset() {
  write_file_atomically "$FIREWALL_RULESET" 0644 "$(ruleset_content)"
  "$NFT" -c -f "$FIREWALL_RULESET"
  "$NFT" -f "$FIREWALL_RULESET"
  mkdir -p "$STATE_DIR"
  live_listing >"$LOADED_LISTING"
  ruleset_checksum >"$LOADED_CHECKSUM"
}

# Loaded before the network comes up, so there is no unfiltered window at boot.
unit_content() {
  cat <<UNIT
# Managed by deploy-mcp hardening (50-firewall.sh).
[Unit]
Description=deploy-mcp: host firewall (nftables table $TABLE)
DefaultDependencies=no
Before=network-pre.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$(command -v "$NFT") -f $FIREWALL_RULESET

[Install]
WantedBy=multi-user.target
UNIT
}
check_persistence() { check_unit "$UNIT" "$(unit_content)"; }
apply_persistence() { apply_unit "$UNIT" "$(unit_content)"; }

ensure "nftables table $TABLE from $FIREWALL_RULESET" check_ruleset apply_ruleset
ensure "boot-time unit $UNIT" check_persistence apply_persistence
finish

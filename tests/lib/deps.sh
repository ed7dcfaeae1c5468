#!/bin/bash
# deps.sh: install what contain needs to build and test, with apt-get, only what
# is missing; quiet when everything is there. Idempotent.
#   deps.sh --fuzz   what `make fuzz` needs on top: clang and its libFuzzer
set -eu
if [ "${1:-}" = --fuzz ]; then
	PKGS=(clang libclang-rt-14-dev)
else
	PKGS=(
		build-essential pkg-config
		libarchive-dev libmagic-dev libyara-dev libjansson-dev libssl-dev libpcap-dev
		libnftables-dev libzstd-dev check
		runc busybox-static umoci skopeo containerd podman conmon containernetworking-plugins docker.io
		gdb elfutils strace tcpdump tshark jq iproute2 nftables iptables procps psmisc file yara
		zstd wget python3 binutils util-linux coreutils openssl man-db
		chromium sleuthkit python3-jsonschema python3-yaml libcap2-bin attr time
	)
fi
missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "contain: deps: missing packages (run as root to install): ${missing[*]}" >&2
	exit 1
fi
echo "contain: deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# no needrestart scan (and its noise) after the install
export NEEDRESTART_SUSPEND=1
# tshark asks whether non-root may capture: answer no, without a prompt
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null

#!/bin/sh
# deps.sh - install every Debian package needed to build, test and demo mlci (make deps).
# A no-op when all are present; uses sudo when not root. Must not install anything else.
set -eu
PKGS="build-essential pkg-config clang clang-format libgit2-dev libcurl4-openssl-dev libcjson-dev libyaml-dev
libssh2-1-dev libsqlite3-dev libssl-dev libcmocka-dev libhttp-parser-dev git python3 valgrind ca-certificates openssl procps curl
openssh-server openssh-client"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "mlci: installing missing packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing

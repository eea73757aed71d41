#!/usr/bin/env bash
# Installs the Debian packages pwb builds and runs with, only those that are missing:
# the SQLite and libedit headers (the Swift package links both), and what building
# llama-server needs (a C++ compiler, cmake, python3 with pip for the PyPI downloads), and
# Chromium, in which the tests load `pwb report` pages headless and check the rendered DOM, with a
# CJK font (Noto CJK): without one, Japanese rows draw as missing-glyph boxes.
set -euo pipefail

wanted=(libsqlite3-dev libedit-dev pkg-config g++ make python3 python3-pip chromium fonts-noto-cjk)
command -v cmake >/dev/null || wanted+=(cmake)

missing=()
for package in "${wanted[@]}"; do
  case "$package" in
    python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null && continue ;;
    g++) command -v g++ >/dev/null && continue ;;
    make) command -v make >/dev/null && continue ;;
    chromium) { command -v chromium || command -v chromium-browser; } >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# The advisor's error rates by simulation (the README's table): every scenario over SEEDS seeds
# (default 2000). Compiles WorkbenchCore, the tests' stub ladder and bench/advisor-rates.swift as
# one optimized module; takes a minute or two to build and about a minute to run on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Top-level code must live in a file named main.swift.
cp bench/advisor-rates.swift "$out/main.swift"
swiftc -O -swift-version 6 -enable-upcoming-feature NonisolatedNonsendingByDefault -package-name pwb -module-name WorkbenchCore \
  $(find Sources/WorkbenchCore -name '*.swift') Tests/WorkbenchCoreTests/LadderSimulation.swift \
  "$out/main.swift" -o "$out/advisor-rates"
"$out/advisor-rates" "${1:-2000}"

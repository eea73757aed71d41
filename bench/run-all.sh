#!/usr/bin/env bash
# Runs every benchmark; each prints its own figures.
set -euo pipefail
cd "$(dirname "$0")"
for bench in import.sh eval.sh repl.sh prefix.sh advisor-rates.sh; do
  echo "== $bench"
  "./$bench"
done

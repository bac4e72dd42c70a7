#!/bin/sh
# Installs node-llama-cpp's CUDA prebuilt binaries next to node-llama-cpp in an installed
# workspace (run from the repository root, after `pnpm install --frozen-lockfile`).
#
# pnpm-workspace.yaml's `overrides` remove @node-llama-cpp/linux-x64-cuda(-ext) from every install
# (~520 MB); the lockfile records that, so they cannot come back through `pnpm install
# --frozen-lockfile`. node-llama-cpp imports them by name from its own folder
# (node_modules/.pnpm/node-llama-cpp@*/node_modules/node-llama-cpp), so they go into that
# folder's node_modules, at exactly node-llama-cpp's version (it refuses any other).
#   linux-x64-cuda      built with CUDA 13 (libcudart.so.13; driver >= 580)
#   linux-x64-cuda-ext  bins/linux-x64-cuda/fallback: built with CUDA 12 (libcudart.so.12), loaded when
#                       the CUDA 13 one cannot be
set -eu
nlc="$(readlink -f apps/worker/node_modules/node-llama-cpp)"
version="$(node -p "require('$nlc/package.json').version")"
scope="$(dirname "$nlc")/@node-llama-cpp"
work="$(mktemp -d)"
for pkg in linux-x64-cuda linux-x64-cuda-ext; do
  (cd "$work" && npm pack --silent "@node-llama-cpp/$pkg@$version" >/dev/null)
  rm -rf "${scope:?}/$pkg"
  mkdir -p "$scope/$pkg"
  tar -xzf "$work/node-llama-cpp-$pkg-$version.tgz" --strip-components=1 --no-same-owner -C "$scope/$pkg"
  rm -f "$work/node-llama-cpp-$pkg-$version.tgz"
  echo "installed @node-llama-cpp/$pkg@$version in $scope/$pkg"
done
rmdir "$work"

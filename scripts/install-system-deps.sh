#!/usr/bin/env bash
# Installs what WebGPU needs on a Debian/Ubuntu machine without a GPU: Chromium ships the
# SwiftShader Vulkan driver (a CPU implementation of Vulkan) that Dawn runs on, and
# libvulkan1 is the Vulkan loader. The browser tests drive the same Chromium.
set -euo pipefail
need=()
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || need+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || need+=(libvulkan1)
# A C compiler builds the CPU engine's native products (npm run build:native; optional at run time).
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: chromium, libvulkan1 and a C compiler already present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"

#!/usr/bin/env bash
# Installs qlm's build and test dependencies from Debian (apt). Does nothing when all are present.
set -euo pipefail
PACKAGES=(
  g++ cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev libyaml-cpp-dev libpcre2-dev libutf8proc-dev
  libcpp-httplib-dev libgtest-dev libbenchmark-dev pybind11-dev python3-dev
  python3-numpy python3-torch python3-jinja2 python3-pytest libopenblas0-pthread librsvg2-bin
  clang libclang-rt-14-dev libomp-14-dev  # the libFuzzer build (scripts/fuzz.sh)
  nginx  # the scale-out test (tests/python/test_serve_nginx.py)
)
# Node.js (for the JavaScript reference tokenizer) may come from another source with npm
# bundled; only ask Debian for it when there is none.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "qlm: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # RUNLEVEL=1: packages with services (nginx) install without starting them.
  RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Makes the virtual environments tests/hub runs in, each with exactly the packages of the
# image it stands for:
#
#   tools                    pytest, ruff, PyYAML, jsonschema (requirements-tools.txt)
#   z2jh-4.4.0, z2jh-3.1.0   the hub image's frozen requirements
#                            (../shared/fixtures/z2jh/<version>/images/hub/requirements.txt)
#   dask-gateway-2026.3.0    the dask-gateway-server image's (requirements-dask-gateway-*.txt)
#   htcondor-pool            HTCondor's bindings and coffea-casa (requirements-htcondor-pool.txt)
#
# Usage: tests/hub/setup-venvs.sh [NAME...]   (all when none is named)
# Into $CASA_HUB_VENVS (default <repo>/.hub-venvs). An environment whose requirements are
# unchanged since it was made is kept; pip's cache is not used, so a run on a fresh machine
# times what CI pays. Python: $CASA_HUB_PYTHON or python3 (CPython 3.11 on these machines;
# the 4.4.0 hub image runs 3.12, every pinned package also installs on 3.11).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venvs="${CASA_HUB_VENVS:-$repo/.hub-venvs}"
python="${CASA_HUB_PYTHON:-python3}"
fixtures="$repo/../shared/fixtures/z2jh"

requirements() {
  case "$1" in
    tools) echo "$here/requirements-tools.txt" ;;
    z2jh-*) echo "$fixtures/${1#z2jh-}/images/hub/requirements.txt" ;;
    dask-gateway-*|htcondor-pool) echo "$here/requirements-$1.txt" ;;
    *) echo "unknown environment $1" >&2; return 2 ;;
  esac
}

# Both hub images' pins build two packages from source on CPython 3.11: psycopg2 (needs
# pg_config, libpq-dev) and, at 3.1.0, pycurl 7.45.2 (no wheel; needs curl-config,
# libcurl4-openssl-dev). The images build them the same way (`--no-binary pycurl`).
build_deps() {
  local missing=()
  command -v pg_config >/dev/null 2>&1 || missing+=(libpq-dev)
  command -v curl-config >/dev/null 2>&1 || missing+=(libcurl4-openssl-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-venvs: install ${missing[*]} (headers for psycopg2 and pycurl)" >&2
    return 1
  fi
  local t0=$SECONDS
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup-venvs: apt-get install ${missing[*]}: $((SECONDS - t0)) s"
}

make_venv() {
  local name="$1" req stamp
  req="$(requirements "$name")"
  [ -f "$req" ] || { echo "setup-venvs: no $req" >&2; return 1; }
  stamp="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
  if [ -f "$venvs/$name/.requirements" ] && [ "$(cat "$venvs/$name/.requirements")" = "$stamp" ]; then
    echo "setup-venvs: $name up to date"
    return 0
  fi
  case "$name" in z2jh-*) build_deps ;; esac
  local t0=$SECONDS
  rm -rf "$venvs/$name"
  "$python" -m venv "$venvs/$name"
  "$venvs/$name/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check -r "$req"
  echo "$stamp" > "$venvs/$name/.requirements"
  echo "setup-venvs: $name: $((SECONDS - t0)) s"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(tools z2jh-4.4.0 z2jh-3.1.0 dask-gateway-2026.3.0 htcondor-pool)
mkdir -p "$venvs"
for name in "${names[@]}"; do
  make_venv "$name"
done

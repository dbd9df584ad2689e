#!/usr/bin/env bash
# The generated hubs and gateways started with their real Python packages: makes (or reuses)
# the virtual environments of tests/hub/setup-venvs.sh, then runs the suite on every tree.
# Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venvs="${CASA_HUB_VENVS:-$here/../../.hub-venvs}"
"$here/setup-venvs.sh"
exec "$venvs/tools/bin/python" -m pytest "$here" "$@"

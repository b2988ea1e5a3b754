#!/usr/bin/env bash
# setup-bench.sh: the fixture venv (setup.sh) plus the benchmark's extra
# packages (requirements-bench.txt), installed with the fixture pins as
# constraints so that no fixture version moves. Idempotent: it does nothing
# when the venv was last given the same requirements-bench.txt.
#
# Usage (from anywhere):  bash testdata/gen/setup-bench.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup.sh"
venv="$here/.venv"
req="$here/requirements-bench.txt"
stamp="$venv/.requirements-bench.sha256"
want="$(cat "$req" "$here/requirements.txt" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
echo "setup-bench.sh: installing $req into $venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
	-c "$here/requirements.txt" -r "$req"
echo "$want" >"$stamp"

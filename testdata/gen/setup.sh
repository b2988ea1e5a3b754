#!/usr/bin/env bash
# setup.sh: create (or update) the fixture generator's virtual environment,
# testdata/gen/.venv, from testdata/gen/requirements.txt.
#
# Idempotent and quiet: when the venv exists and was last installed from the
# same requirements.txt (sha256 kept in .venv/.requirements.sha256) it does
# nothing. Only the fixture generator needs this; `go test` never does.
#
# Usage (from anywhere):  bash testdata/gen/setup.sh
# Environment: PYTHON selects the interpreter used to create the venv
# (default python3; the pins were made with Python 3.11).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
req="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

want="$(sha256sum "$req" | cut -d' ' -f1)"

# A venv whose interpreter no longer runs (moved, or its base Python removed)
# is rebuilt from scratch.
if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
	echo "setup.sh: $venv is broken; recreating it" >&2
	rm -rf "$venv"
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
	echo "setup.sh: creating $venv with $python" >&2
	"$python" -m venv "$venv"
fi

echo "setup.sh: installing $req into $venv (this can take a few minutes)" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" >"$stamp"

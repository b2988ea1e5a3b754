#!/usr/bin/env bash
# setup_tf2.sh: create (or update) a pinned TensorFlow 2.13 or 2.15 venv,
# the oracle for tf.keras-written fixtures (gen_tf2.py): .venv-tf213 or
# .venv-tf215 beside this script, git-ignored. Only the generator needs it;
# `go test` never does.
#
# Usage: bash testdata/gen/setup_tf2.sh 2.13|2.15
# Environment: PYTHON selects the interpreter (default python3; both
# TensorFlow releases install on Python 3.11).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
2.13) tag=tf213 ;;
2.15) tag=tf215 ;;
*) echo "usage: setup_tf2.sh 2.13|2.15" >&2; exit 2 ;;
esac
venv="$here/.venv-$tag"
req="$here/requirements-$tag.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
	rm -rf "$venv"
fi
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
	echo "setup_tf2.sh: creating $venv with $python" >&2
	"$python" -m venv "$venv"
fi
echo "setup_tf2.sh: installing $req into $venv (this can take a few minutes)" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
echo "$want" >"$stamp"

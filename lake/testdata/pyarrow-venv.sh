#!/usr/bin/env bash
# Prints the path of a python3 that has pyarrow, creating a venv with it under the cache dir on
# first use (pip from PyPI). The lake tests read the lake with it, as an analyst's notebook would.
set -euo pipefail
venv="${SHOPEASE_PYARROW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/shopease/venv}"
if ! "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
	python3 -m venv "$venv" >&2
	"$venv/bin/pip" install --quiet --disable-pip-version-check 'pyarrow==18.1.0' >&2
fi
echo "$venv/bin/python"

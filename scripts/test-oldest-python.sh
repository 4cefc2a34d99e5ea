#!/usr/bin/env bash
# The Python test suite on the oldest Python that pyproject.toml's
# requires-python allows (3.9: Debian 11's, Ubuntu's older LTS), where the
# standard library differs most (datetime.fromisoformat, dataclass slots),
# in a venv of its own (.venv-oldest) with the test extra installed.
# The library is the one `make build` built (ctypes loads it on any Python).
# The interpreter is python3.N on PATH or a pyenv build of it; without one
# this says so and succeeds, unless IPCLASSIFIER_REQUIRE_OLDEST_PYTHON is set
# (Debian 12 packages no Python older than its own 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(sed -n 's/^requires-python = ">=\([0-9]*\.[0-9]*\)"$/\1/p' pyproject.toml)
[ -n "$want" ] || { echo "test-oldest: no requires-python = \">=X.Y\" in pyproject.toml" >&2; exit 1; }
py=
for cand in "$(command -v "python$want" 2>/dev/null || true)" \
	$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/"python$want" 2>/dev/null | sort -rV); do
	# (pyenv's shim on PATH exists even when no such version is selected: each candidate must run)
	if [ -n "$cand" ] && "$cand" -c 'import venv' 2>/dev/null; then
		py=$cand
		break
	fi
done
if [ -z "$py" ]; then
	if [ -n "${IPCLASSIFIER_REQUIRE_OLDEST_PYTHON:-}" ]; then
		echo "test-oldest: no Python $want on this machine (python$want on PATH, or pyenv's)" >&2
		exit 1
	fi
	echo "test-oldest: NOT RUN: no Python $want on this machine (python$want on PATH, or pyenv's)"
	exit 0
fi
echo "test-oldest: $("$py" --version) at $py"
venv=.venv-oldest
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
reqs=$(python3 scripts/extras.py --all test)
# shellcheck disable=SC2086 # one argument per requirement
"$venv/bin/python" -m pip install -q --disable-pip-version-check $reqs
PYTHONPATH=python "$venv/bin/python" -m pytest -q -p no:cacheprovider tests_py

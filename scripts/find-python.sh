#!/usr/bin/env bash
# Print the path of a Python interpreter virtual-geotiff can use (>= 3.12), or fail at once saying what to
# install. Used by the README's set-up commands and by .ci/run.
#
#   scripts/find-python.sh          # the newest Python >= 3.12 found ($PYTHON first, if set)
#   scripts/find-python.sh 3.13     # exactly Python 3.13.x
#
# Looks at $PYTHON, python3.14/python3.13/python3.12/python3 on PATH, then pyenv's, uv's, /usr/local and /usr
# installs. Each candidate is run (`python -c ...`), so pyenv shims of versions that are not active are skipped.
set -uo pipefail

want="${1:-}"
min_minor=12

version_of() {  # prints "3.12" for a working interpreter, nothing otherwise
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

acceptable() {
    local v="$1"
    [ -n "$v" ] || return 1
    [ "${v%%.*}" = 3 ] && [ "${v#*.}" -ge "$min_minor" ] || return 1
    [ -z "$want" ] || [ "$v" = "$want" ]
}

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
if [ -n "$want" ]; then
    candidates+=("python$want")
else
    candidates+=(python3.14 python3.13 python3.12 python3)
fi
pyenv_root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for dir in "$pyenv_root"/versions/3.* "$HOME"/.local/share/uv/python/cpython-3.*; do
    [ -d "$dir" ] && candidates+=("$dir/bin/python3")
done
candidates+=(/usr/local/bin/python3.14 /usr/local/bin/python3.13 /usr/local/bin/python3.12
             /usr/bin/python3.14 /usr/bin/python3.13 /usr/bin/python3.12)

best="" best_minor=-1
for c in "${candidates[@]}"; do
    path="$(command -v "$c" 2>/dev/null)" || continue
    v="$(version_of "$path")"
    acceptable "$v" || continue
    # $PYTHON wins when it qualifies; otherwise keep the newest
    if [ -n "${PYTHON:-}" ] && [ "$c" = "$PYTHON" ]; then best="$path"; break; fi
    minor="${v#*.}"
    if [ "$minor" -gt "$best_minor" ]; then best="$path" best_minor="$minor"; fi
done

if [ -z "$best" ]; then
    found="$(version_of "$(command -v python3 2>/dev/null || echo python3)")"
    echo "virtual-geotiff needs Python ${want:->= 3.$min_minor} (python3 here is ${found:-missing}): install it" \
         "(e.g. 'pyenv install ${want:-3.13}', 'uv python install ${want:-3.13}' or your OS package" \
         "python${want:-3.13}) or set PYTHON=/path/to/python${want:-3.13}" >&2
    exit 1
fi
echo "$best"

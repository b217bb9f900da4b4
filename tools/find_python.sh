#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or fail with a clear message.
# Honours $PYTHON when set; otherwise tries python3.13/python3.12/python3 on PATH,
# then the versions installed by pyenv.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
if [ -n "${PYTHON:-}" ]; then
    if ok "$PYTHON"; then command -v "$PYTHON" || echo "$PYTHON"; exit 0; fi
    echo "error: PYTHON=$PYTHON is not a Python >= 3.12 interpreter" >&2; exit 1
fi
for name in python3.14 python3.13 python3.12 python3; do
    if command -v "$name" >/dev/null 2>&1 && ok "$(command -v "$name")"; then command -v "$name"; exit 0; fi
done
roots=()
command -v pyenv >/dev/null 2>&1 && roots+=("$(pyenv root 2>/dev/null)")
roots+=("${PYENV_ROOT:-}" "$HOME/.pyenv")
for root in "${roots[@]}"; do
    [ -n "$root" ] && [ -d "$root/versions" ] || continue
    for py in $(ls -d "$root"/versions/3.*/bin/python3 2>/dev/null | sort -rV); do
        if ok "$py"; then echo "$py"; exit 0; fi
    done
done
echo "error: workshop-sim needs Python >= 3.12 and none was found." >&2
echo "       Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2
exit 1

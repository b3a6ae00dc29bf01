#!/bin/sh
# check-api-docs.sh: every PACING_API function declared in include/*.h must
# have a "### name" heading in docs/api.md.
#
#   tools/check-api-docs.sh [ROOT]
#
# ROOT is the top of the source tree (default: the directory above this
# script). Prints "api docs: N functions documented" and exits 0 when every
# function has its heading; otherwise lists the missing ones on standard
# error and exits 1. POSIX sh, awk, sort and grep only.

set -u

root=${1:-$(dirname "$0")/..}
doc=$root/docs/api.md

if [ ! -f "$doc" ]; then
    echo "check-api-docs: $doc not found" >&2
    exit 1
fi
set -- "$root"/include/*.h
if [ ! -f "$1" ]; then
    echo "check-api-docs: no headers in $root/include" >&2
    exit 1
fi

# The declared names: from a line that starts with PACING_API, read on
# (joining lines) to the first '('; the identifier just before it is the
# function's name. Preprocessor lines (the #define of PACING_API) are skipped.
names=$(awk '
    function emit(s,    n, w) {
        s = substr(s, 1, index(s, "(") - 1)
        sub(/[ \t]+$/, "", s)
        n = split(s, w, /[^A-Za-z0-9_]+/)
        if (n > 0 && w[n] != "")
            print w[n]
    }
    /^[ \t]*#/ { next }
    pending {
        buf = buf " " $0
        if (index(buf, "(")) { emit(buf); pending = 0 }
        next
    }
    /^[ \t]*PACING_API[ \t]/ {
        buf = $0
        if (index(buf, "(")) emit(buf); else pending = 1
    }
' "$@" | sort -u)

if [ -z "$names" ]; then
    echo "check-api-docs: no PACING_API functions found in $root/include/*.h" >&2
    exit 1
fi

# The headings of docs/api.md: "### name", trailing blanks allowed.
headings=$(awk '/^###[ \t]/ { h = $0; sub(/^###[ \t]+/, "", h); sub(/[ \t]+$/, "", h); print h }' "$doc")

n=0
missing=
for name in $names; do
    n=$((n + 1))
    if ! printf '%s\n' "$headings" | grep -qx -- "$name"; then
        missing="$missing $name"
    fi
done

if [ -n "$missing" ]; then
    echo "api docs: these PACING_API functions have no '### name' heading in docs/api.md:" >&2
    for name in $missing; do
        echo "  $name" >&2
    done
    exit 1
fi
echo "api docs: $n functions documented"

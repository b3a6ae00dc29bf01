# Reads the report of `abidiff -l -t` (libabigail 2.x leaf-changes mode) and
# exits 0 if its only changes are members appended at the end of pacing_*
# structs, which is compatible because such structs start with a `size`
# field set by the caller. Anything it does not recognise is a failure.
# (A libabigail suppression with has_data_member_inserted_at = end would also
# hide member type changes, so the report is checked here instead.)
# Types unreachable from any public interface that are declared outside the
# public header (the library's internal structs, system types they use) may
# come and go: no caller can see them. A public-header type that is removed
# is a failure.

function bad(why) {
    print "abi-check: incompatible or unrecognised change: " why > "/dev/stderr"
    ok = 0
}

BEGIN { ok = 1; cur = ""; oldsize = -1; appended = 0; internal = 0 }

/^$/ { next }
/^Leaf changes summary:/ || /^Changed leaf types summary:/ { next }
/^Removed\/Changed\/Added (functions|variables) summary:/ {
    # "... summary: R Removed, C Changed, A Added ..."
    if ($4 != 0 || $6 != 0) bad($0)
    next
}
/^Unreachable types summary:/ { next } # each type is judged below
/^[0-9]+ (changed|removed|added) types? unreachable from any public interface:$/ { next }
/^  \[[DA]\] '[^']*' at [^:]+:[0-9]+:[0-9]+$/ {
    file = $0
    sub(/^.*' at /, "", file)
    sub(/:[0-9]+:[0-9]+$/, "", file)
    if (file == "pacing.h") {
        if ($1 == "[D]") bad("public type removed: " $0)
    } else {
        internal++
    }
    next
}
/^  \[C\] 'struct pacing_[a-z0-9_]+' changed:$/ { cur = ""; details = 1; next }
/^    details were reported earlier$/ {
    if (!details) bad($0)
    details = 0
    next
}
/^'struct pacing_[a-z0-9_]+ at [^']*' changed:$/ { cur = $2; oldsize = -1; next }
cur != "" && /^  type size changed from [0-9]+ to [0-9]+ \(in bits\)$/ {
    oldsize = $5 + 0
    if ($7 + 0 <= oldsize) bad(cur ": " $0)
    next
}
cur != "" && /^  [0-9]+ data member insertions?:$/ { next }
cur != "" && /^    '.*', at offset [0-9]+ \(in bits\)/ {
    s = substr($0, match($0, /, at offset [0-9]+ /) + 12)
    off = substr(s, 1, index(s, " ") - 1) + 0
    if (oldsize < 0 || off < oldsize) bad(cur ": member inserted before the end: " $0)
    else appended++
    next
}
{ bad($0) }

END {
    if (appended == 0 && internal == 0) bad("no appended member found")
    exit ok ? 0 : 1
}

#!/bin/sh
# The example programs run to completion (each exits non-zero on failure).
set -e
build=$(cd "${PACING_BUILD:-build}" && pwd)
"$build/examples/kiosk" > "$build/kiosk.out"
grep -q "min_gap needs 20 s" "$build/kiosk.out"
echo "kiosk: $(wc -l < "$build/kiosk.out") lines"
"$build/examples/game_tips" > "$build/game_tips.out"; tail -n 4 "$build/game_tips.out"
"$build/examples/cpp_service" > "$build/cpp_service.out"; cat "$build/cpp_service.out"

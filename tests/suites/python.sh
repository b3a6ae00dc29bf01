#!/bin/sh
# The Python binding's unit tests and demo, against the library of $PACING_BUILD.
set -e
build=$(cd "${PACING_BUILD:-build}" && pwd)
export PACING_LIBRARY="$build/libpacing.so.1"
(cd bindings/python && python3 -m unittest -q 2>&1 | tail -n 3)
python3 examples/python_demo.py > "$build/python_demo.out"
echo "python demo: $(wc -l < "$build/python_demo.out") lines"

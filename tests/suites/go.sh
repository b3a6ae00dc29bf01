#!/bin/sh
# The Go binding: vet, tests (with the race detector) and demo, offline.
set -e
build=$(cd "${PACING_BUILD:-build}" && pwd)
export GOCACHE="$build/go-cache" GOPATH="$build/gopath" GOFLAGS=-buildvcs=false \
       GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=1
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build"
cd bindings/go
go version
go vet ./...
go test -race -count=1 ./...
go run ./examples/demo > "$build/go_demo.out"
echo "go demo: $(wc -l < "$build/go_demo.out") lines"

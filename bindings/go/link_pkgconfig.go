//go:build pacing_pkgconfig

package pacing

// Build against an installed libpacing (`make install`), found through
// pkg-config: go build -tags pacing_pkgconfig. Set PKG_CONFIG_PATH if
// pacing.pc is not in a standard place (e.g. /usr/local/lib/pkgconfig).

/*
#cgo pkg-config: pacing
*/
import "C"

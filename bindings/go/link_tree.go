//go:build !pacing_pkgconfig

package pacing

// Build against the source tree: the header in include/ and the library that
// `make` leaves in build/ (found at run time through the rpath). For an
// installed library, build with `-tags pacing_pkgconfig` (see
// link_pkgconfig.go), or keep this file and point CGO_CFLAGS / CGO_LDFLAGS
// elsewhere: they are added to these flags.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build -lpacing -Wl,-rpath,${SRCDIR}/../../build
*/
import "C"

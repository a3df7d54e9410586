//go:build tools

// Package tools pins the command built from this module: the cosign CLI (its
// main package is cmd/cosign), which the supply-chain tests use to sign
// images offline in a local registry, so Dockyard's signature checks are
// proven against artifacts the reference implementation wrote. Test-only,
// never shipped.
package tools

import (
	_ "github.com/sigstore/cosign/v3/cmd/cosign"
)

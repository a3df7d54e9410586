//go:build tools

// Package tools pins the command built from this module: the docker compose
// CLI plugin (its main package is cmd/), the reference implementation the
// Compose proof corpus compares Dockyard's conversion with. Test-only, never
// shipped.
package tools

import (
	_ "github.com/docker/compose/v5/cmd"
)

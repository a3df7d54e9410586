// The Compose loader Dockyard ships (built to WebAssembly by
// src/localenv/compose-loader.ts; see main.go). compose-go is pinned to the
// version github.com/docker/compose/v5 v5.6.0 requires, the CLI the proof
// corpus compares against (tools/compose-cli).
module dockyard.io/tools/compose-loader

go 1.26.0

require github.com/compose-spec/compose-go/v2 v2.16.1

require (
	github.com/distribution/reference v0.6.0 // indirect
	github.com/docker/go-connections v0.8.1 // indirect
	github.com/docker/go-units v0.5.0 // indirect
	github.com/go-viper/mapstructure/v2 v2.5.0 // indirect
	github.com/mattn/go-shellwords v1.0.15 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	github.com/sirupsen/logrus v1.10.2 // indirect
	github.com/xhit/go-str2duration/v2 v2.1.0 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	go.yaml.in/yaml/v4 v4.0.0-rc.6 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

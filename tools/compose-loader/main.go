// Command compose-loader loads a Compose project exactly as `docker compose`
// does (compose-go, the library the Compose CLI itself uses, pinned in go.mod to
// the version docker/compose pins) and prints the loaded project as JSON: every
// file merged in order, `extends` and `include` resolved, variables
// interpolated, `.env` and `env_file` read, profiles applied, short syntaxes
// expanded to long ones. Dockyard maps that canonical JSON to its resources
// (src/compose); nothing in TypeScript re-implements Compose's loading rules.
//
// It is built for WebAssembly (GOOS=wasip1) and run by Node's WASI inside the
// CLI and the controller, so it needs no native binary per platform and reads
// only the directory it is given (the controller gives a stack's own files,
// never its own file system).
//
// Input (stdin, JSON): {"projectName", "workingDir", "configFiles", "envFiles",
// "profiles", "environment"}. Output on stdout: {"project": the project as
// `docker compose config --format json` prints it, "sources": the bytes of
// every config and secret that is not external, base64, keyed
// "configs/NAME" or "secrets/NAME"}; on failure the loader's error on stderr
// and exit code 1. Reading the sources here means they resolve exactly as
// Compose resolves them (the project's variables include .env) and only from
// the directory the loader was given.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

type request struct {
	ProjectName string            `json:"projectName"`
	WorkingDir  string            `json:"workingDir"`
	ConfigFiles []string          `json:"configFiles"`
	EnvFiles    []string          `json:"envFiles"`
	Profiles    []string          `json:"profiles"`
	Environment map[string]string `json:"environment"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		return fmt.Errorf("reading the load request: %w", err)
	}
	env := make([]string, 0, len(req.Environment))
	for name, value := range req.Environment {
		env = append(env, name+"="+value)
	}
	// The same options, in the same order, as docker compose's
	// buildProjectOptions (pkg/compose/loader.go), less the process
	// environment (the caller passes the variables it means) and the remote
	// (git, OCI) resource loaders: a stack loads only its own files.
	options, err := cli.NewProjectOptions(req.ConfigFiles,
		cli.WithWorkingDirectory(req.WorkingDir),
		cli.WithEnv(env),
		cli.WithEnvFiles(req.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultConfigPath,
		cli.WithDefaultProfiles(req.Profiles...),
		cli.WithName(req.ProjectName),
		// env_file is read into environment here; the files do not travel
		// to the Docker host.
		cli.WithDiscardEnvFile,
	)
	if err != nil {
		return err
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		return err
	}
	sources, err := readSources(project)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(struct {
		Project *types.Project    `json:"project"`
		Sources map[string]string `json:"sources"`
	}{project, sources})
}

// readSources returns the bytes of every config and secret that is not
// external (inline content, a variable or a file), as docker compose reads
// them when it creates a container.
func readSources(project *types.Project) (map[string]string, error) {
	sources := map[string]string{}
	read := func(kind, name string, obj types.FileObjectConfig) error {
		key := kind + "/" + name
		switch {
		case bool(obj.External):
			return nil
		case obj.Content != "":
			// Also a secret's: compose-go leaves its content out of the JSON.
			sources[key] = base64.StdEncoding.EncodeToString([]byte(obj.Content))
		case obj.Environment != "":
			value, ok := project.Environment[obj.Environment]
			if !ok {
				return fmt.Errorf("%s %q: environment variable %q is not set", kind, name, obj.Environment)
			}
			sources[key] = base64.StdEncoding.EncodeToString([]byte(value))
		case obj.File != "":
			data, err := os.ReadFile(obj.File)
			if err != nil {
				return fmt.Errorf("%s %q: %w", kind, name, err)
			}
			sources[key] = base64.StdEncoding.EncodeToString(data)
		}
		return nil
	}
	for name, config := range project.Configs {
		if err := read("configs", name, types.FileObjectConfig(config)); err != nil {
			return nil, err
		}
	}
	for name, secret := range project.Secrets {
		if err := read("secrets", name, types.FileObjectConfig(secret)); err != nil {
			return nil, err
		}
	}
	return sources, nil
}

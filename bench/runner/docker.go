package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
)

// Docker is the part of the Docker Engine API client the runner uses. The
// real implementation is *client.Client from github.com/moby/moby/client.
type Docker interface {
	ContainerCreate(ctx context.Context, o client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, o client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerWait(ctx context.Context, id string, o client.ContainerWaitOptions) client.ContainerWaitResult
	ContainerLogs(ctx context.Context, id string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerKill(ctx context.Context, id string, o client.ContainerKillOptions) (client.ContainerKillResult, error)
	ContainerRemove(ctx context.Context, id string, o client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerInspect(ctx context.Context, id string, o client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerList(ctx context.Context, o client.ContainerListOptions) (client.ContainerListResult, error)
	ImageInspect(ctx context.Context, ref string, o ...client.ImageInspectOption) (client.ImageInspectResult, error)
}

var _ Docker = (*client.Client)(nil)

// Connect returns a client for the Docker daemon named by the environment
// (DOCKER_HOST, default the local socket), negotiating the API version
// (dockerd 20.10 speaks 1.41), and checks that the daemon answers.
func Connect(ctx context.Context) (*client.Client, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("docker daemon not reachable (%w): start it (systemctl start docker, or scripts/setup-host.sh) or set DOCKER_HOST", err)
	}
	return c, nil
}

// Host describes the host side of device passthrough: which device nodes
// exist and the ids of the video and render groups.
type Host struct {
	// Root is prepended to device and /etc/group paths; "" for the real host.
	Root string
}

// Devices returns those of want that exist on the host, and a note for each
// that does not.
func (h Host) Devices(want []string) (have []string, notes []string) {
	return presentDevices(want, func(d string) bool {
		_, err := os.Stat(filepath.Join(h.Root, d))
		return err == nil
	})
}

// presentDevices splits want into the device nodes that exist (by exists)
// and a note for each that does not, in want's order: the main host
// (Host.Devices) and RPC worker hosts (probeHost) alike.
func presentDevices(want []string, exists func(string) bool) (have []string, notes []string) {
	for _, d := range want {
		if exists(d) {
			have = append(have, d)
		} else {
			notes = append(notes, fmt.Sprintf("%s absent on host: not passed to the container", d))
		}
	}
	return have, notes
}

// GroupIDs returns the host's gids of the video and render groups (read
// from /etc/group; render has no fixed number), for the container's
// supplementary groups.
func (h Host) GroupIDs() ([]string, error) {
	f, err := os.Open(filepath.Join(h.Root, "/etc/group"))
	if err != nil {
		return nil, fmt.Errorf("read host groups: %w", err)
	}
	defer func() { _ = f.Close() }()
	return parseGroupIDs(f)
}

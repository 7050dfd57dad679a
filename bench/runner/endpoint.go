package runner

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench/suite"
)

// WorkerDocker is the Engine API an RPC worker host is driven through: the
// runner's container calls plus networks (for a shared user-defined network).
type WorkerDocker interface {
	Docker
	NetworkInspect(ctx context.Context, id string, o client.NetworkInspectOptions) (client.NetworkInspectResult, error)
	NetworkCreate(ctx context.Context, name string, o client.NetworkCreateOptions) (client.NetworkCreateResult, error)
	NetworkRemove(ctx context.Context, id string, o client.NetworkRemoveOptions) (client.NetworkRemoveResult, error)
}

var _ WorkerDocker = (*client.Client)(nil)

// SSHCommand is the ssh program ssh:// endpoints run (HALOFORGE_SSH
// overrides it, e.g. "ssh -i /etc/hf/key").
func SSHCommand() []string {
	if s := strings.Fields(os.Getenv("HALOFORGE_SSH")); len(s) > 0 {
		return s
	}
	return []string{"ssh"}
}

// ConnectHost returns a client of a worker host's Docker Engine, as a
// Docker context with that endpoint would reach it, negotiating the API
// version, and checks it answers:
//   - unix:///path: the socket;
//   - tcp://HOST:PORT: plain, or TLS with the host's ca/cert/key files;
//   - ssh://[USER@]HOST[:PORT]: each connection runs
//     "ssh ... HOST docker system dial-stdio" (the Docker CLI's ssh connection
//     helper does the same), so the remote user needs the docker CLI and
//     access to its daemon, and ssh must log in without a prompt (keys or agent).
func ConnectHost(ctx context.Context, name string, h suite.Host) (*client.Client, error) {
	scheme, err := suite.ParseEndpoint(h.Docker)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", name, err)
	}
	opts := []client.Opt{}
	switch scheme {
	case "ssh":
		u, _ := url.Parse(h.Docker)
		argv := sshArgv(SSHCommand(), u)
		opts = append(opts,
			// The host is a placeholder: every connection goes through ssh.
			client.WithHost("http://docker.example.com"),
			client.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialCommand(ctx, argv)
			}))
	default:
		opts = append(opts, client.WithHost(h.Docker))
		if h.TLS != nil {
			opts = append(opts, client.WithTLSClientConfig(h.TLS.CA, h.TLS.Cert, h.TLS.Key))
		}
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("host %s (%s): docker client: %w", name, h.Docker, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("host %s: Docker Engine at %s not reachable (%w): check the endpoint, its TLS files or ssh access (try: docker -H %s info)", name, h.Docker, err, h.Docker)
	}
	return c, nil
}

// sshArgv is the command running the remote daemon's dial-stdio.
func sshArgv(ssh []string, u *url.URL) []string {
	argv := append([]string{}, ssh...)
	argv = append(argv, "-o", "BatchMode=yes")
	if u.User != nil && u.User.Username() != "" {
		argv = append(argv, "-l", u.User.Username())
	}
	if u.Port() != "" {
		argv = append(argv, "-p", u.Port())
	}
	return append(argv, "--", u.Hostname(), "docker", "system", "dial-stdio")
}

// cmdConn is a net.Conn over a command's stdin and stdout.
type cmdConn struct {
	cmd    *exec.Cmd
	w      io.WriteCloser
	r      io.ReadCloser
	stderr *lockedBuffer
	once   sync.Once
}

// lockedBuffer collects a command's stderr while Read may look at it.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) < 64<<10 {
		l.b = append(l.b, p...)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

var _ net.Conn = (*cmdConn)(nil)

func dialCommand(ctx context.Context, argv []string) (net.Conn, error) {
	// Not CommandContext: the connection outlives the dial's context.
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec,noctx // argv comes from the suite's ssh endpoint
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
	}
	if err := ctx.Err(); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	return &cmdConn{cmd: cmd, w: w, r: r, stderr: stderr}, nil
}

func (c *cmdConn) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err == io.EOF && n == 0 {
		if msg := strings.TrimSpace(c.stderr.String()); msg != "" {
			return 0, fmt.Errorf("%s: %s", strings.Join(c.cmd.Args, " "), msg)
		}
	}
	return n, err
}

func (c *cmdConn) Write(b []byte) (int, error) { return c.w.Write(b) }

func (c *cmdConn) Close() error {
	c.once.Do(func() {
		_ = c.w.Close()
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
	return nil
}

type cmdAddr string

func (a cmdAddr) Network() string { return "cmd" }
func (a cmdAddr) String() string  { return string(a) }

func (c *cmdConn) LocalAddr() net.Addr              { return cmdAddr("haloforge") }
func (c *cmdConn) RemoteAddr() net.Addr             { return cmdAddr(strings.Join(c.cmd.Args, " ")) }
func (c *cmdConn) SetDeadline(time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(time.Time) error { return nil }

package suite

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/haloforge/haloforge/bench"
)

// RPC suites spread one llama-bench case over several hosts with ggml's RPC
// backend: haloforge starts ggml's RPC server in a container on each worker
// host (through that host's Docker Engine endpoint, as a Docker context
// would reach it) and runs llama-bench on the main host with
// --rpc addr1,addr2,...
//
//	hosts:
//	  box2: {docker: "tcp://10.0.0.2:2376", tls: {ca: /etc/hf/ca.pem, cert: /etc/hf/cert.pem, key: /etc/hf/key.pem}}
//	  box3: {docker: "ssh://bench@box3"}
//	cases:
//	  - tool: llama-bench
//	    models: [scout]
//	    backends: [vulkan]           # the main host's backend
//	    tests: [pp512/tg128]
//	    rpc:
//	      workers:
//	        - {host: box2, backend: vulkan}
//	        - {host: box3, backend: hip, port: 50053}

// DefaultRPCPort is ggml's RPC server's default port.
const DefaultRPCPort = 50052

// Host is a worker host: a Docker Engine endpoint like a Docker context's.
type Host struct {
	// Docker is the endpoint: unix:///var/run/docker.sock,
	// tcp://10.0.0.2:2376 (with tls) or ssh://[user@]box3[:22] (runs
	// "docker system dial-stdio" on the host over ssh, as the Docker CLI does).
	Docker string `yaml:"docker" json:"docker"`
	// TLS are the client certificate files for a tcp endpoint.
	TLS *TLS `yaml:"tls,omitempty" json:"tls,omitempty"`
	// Address is the host name or IP llama-bench on the main host uses to
	// reach this host's RPC servers; default the endpoint's host
	// (127.0.0.1 for a unix socket).
	Address string `yaml:"address,omitempty" json:"address,omitempty"`
}

// TLS names a tcp endpoint's CA, client certificate and key files.
type TLS struct {
	CA   string `yaml:"ca" json:"ca"`
	Cert string `yaml:"cert" json:"cert"`
	Key  string `yaml:"key" json:"key"`
}

// RPCSpec is a case's rpc: field.
type RPCSpec struct {
	// Network, when set, is a user-defined Docker network the main and
	// worker containers join (created if missing); workers are then
	// reached by container name. Only for workers on the main host's
	// Docker daemon (tests, or several containers on one box). Empty means
	// host networking: workers listen on their host's port.
	Network string       `yaml:"network,omitempty"`
	Workers []WorkerSpec `yaml:"workers"`
}

// WorkerSpec is one RPC server.
type WorkerSpec struct {
	Host    string `yaml:"host"`    // a name from the suite's hosts
	Backend string `yaml:"backend"` // the worker's backend: its image, devices and env
	Port    int    `yaml:"port,omitempty"`
	// Image overrides the backend's image on this worker.
	Image string `yaml:"image,omitempty"`
	// Devices are the ggml devices the server offers (rpc-server -d), e.g.
	// [Vulkan0]; default all of the image's devices.
	Devices []string `yaml:"devices,omitempty"`
	// Threads for a CPU device (rpc-server -t); default the worker's CPU count.
	Threads int `yaml:"threads,omitempty"`
	// Cache enables the server's local tensor cache (rpc-server -c).
	Cache bool              `yaml:"cache,omitempty"`
	Env   map[string]string `yaml:"env,omitempty"`
	// Command replaces the RPC server program (default: rpc-server, or
	// Debian's ggml-rpc-server, whichever the image has).
	Command []string `yaml:"command,omitempty"`
}

// RPC is an expanded case's workers, in --rpc order.
type RPC struct {
	Network string      `json:"network,omitempty"`
	Workers []RPCWorker `json:"workers"`
}

// RPCWorker is one expanded worker: where and how its RPC server runs.
type RPCWorker struct {
	Host     string            `json:"host"`
	Endpoint Host              `json:"endpoint"`
	Backend  string            `json:"backend"`
	Image    string            `json:"image"`
	Port     int               `json:"port"`
	Argv     []string          `json:"argv"`
	Env      map[string]string `json:"env,omitempty"`
	// Devices are the host device nodes the worker's backend needs.
	Devices []string `json:"devices,omitempty"`
}

// Label names the topology in case ids: rpc-box2.vulkan+box3.hip.
func (r *RPC) Label() string {
	parts := make([]string, len(r.Workers))
	for i, w := range r.Workers {
		parts[i] = w.Host + "." + w.Backend
	}
	return "rpc-" + strings.Join(parts, "+")
}

// Address is host:port llama-bench reaches the worker at: its container
// name on a shared network, else its host's address.
func (w RPCWorker) Address(network, container string) string {
	if network != "" {
		return net.JoinHostPort(container, strconv.Itoa(w.Port))
	}
	return net.JoinHostPort(w.Endpoint.HostAddress(), strconv.Itoa(w.Port))
}

// HostAddress is Address, or the endpoint's host name.
func (h Host) HostAddress() string {
	if h.Address != "" {
		return h.Address
	}
	u, err := url.Parse(h.Docker)
	if err != nil || u.Scheme == "unix" || u.Hostname() == "" {
		return "127.0.0.1"
	}
	return u.Hostname()
}

// RPCServerScript finds ggml's RPC server in the image: upstream builds
// name it rpc-server, Debian ships /usr/libexec/<triplet>/llama/bin/ggml-rpc-server.
// With HF_RPC_NPROC=1 it adds -t $(nproc) (a CPU device's threads).
const RPCServerScript = `for p in rpc-server ggml-rpc-server /usr/libexec/*/llama/bin/ggml-rpc-server; do
  if command -v "$p" >/dev/null 2>&1; then
    if [ "$HF_RPC_NPROC" = 1 ]; then set -- "$@" -t "$(nproc)"; fi
    exec "$p" "$@"
  fi
done
echo "haloforge: no rpc-server or ggml-rpc-server in this image (Debian: install llama.cpp-tools-extra and libggml0-backend-rpc)" >&2
exit 127`

// expandRPC resolves a case's workers against the suite's hosts and backends.
func (s *Suite) expandRPC(spec *RPCSpec) *RPC {
	out := &RPC{Network: spec.Network}
	for _, w := range spec.Workers {
		port := w.Port
		if port == 0 {
			port = DefaultRPCPort
		}
		img := s.Backends[w.Backend].Image
		if w.Image != "" {
			img = w.Image
		}
		env := backendEnv(w.Backend, s.Backends[w.Backend])
		maps.Copy(env, w.Env)
		var argv []string
		if len(w.Command) > 0 {
			argv = append(argv, w.Command...)
		} else {
			argv = []string{"sh", "-c", RPCServerScript, "rpc-server"}
		}
		argv = append(argv, "-H", "0.0.0.0", "-p", strconv.Itoa(port))
		if len(w.Devices) > 0 {
			argv = append(argv, "-d", strings.Join(w.Devices, ","))
		}
		threads := w.Threads
		if threads == 0 {
			threads = s.Defaults.Threads
		}
		switch {
		case threads > 0:
			argv = append(argv, "-t", strconv.Itoa(threads))
		case len(w.Command) == 0:
			env["HF_RPC_NPROC"] = "1" // rpc-server's CPU device defaults to 1 thread
		}
		if w.Cache {
			argv = append(argv, "-c")
		}
		out.Workers = append(out.Workers, RPCWorker{
			Host: w.Host, Endpoint: s.Hosts[w.Host], Backend: w.Backend, Image: img,
			Port: port, Argv: argv, Env: env, Devices: BackendDevices[w.Backend],
		})
	}
	return out
}

// rpcLlamaArgs are the main host's llama-bench arguments in an RPC case:
// every layer offloaded; a CPU main host offers only the RPC devices
// (ggml names them RPC0, RPC1, ... in --rpc order), GPU main hosts their
// own GPU too.
func rpcLlamaArgs(main string, workers int) []string {
	switch main {
	case "hip", "hip-rocwmma":
		return []string{"-mmp", "0", "-ngl", "99"}
	case "vulkan":
		return []string{"-ngl", "99"}
	default:
		devs := make([]string, workers)
		for i := range devs {
			devs[i] = "RPC" + strconv.Itoa(i)
		}
		return []string{"-ngl", "99", "-dev", strings.Join(devs, "/")}
	}
}

// ParseEndpoint checks a Docker endpoint and returns its scheme.
func ParseEndpoint(ep string) (scheme string, err error) {
	u, err := url.Parse(ep)
	if err != nil {
		return "", fmt.Errorf("%q is not a Docker endpoint URL: write unix:///var/run/docker.sock, tcp://HOST:2376 or ssh://USER@HOST", ep)
	}
	switch u.Scheme {
	case "unix":
		if u.Path == "" || u.Host != "" {
			return "", fmt.Errorf("%q: a unix endpoint is unix:///path/to/docker.sock (three slashes)", ep)
		}
	case "tcp":
		if u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return "", fmt.Errorf("%q: a tcp endpoint is tcp://HOST:PORT (2376 with TLS)", ep)
		}
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			return "", fmt.Errorf("%q: port %q is not a number", ep, u.Port())
		}
	case "ssh":
		if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", fmt.Errorf("%q: an ssh endpoint is ssh://[USER@]HOST[:PORT]", ep)
		}
		if _, pw := u.User.Password(); pw {
			return "", fmt.Errorf("%q: no passwords in ssh endpoints: use an ssh key or agent", ep)
		}
	default:
		return "", fmt.Errorf("%q: unsupported scheme %q: use unix://, tcp:// (with tls) or ssh://", ep, u.Scheme)
	}
	return u.Scheme, nil
}

func validNetwork(n string) bool {
	return validName(n) && n[0] != '.' && n[0] != '-' && n != "host" && n != "none" && n != "bridge" && n != "default"
}

// validateHosts checks the suite's worker hosts.
func (s *Suite) validateHosts(errAt func(field, msg string, path ...any) error) error {
	for _, name := range slices.Sorted(maps.Keys(s.Hosts)) {
		h := s.Hosts[name]
		p := []any{"hosts", name}
		f := "hosts." + name
		if !validName(name) {
			return errAt(f, "host names may use letters, digits, '.', '_' and '-' only", p...)
		}
		if h.Docker == "" {
			return errAt(f+".docker", "missing: give the host's Docker endpoint (tcp://HOST:2376 with tls, ssh://USER@HOST or unix:///var/run/docker.sock)", p...)
		}
		scheme, err := ParseEndpoint(h.Docker)
		if err != nil {
			return errAt(f+".docker", err.Error(), append(p, "docker")...)
		}
		if h.TLS != nil {
			if scheme != "tcp" {
				return errAt(f+".tls", "tls is for tcp:// endpoints only: remove it", append(p, "tls")...)
			}
			for _, kv := range [][2]string{{"ca", h.TLS.CA}, {"cert", h.TLS.Cert}, {"key", h.TLS.Key}} {
				if kv[1] == "" || !filepath.IsAbs(kv[1]) {
					return errAt(f+".tls."+kv[0], "give the absolute path of the PEM file (like docker --tlscacert/--tlscert/--tlskey)", append(p, "tls", kv[0])...)
				}
			}
		}
		if h.Address != "" && (strings.ContainsAny(h.Address, "/ ") || net.ParseIP(h.Address) == nil && !validName(h.Address)) {
			return errAt(f+".address", "give a host name or IP address without port (ports are per worker)", append(p, "address")...)
		}
	}
	return nil
}

// validateRPC checks the rpc field of every case.
func (s *Suite) validateRPC(errAt func(field, msg string, path ...any) error) error {
	for i, c := range s.Cases {
		if c.RPC == nil {
			continue
		}
		p := []any{"cases", i, "rpc"}
		field := func(f string) string { return fmt.Sprintf("cases[%d].rpc%s", i, f) }
		if c.Tool != bench.ToolLlamaBench {
			return errAt(field(""), "only llama-bench cases can use rpc workers: remove rpc", p...)
		}
		if c.RPC.Network != "" && !validNetwork(c.RPC.Network) {
			return errAt(field(".network"), "name a user-defined Docker network (letters, digits, '.', '_', '-'; not host, none or bridge), or omit it for host networking", append(p, "network")...)
		}
		if len(c.RPC.Workers) == 0 {
			return errAt(field(".workers"), "missing: list the workers ({host: NAME, backend: cpu|hip|hip-rocwmma|vulkan})", p...)
		}
		seen := map[string]int{}
		for j, w := range c.RPC.Workers {
			wp := append(slices.Clone(p), "workers", j)
			wf := func(f string) string { return field(fmt.Sprintf(".workers[%d].%s", j, f)) }
			if _, ok := s.Hosts[w.Host]; !ok {
				msg := fmt.Sprintf("unknown host %q: define it under hosts with its Docker endpoint", w.Host)
				if w.Host == "" {
					msg = "missing: name one of the suite's hosts"
				}
				return errAt(wf("host"), msg, append(wp, "host")...)
			}
			if !slices.Contains(KnownBackends, w.Backend) {
				return errAt(wf("backend"), fmt.Sprintf("unknown backend %q: use one of %s", w.Backend, strings.Join(KnownBackends, ", ")), append(wp, "backend")...)
			}
			if _, ok := s.Backends[w.Backend]; !ok && w.Image == "" {
				return errAt(wf("backend"), fmt.Sprintf("backend %q is not configured in this suite's backends: add it with its image, or give the worker an image", w.Backend), append(wp, "backend")...)
			}
			if w.Port < 0 || w.Port > 65535 {
				return errAt(wf("port"), "must be a TCP port (1-65535; default 50052)", append(wp, "port")...)
			}
			if w.Threads < 0 {
				return errAt(wf("threads"), "must be positive", append(wp, "threads")...)
			}
			for k, d := range w.Devices {
				if d == "" || strings.ContainsAny(d, ", ") {
					return errAt(wf(fmt.Sprintf("devices[%d]", k)), "name one ggml device per entry, e.g. Vulkan0 or ROCm0 (see llama-bench --list-devices)", append(wp, "devices", k)...)
				}
			}
			port := w.Port
			if port == 0 {
				port = DefaultRPCPort
			}
			if c.RPC.Network == "" {
				key := w.Host + ":" + strconv.Itoa(port)
				if k, dup := seen[key]; dup {
					return errAt(wf("port"), fmt.Sprintf("workers[%d] already listens on %s: give this worker another port", k, key), wp...)
				}
				seen[key] = j
			}
		}
		for j, a := range c.Args {
			if a == "--rpc" || a == "-rpc" || a == "-dev" || a == "--device" || a == "-ngl" || a == "--n-gpu-layers" {
				return errAt(fmt.Sprintf("cases[%d].args[%d]", i, j), fmt.Sprintf("%s is set by haloforge for rpc cases (from rpc.workers)", a), "cases", i, "args", j)
			}
		}
	}
	return nil
}

package suite

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const rpcExample = "../../docs/suites/rpc.yaml"

// TestRPCExampleGolden pins the expansion of the documented RPC suite:
// case ids, main argv and every worker's endpoint, image, argv and env.
func TestRPCExampleGolden(t *testing.T) {
	s, err := Load(rpcExample)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&b, "%d %s\n  image=%s timeout=%s devices=%v\n  argv=%s\n", c.Index, c.ID, c.Image, c.Timeout, c.Devices, strings.Join(c.Argv, " "))
		if c.RPC == nil {
			t.Fatalf("%s: no rpc", c.ID)
		}
		fmt.Fprintf(&b, "  network=%q\n", c.RPC.Network)
		for i, w := range c.RPC.Workers {
			var env []string
			for _, k := range slices.Sorted(maps.Keys(w.Env)) {
				env = append(env, k+"="+w.Env[k])
			}
			ep, _ := json.Marshal(w.Endpoint)
			argv := strings.ReplaceAll(strings.Join(w.Argv, " "), RPCServerScript, "$RPCServerScript")
			fmt.Fprintf(&b, "  worker %d %s %s address=%s\n    endpoint=%s\n    image=%s devices=%v env=%v\n    argv=%s\n",
				i, w.Host, w.Backend, w.Address("", "unused"), ep, w.Image, w.Devices, env, argv)
		}
	}
	golden := filepath.Join("testdata", "rpc-example.cases.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("expansion differs from %s (go test -update after checking the diff):\n%s", golden, b.String())
	}
}

func TestRPCExpand(t *testing.T) {
	s := mustParse(t, `
name: t
defaults: {threads: 6}
hosts:
  a: {docker: "unix:///var/run/docker.sock"}
  b: {docker: "ssh://me@b.lan:2222"}
backends:
  cpu: {image: cpu-img}
  vulkan: {image: vk-img}
models:
  m: {tiny: {type: q4_0}}
cases:
  - tool: llama-bench
    models: [m]
    backends: [cpu, vulkan]
    tests: [pp16]
    rpc:
      network: hf-net
      workers:
        - {host: a, backend: vulkan, devices: [Vulkan0], env: {X: "1"}}
        - {host: b, backend: cpu, port: 50060, cache: true, threads: 0}
`)
	cases, err := s.Expand(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 {
		t.Fatalf("%d cases", len(cases))
	}
	cpu, vk := cases[0], cases[1]
	checks := []struct {
		name string
		ok   bool
	}{
		{"id names the topology", cpu.ID == "llama/m/cpu/fa0/pp16/rpc-a.vulkan+b.cpu"},
		{"cpu main offers only the RPC devices", strings.HasSuffix(strings.Join(cpu.Argv, " "), "-t 6 -ngl 99 -dev RPC0/RPC1 -o json")},
		{"gpu main keeps its own GPU", strings.HasSuffix(strings.Join(vk.Argv, " "), "-t 6 -ngl 99 -o json")},
		{"no --rpc until workers listen", !strings.Contains(strings.Join(cpu.Argv, " "), "--rpc")},
		{"worker image from its backend", cpu.RPC.Workers[0].Image == "vk-img" && cpu.RPC.Workers[1].Image == "cpu-img"},
		{"worker devices from its backend", strings.Join(cpu.RPC.Workers[0].Devices, ",") == "/dev/dri" && len(cpu.RPC.Workers[1].Devices) == 0},
		{"worker env", cpu.RPC.Workers[0].Env["GGML_VK_VISIBLE_DEVICES"] == "0" && cpu.RPC.Workers[0].Env["X"] == "1"},
		{"worker flags", strings.HasSuffix(strings.Join(cpu.RPC.Workers[0].Argv, " "), "rpc-server -H 0.0.0.0 -p 50052 -d Vulkan0 -t 6")},
		{"worker port and cache", strings.HasSuffix(strings.Join(cpu.RPC.Workers[1].Argv, " "), "-p 50060 -t 6 -c")},
		{"network address by container name", cpu.RPC.Workers[1].Address("hf-net", "w1") == "w1:50060"},
		{"host address from ssh endpoint", cpu.RPC.Workers[1].Address("", "w1") == "b.lan:50060"},
		{"unix endpoint is this host", cpu.RPC.Workers[0].Address("", "w0") == "127.0.0.1:50052"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, cpu)
		}
	}
	// Without threads anywhere, a CPU worker gets one per core.
	s2 := mustParse(t, strings.Replace(string(s.Raw), "defaults: {threads: 6}\n", "", 1))
	c2, _ := s2.Expand(Options{})
	if w := c2[0].RPC.Workers[1]; w.Env["HF_RPC_NPROC"] != "1" || strings.Contains(strings.Join(w.Argv[4:], " "), "-t") {
		t.Errorf("default threads: %v %v", w.Env, w.Argv)
	}
}

const rpcHead = `name: t
hosts:
  box2: {docker: "tcp://10.0.0.2:2376", tls: {ca: /c/ca.pem, cert: /c/cert.pem, key: /c/key.pem}}
  box3: {docker: "ssh://u@box3"}
backends:
  cpu: {image: img}
models:
  m: {tiny: {type: q4_0}}
cases:
  - tool: llama-bench
    models: [m]
    backends: [cpu]
    tests: [pp1]
`

func TestRPCValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"no docker", "name: t\nhosts:\n  b: {address: x}\nbackends: {cpu: {image: i}}\n", "t.yaml:3: hosts.b.docker: missing"},
		{"bad scheme", "name: t\nhosts:\n  b: {docker: \"http://b:2375\"}\nbackends: {cpu: {image: i}}\n", "t.yaml:3: hosts.b.docker: \"http://b:2375\": unsupported scheme \"http\""},
		{"tcp without port", "name: t\nhosts:\n  b: {docker: \"tcp://b\"}\nbackends: {cpu: {image: i}}\n", "a tcp endpoint is tcp://HOST:PORT"},
		{"unix two slashes", "name: t\nhosts:\n  b: {docker: \"unix://var/run/docker.sock\"}\nbackends: {cpu: {image: i}}\n", "unix:///path/to/docker.sock (three slashes)"},
		{"ssh password", "name: t\nhosts:\n  b: {docker: \"ssh://u:pw@b\"}\nbackends: {cpu: {image: i}}\n", "no passwords in ssh endpoints"},
		{"tls on ssh", "name: t\nhosts:\n  b:\n    docker: ssh://b\n    tls: {ca: /a, cert: /b, key: /c}\nbackends: {cpu: {image: i}}\n", "t.yaml:5: hosts.b.tls: tls is for tcp:// endpoints only"},
		{"tls relative", "name: t\nhosts:\n  b:\n    docker: tcp://b:2376\n    tls: {ca: ca.pem, cert: /b, key: /c}\nbackends: {cpu: {image: i}}\n", "t.yaml:5: hosts.b.tls.ca: give the absolute path"},
		{"bad address", "name: t\nhosts:\n  b: {docker: \"tcp://b:2376\", address: \"b:50052\"}\nbackends: {cpu: {image: i}}\n", "hosts.b.address: give a host name or IP address without port"},
		{"unknown worker field", rpcHead + "    rpc: {workers: [{host: box2, backend: cpu, gpu: 1}]}\n", "t.yaml:14: unknown field gpu"},
		{"no workers", rpcHead + "    rpc: {network: n}\n", "t.yaml:14: cases[0].rpc.workers: missing"},
		{"unknown host", rpcHead + "    rpc:\n      workers:\n        - {host: box9, backend: cpu}\n", "t.yaml:16: cases[0].rpc.workers[0].host: unknown host \"box9\": define it under hosts"},
		{"unknown backend", rpcHead + "    rpc:\n      workers:\n        - {host: box2, backend: cuda}\n", "t.yaml:16: cases[0].rpc.workers[0].backend: unknown backend \"cuda\""},
		{"backend without image", rpcHead + "    rpc:\n      workers:\n        - {host: box2, backend: hip}\n", "backend \"hip\" is not configured in this suite's backends: add it with its image, or give the worker an image"},
		{"port range", rpcHead + "    rpc:\n      workers:\n        - {host: box2, backend: cpu, port: 70000}\n", "t.yaml:16: cases[0].rpc.workers[0].port: must be a TCP port"},
		{"same port twice", rpcHead + "    rpc:\n      workers:\n        - {host: box2, backend: cpu}\n        - {host: box2, backend: cpu, port: 50052}\n", "t.yaml:17: cases[0].rpc.workers[1].port: workers[0] already listens on box2:50052: give this worker another port"},
		{"bad device", rpcHead + "    rpc:\n      workers:\n        - {host: box2, backend: cpu, devices: [\"Vulkan0,Vulkan1\"]}\n", "cases[0].rpc.workers[0].devices[0]: name one ggml device per entry"},
		{"host network name", rpcHead + "    rpc:\n      network: host\n      workers: [{host: box2, backend: cpu}]\n", "t.yaml:15: cases[0].rpc.network: name a user-defined Docker network"},
		{"rpc arg", rpcHead + "    args: [--rpc, x:1]\n    rpc: {workers: [{host: box2, backend: cpu}]}\n", "cases[0].args[0]: --rpc is set by haloforge for rpc cases"},
		{"rpc on mamf", "name: t\nhosts:\n  b: {docker: \"ssh://b\"}\nbackends: {hip: {image: i}}\ncases:\n  - tool: mamf-finder\n    backends: [hip]\n    rpc: {workers: [{host: b, backend: hip}]}\n", "t.yaml:8: cases[0].rpc: only llama-bench cases can use rpc workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, scheme string
	}{
		{"unix:///var/run/docker.sock", "unix"},
		{"tcp://10.0.0.2:2376", "tcp"},
		{"tcp://[fe80::1]:2376", "tcp"},
		{"ssh://box3", "ssh"},
		{"ssh://bench@box3:2222", "ssh"},
		{"tcp://10.0.0.2:99999", ""},
		{"ssh://box3/path", ""},
		{"npipe:////./pipe/docker_engine", ""},
		{"box3", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEndpoint(tt.in)
			if got != tt.scheme || (err == nil) != (tt.scheme != "") {
				t.Fatalf("ParseEndpoint(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

// FuzzParseRPC: RPC suites included, no input panics and errors are one line.
func FuzzParseRPC(f *testing.F) {
	if b, err := os.ReadFile(rpcExample); err == nil {
		f.Add(b)
	}
	f.Add([]byte(rpcHead + "    rpc:\n      network: n\n      workers:\n        - {host: box2, backend: cpu, port: 1}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("fuzz.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error: %q", err)
			}
			return
		}
		cases, err := s.Expand(Options{})
		if err != nil {
			t.Fatalf("valid suite does not expand: %v", err)
		}
		for _, c := range cases {
			if c.RPC != nil && len(c.RPC.Workers) == 0 {
				t.Fatalf("%s: rpc case without workers", c.ID)
			}
		}
	})
}

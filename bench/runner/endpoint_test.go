package runner

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/internal/dockertest"
)

func TestParseRPCBanner(t *testing.T) {
	// ggml-rpc-server from Debian sid's llama.cpp-tools-extra 0.7.0 (ggml 0.27).
	const banner = `
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
WARNING: Host ('0.0.0.0') is != '127.0.0.1'
         Never expose the RPC server to an open network!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!

Starting RPC server v8.0.0
  endpoint       : 0.0.0.0:50052
  local cache    : n/a
Devices:
  CPU: AMD EPYC (24105 MiB, 24105 MiB free)
  Vulkan0: Radeon 8060S Graphics (RADV GFX1151) (98304 MiB, 97000 MiB free)
  transport      : TCP
`
	tests := []struct {
		name    string
		log     string
		version string
		devices []string
		started bool
	}{
		{"full", banner, "v8.0.0", []string{"CPU: AMD EPYC (24105 MiB, 24105 MiB free)", "Vulkan0: Radeon 8060S Graphics (RADV GFX1151) (98304 MiB, 97000 MiB free)"}, true},
		{"not yet", "load_backend: loaded RPC backend from /usr/lib/x86_64-linux-gnu/ggml/backends0/libggml-rpc.so\n", "", nil, false},
		{"old server", "Starting RPC server on 0.0.0.0:50052, backend memory: 16000 MB\n", "", nil, true},
		{"truncated device line", "Starting RPC server v8.0.0\nDevices:\n  CPU: AMD EPYC (24105 MiB", "v8.0.0", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, devs, started := parseRPCBanner(tt.log)
			if v != tt.version || !slices.Equal(devs, tt.devices) || started != tt.started {
				t.Fatalf("got %q %q %v", v, devs, started)
			}
		})
	}
}

func TestSSHArgv(t *testing.T) {
	tests := []struct {
		ep   string
		want string
	}{
		{"ssh://box3", "ssh -o BatchMode=yes -- box3 docker system dial-stdio"},
		{"ssh://bench@box3:2222", "ssh -o BatchMode=yes -l bench -p 2222 -- box3 docker system dial-stdio"},
		{"ssh://bench@[fe80::1]:22", "ssh -o BatchMode=yes -l bench -p 22 -- fe80::1 docker system dial-stdio"},
	}
	for _, tt := range tests {
		t.Run(tt.ep, func(t *testing.T) {
			u, err := url.Parse(tt.ep)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(sshArgv([]string{"ssh"}, u), " "); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWithRPC(t *testing.T) {
	got := withRPC([]string{"llama-bench", "-m", "/m.gguf", "-ngl", "99", "-dev", "RPC0", "-o", "json"}, "a:1,b:2")
	want := []string{"llama-bench", "--rpc", "a:1,b:2", "-m", "/m.gguf", "-ngl", "99", "-dev", "RPC0", "-o", "json"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
}

func TestParseGroupIDs(t *testing.T) {
	gids, err := parseGroupIDs(strings.NewReader("root:x:0:\nvideo:x:44:me\nbad line\nrender:x:992:\nvideo:x:44:\n"))
	if err != nil || !slices.Equal(gids, []string{"44", "992"}) {
		t.Fatalf("%v %v", gids, err)
	}
}

// tlsFiles writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, as dockerd --tlsverify and docker --tlsverify use them.
func tlsFiles(t *testing.T) (dir string, server tls.Certificate, pool *x509.CertPool) {
	t.Helper()
	dir = t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hf-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ca.pem", "CERTIFICATE", caDER)
	cDER, cKey := issue("client", 2, x509.ExtKeyUsageClientAuth)
	write("cert.pem", "CERTIFICATE", cDER)
	kb, _ := x509.MarshalECPrivateKey(cKey)
	write("key.pem", "EC PRIVATE KEY", kb)
	sDER, sKey := issue("server", 3, x509.ExtKeyUsageServerAuth)
	server = tls.Certificate{Certificate: [][]byte{sDER}, PrivateKey: sKey}
	return dir, server, pool
}

// tlsDaemon exposes the local daemon's socket on 127.0.0.1 over TLS with
// client certificates required (what dockerd --tlsverify -H tcp://... does)
// and returns its tcp:// endpoint.
func tlsDaemon(t *testing.T, socket string, server tls.Certificate, pool *x509.CertPool) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{server}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return // as dockerd: no client certificate, no connection
				}
				d, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer func() { _ = d.Close() }()
				go func() { _, _ = io.Copy(d, c) }()
				_, _ = io.Copy(c, d)
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// TestRPCWorkerOverTLS starts a worker through a tcp:// endpoint with TLS
// client certificates (this machine's daemon behind a TLS listener that
// requires them) and runs llama-bench against it; a client without the
// certificates is refused with a clear error.
func TestRPCWorkerOverTLS(t *testing.T) {
	dc := dockertest.Client(t)
	img := rpcImage(t, dc)
	u, err := url.Parse(dc.DaemonHost())
	if err != nil || u.Scheme != "unix" {
		t.Skipf("the TLS test proxies a unix socket; DOCKER_HOST is %s", dc.DaemonHost())
	}
	dir, server, pool := tlsFiles(t)
	ep := tlsDaemon(t, u.Path, server, pool)
	ctx := context.Background()

	t0 := time.Now()
	_, err = ConnectHost(ctx, "box2", suite.Host{Docker: ep})
	t.Logf("plain client refused in %s: %v", time.Since(t0).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "host box2: Docker Engine at "+ep+" not reachable") {
		t.Errorf("plain client to a TLS daemon: %v", err)
	}

	tiny := dockertest.TinyModel(t)
	y := `
name: rpc-tls
defaults: {timeout: 15m, repetitions: 1, threads: 1}
hosts:
  box2:
    docker: "` + ep + `"
    tls: {ca: ` + filepath.Join(dir, "ca.pem") + `, cert: ` + filepath.Join(dir, "cert.pem") + `, key: ` + filepath.Join(dir, "key.pem") + `}
backends:
  cpu: {image: ` + img + `}
models:
  tiny: {path: ` + tiny + `}
cases:
  - {tool: llama-bench, models: [tiny], backends: [cpu], tests: [pp8/tg2], rpc: {workers: [{host: box2, backend: cpu, port: 50190}]}}
`
	s, err := suite.Parse("rpc-tls.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	binds, _, err := testCache(home, s).Prepare(ctx, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Docker: dc, Home: home, Binds: binds, NamePrefix: "hf-rpc-tls-"}
	run, err := r.Start(ctx, bench.Run{Suite: s.Name}, s.Raw, cases)
	if err != nil {
		t.Fatal(err)
	}
	c := run.Cases[0]
	if c.Status != bench.StatusOK || c.Topology == nil || len(c.Topology.Workers) != 1 {
		t.Fatalf("%s %q %+v", c.Status, c.Error, c.Topology)
	}
	w := c.Topology.Workers[0]
	t.Logf("over %s: %s %.1f t/s, %s %.1f t/s; worker %s at %s (%v)", ep, c.Llama[0].Label(), c.Llama[0].AvgTS, c.Llama[1].Label(), c.Llama[1].AvgTS, w.Host, w.Address, w.GPUs)
	if w.Endpoint != ep || w.Address != "127.0.0.1:50190" || !strings.Contains(c.Llama[0].GPUInfo, "127.0.0.1:50190") {
		t.Errorf("worker %+v, gpu_info %q", w, c.Llama[0].GPUInfo)
	}
}

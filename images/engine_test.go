package images

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/haloforge/haloforge/internal/dockertest"
)

func TestResolveEngine(t *testing.T) {
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    string
		from    string
		wantErr string
	}{
		{"flag tcp", "tcp://build-host.lab:1234", nil, "tcp://build-host.lab:1234", "--engine", ""},
		{"flag wins over env", "ssh://runner@build-host.lab", map[string]string{EngineEnv: "tcp://x:1"}, "ssh://runner@build-host.lab", "--engine", ""},
		{"env", "", map[string]string{EngineEnv: "docker-container://haloforge-dagger-engine"}, "docker-container://haloforge-dagger-engine", "$HALOFORGE_ENGINE", ""},
		{"unix socket", "unix:///run/dagger/engine.sock", nil, "unix:///run/dagger/engine.sock", "--engine", ""},
		{"dagger's own variable kept", "", map[string]string{RunnerHostEnv: "kube-pod://dagger-0"}, "kube-pod://dagger-0", "$_EXPERIMENTAL_DAGGER_RUNNER_HOST", ""},
		{"nothing: local engine", "", nil, "", "$_EXPERIMENTAL_DAGGER_RUNNER_HOST", ""},
		{"no scheme", "build-host.lab:1234", nil, "", "", "want SCHEME://TARGET"},
		{"unknown scheme", "http://build-host.lab:1234", nil, "", "", `unknown scheme "http"`},
		{"tcp without port", "tcp://build-host.lab", nil, "", "", "tcp:// needs a port"},
		{"empty target", "docker-container://", nil, "", "", "no host, socket or container"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := ResolveEngine(tc.flag, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %q, %v; want a one-line error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || from != tc.from {
				t.Fatalf("got %q from %s (%v), want %q from %s", got, from, err, tc.want, tc.from)
			}
		})
	}
}

func TestCheckEngine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "tcp://" + l.Addr().String()
	if err := CheckEngine(addr, 5*time.Second); err != nil {
		t.Errorf("listening engine address: %v", err)
	}
	_ = l.Close()
	err = CheckEngine(addr, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("closed port: %v", err)
	}
	if err := CheckEngine("unix://"+t.TempDir()+"/engine.sock", time.Second); err == nil {
		t.Error("missing unix socket accepted")
	}
	if err := CheckEngine("ssh://runner@build-host.invalid", time.Second); err != nil {
		t.Errorf("ssh is checked by its helper, not here: %v", err)
	}
}

// TestCheckEngineContainer: against the real daemon, a missing engine
// container is a clear error at once instead of minutes of dagger retries.
func TestCheckEngineContainer(t *testing.T) {
	_ = dockertest.Client(t)
	err := CheckEngine("docker-container://hf-fleetdb-no-such-engine", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), `no Dagger engine container "hf-fleetdb-no-such-engine"`) {
		t.Errorf("missing container: %v", err)
	}
}

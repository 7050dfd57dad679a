package runner

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/gguf"
	"github.com/haloforge/haloforge/bench/models"
	"github.com/haloforge/haloforge/bench/suite"
	"github.com/haloforge/haloforge/images/runtime"
	"github.com/haloforge/haloforge/internal/dockertest"
)

// cutDocker is the real daemon whose first log read loses the last lines
// of the container's output, as when the daemon's log copier stops before the last lines
// arrive (a fault a test cannot provoke on demand).
type cutDocker struct {
	*client.Client
	mu   sync.Mutex
	cuts int
}

func (d *cutDocker) ContainerLogs(ctx context.Context, id string, o client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	rc, err := d.Client.ContainerLogs(ctx, id, o)
	if err != nil {
		return rc, err
	}
	d.mu.Lock()
	cut := d.cuts > 0
	if cut {
		d.cuts--
	}
	d.mu.Unlock()
	if !cut {
		return rc, nil
	}
	defer func() { _ = rc.Close() }()
	var out, errb, kept bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errb, rc); err != nil {
		return nil, err
	}
	// Each stream loses its last lines; frames of the multiplexed log
	// stream: the stream (1 stdout, 2 stderr), three zero bytes, the
	// payload size as a big-endian uint32.
	for i, b := range [][]byte{out.Bytes(), errb.Bytes()} {
		lines := strings.SplitAfter(string(b), "\n")
		if len(lines) > 4 {
			lines = lines[:len(lines)-4]
		}
		p := strings.Join(lines, "")
		hdr := []byte{byte(i + 1), 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
		kept.Write(hdr)
		kept.WriteString(p)
	}
	return io.NopCloser(&kept), nil
}

// A llama-perplexity reference run whose statistics went missing from its
// log although it exited 0 runs once more, says so, and keeps the second
// attempt's real figures.
func TestCutShortOutputRunsOnceMore(t *testing.T) {
	dc := dockertest.Client(t)
	dockertest.Image(t, dc, runtime.SmokeRef)
	y := `
name: cut-itest
defaults: {timeout: 5m, repetitions: 1}
backends:
  cpu: {image: ` + runtime.SmokeRef + `}
models:
  tiny: {tiny: {type: q4_0}}
cases:
  - {tool: llama-perplexity, models: [tiny], backends: [cpu], kld: {ctx: 128, chunks: 2}}
`
	s, err := suite.Parse("cut-itest.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.Expand(suite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	ctx := context.Background()
	binds, _, err := (&models.Cache{Dir: bench.ModelDir(home), Tiny: gguf.TinyMaker{}}).Prepare(ctx, s, cases)
	if err != nil {
		t.Fatal(err)
	}
	d := &cutDocker{Client: dc, cuts: 1}
	r := &Runner{Docker: d, Home: home, Binds: binds, NamePrefix: "hf-runner-test-"}
	run, err := r.Start(ctx, bench.Run{Suite: s.Name}, s.Raw, cases)
	if err != nil {
		t.Fatal(err)
	}
	if d.cuts != 0 || len(run.Cases) != 1 {
		t.Fatalf("the planted cut was not used (%d left), %d cases", d.cuts, len(run.Cases))
	}
	c := run.Cases[0]
	if c.Status != bench.StatusOK || c.Correct == nil || c.Correct.PPL <= 0 {
		t.Fatalf("status %s (%s), result %+v; want ok with the second attempt's PPL", c.Status, c.Error, c.Correct)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), "ran twice: the first attempt exited 0 but its output was cut short") {
		t.Errorf("notes %q do not say the case ran twice", c.Notes)
	}
}

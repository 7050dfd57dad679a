package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/correct"
	"github.com/haloforge/haloforge/bench/llamabench"
	"github.com/haloforge/haloforge/bench/suite"
)

// kldDir is the run directory's folder of reference-check files: the text
// and the CPU's saved log-probabilities, mounted at suite.KLDMount.
const kldDir = "kld"

// helpCacheDir holds llama-bench --help texts by image id, under the home.
const helpCacheDir = "cache/llama-bench-help"

// prepareCase runs before a single-box case's container is made. It fits a
// llama-bench argv to the llama-bench in the image (its --help), and gives
// a reference-check case the run's kld directory. A non-nil result is the
// case's outcome: it must not start.
func (r *Runner) prepareCase(ctx context.Context, d *RunDir, c *suite.Case, x *caseExtras) (*bench.CaseResult, error) {
	stop := func(status bench.Status, msg string) (*bench.CaseResult, error) {
		res := baseResult(*c)
		res.Status, res.Error = status, msg
		res.Started = r.now().UTC()
		res.Finished = res.Started
		return &res, nil
	}
	switch {
	case c.Tool == bench.ToolLlamaBench && len(c.Argv) > 0:
		caps, err := r.LlamaBenchCaps(ctx, c.Image, c.Argv[0])
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return stop(bench.StatusError, fmt.Sprintf("reading %s --help in image %s: %v", c.Argv[0], c.Image, err))
		}
		argv, err := caps.Adapt(c.Argv)
		if err != nil {
			return stop(bench.StatusError, fmt.Sprintf("image %s: %v", c.Image, err))
		}
		c.Argv = argv
	case c.KLD != nil:
		dir, err := filepath.Abs(filepath.Join(d.Path, kldDir)) // a bind mount's source must be absolute
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		text := filepath.Join(dir, correct.TextFile)
		if b, err := os.ReadFile(text); err != nil || !bytes.Equal(b, correct.Text) {
			if err := WriteFileAtomic(text, correct.Text); err != nil {
				return nil, err
			}
		}
		mode := "ro"
		if c.KLD.Role == correct.VerdictReference {
			mode = "rw"
		} else if st, err := os.Stat(filepath.Join(dir, c.KLD.BaseFile)); err != nil || st.Size() == 0 {
			return stop(bench.StatusSkipped, fmt.Sprintf("no CPU reference: case %s has not saved %s (see its log)", c.KLD.Reference, c.KLD.BaseFile))
		}
		x.binds = append(x.binds, dir+":"+suite.KLDMount+":"+mode)
	}
	return nil, nil
}

// judgeCase looks at a parsed case's own reports of where it ran, and a
// reference check's figures against its thresholds: a GPU case that ran
// elsewhere becomes a fallback, a check beyond its thresholds wrong.
func judgeCase(c suite.Case, stderr []byte, res *bench.CaseResult) {
	var missing []string
	for _, dev := range c.Devices {
		if !slices.Contains(res.Devices, dev) {
			missing = append(missing, dev)
		}
	}
	e := correct.Evidence{Log: stderr, Missing: missing}
	switch {
	case c.Tool == bench.ToolLlamaBench && c.GPU && c.RPC == nil:
		for _, rec := range res.Llama {
			if e.Backends == "" {
				e.Backends = rec.Backends
			}
			if e.GPUInfo == "" {
				e.GPUInfo = rec.GPUInfo
			}
		}
	case c.Tool == bench.ToolPerplexity && res.Correct != nil:
		if c.KLD != nil && (res.Correct.MeanKLD != nil || c.KLD.Role == correct.VerdictReference) {
			res.Correct.Judge(c.KLD.Thresholds)
		}
		if c.GPU {
			e.Device, e.Offloaded = res.Correct.Device, orUnknown(res.Correct.Offloaded)
		}
	default:
		return
	}
	if c.GPU {
		p := correct.Check(c.Backend, c.Software, e)
		res.Placement = &p
		if !p.OK {
			res.Status, res.Error = bench.StatusFallback, p.Note
			return
		}
		if p.Note != "" {
			res.Notes = append(res.Notes, p.Note)
		}
	}
	if res.Correct != nil && res.Correct.Verdict == correct.VerdictWrong {
		res.Status = bench.StatusWrong
		res.Error = "wrong: differs from the CPU reference " + res.Correct.Reference + ": " + res.Correct.Why
	}
}

// parsePerplexity reads a reference-check case's llama-perplexity output.
func parsePerplexity(c suite.Case, stdout, stderr []byte, r *bench.CaseResult) error {
	if c.KLD == nil {
		return fmt.Errorf("case %s has no reference-check settings", c.ID)
	}
	out := append(append(slices.Clone(stdout), '\n'), stderr...)
	res, err := correct.Parse(c.KLD.Role, out)
	if err != nil {
		// A GPU check that did not run on its GPU is a fallback whatever
		// else went wrong (a HIP check without /dev/kfd ends early on the
		// CPU, without statistics): judgeCase says so.
		if c.GPU && !correct.Check(c.Backend, c.Software, correct.Evidence{Device: res.Device, Offloaded: orUnknown(res.Offloaded), Log: stderr}).OK {
			res.Reference = c.KLD.Reference
			r.Correct = &res
			return nil
		}
		return err
	}
	res.Reference = c.KLD.Reference
	if c.KLD.Role == correct.VerdictReference {
		res.Reference = ""
	}
	for i, a := range c.Argv {
		if a == "-c" && i+1 < len(c.Argv) {
			_, _ = fmt.Sscan(c.Argv[i+1], &res.Ctx)
		}
	}
	r.Correct = &res
	return nil
}

// LlamaBenchCaps returns what the llama-bench (prog) in image accepts, from
// its --help text, cached under the home by image id: an image never
// changes under its id.
func (r *Runner) LlamaBenchCaps(ctx context.Context, image, prog string) (llamabench.Caps, error) {
	img, err := r.Docker.ImageInspect(ctx, image)
	if err != nil {
		return llamabench.Caps{}, fmt.Errorf("image %s: %w (build or pull the image, see haloforge image --help)", image, err)
	}
	key := strings.NewReplacer(":", "_", "/", "_").Replace(img.ID + "-" + filepath.Base(prog))
	cache := filepath.Join(r.Home, helpCacheDir, key+".txt")
	if b, err := os.ReadFile(cache); err == nil {
		if caps, err := llamabench.ParseHelp(b); err == nil {
			return caps, nil
		}
	}
	text, err := r.toolHelp(ctx, image, prog)
	if err != nil {
		return llamabench.Caps{}, err
	}
	caps, err := llamabench.ParseHelp(text)
	if err != nil {
		return llamabench.Caps{}, fmt.Errorf("%s --help: %w: %s", prog, err, lastLine(text))
	}
	if err := os.MkdirAll(filepath.Dir(cache), 0o755); err == nil {
		_ = WriteFileAtomic(cache, text)
	}
	return caps, nil
}

// toolHelp runs "prog --help" in a fresh container of image (no devices, no
// network, one minute) and returns stdout and stderr together.
func (r *Runner) toolHelp(ctx context.Context, image, prog string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "haloforge-help-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Mkdir(filepath.Join(tmp, logsDir), 0o755); err != nil {
		return nil, err
	}
	hc := suite.Case{ID: "llama-bench-help", Index: 999, Tool: "help", Image: image, Argv: []string{prog, "--help"}, Timeout: time.Minute}
	h := *r
	h.Parse = func(suite.Case, []byte, []byte, *bench.CaseResult) error { return nil }
	h.NewSampler = nil
	res, err := h.runCaseWith(ctx, &RunDir{Path: tmp}, "help", hc, caseExtras{})
	if err != nil {
		return nil, err
	}
	out, _ := os.ReadFile(filepath.Join(tmp, res.StdoutLog))
	errb, _ := os.ReadFile(filepath.Join(tmp, res.StderrLog))
	text := append(out, errb...)
	if res.Status == bench.StatusHang || res.Status == bench.StatusError {
		return nil, fmt.Errorf("%s --help: %s", prog, res.Error)
	}
	return text, nil
}

// statusLabel is a finished case's status in the results table, naming a
// software device ("ok (software: llvmpipe ...)") so its numbers are never
// read as a GPU's.
func statusLabel(c bench.CaseResult) string {
	if c.Placement != nil && c.Placement.Ran == "software" {
		return fmt.Sprintf("%s (software: %s)", c.Status, c.Placement.Device)
	}
	return string(c.Status)
}

// orUnknown is an offload count for placement: "0/?" when the log has none.
func orUnknown(offloaded string) string {
	if offloaded == "" {
		return "0/?"
	}
	return offloaded
}

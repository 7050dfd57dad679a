package correct

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The lines of llama-perplexity's output this package reads. Formats from
// tools/perplexity/perplexity.cpp (llama.cpp b5600, commit
// d17a809ef0af09b16625e991a76f6fe80d9c332e, function kl_divergence and
// perplexity; unchanged in the Debian 0.7.0 build):
//
//	Final estimate: PPL = 4106.6452 +/- 81.09812
//	Mean PPL(Q)                   : 4109.254791 ±  81.146000
//	Mean PPL(base)                : 4106.645196 ±  81.098116
//	Mean    KLD:   0.000012 ±   0.000001
//	Maximum KLD:   0.000198
//	99.0%   KLD:   0.000101
//	Same top p: 99.800 ± 0.100 %
var (
	reFinal   = regexp.MustCompile(`Final estimate: PPL = ([0-9.eE+-]+|nan|inf)`)
	rePPLQ    = regexp.MustCompile(`(?m)^Mean PPL\(Q\)\s*:\s*([0-9.eE+-]+|nan|inf)`)
	rePPLBase = regexp.MustCompile(`(?m)^Mean PPL\(base\)\s*:\s*([0-9.eE+-]+|nan|inf)`)
	reMeanKLD = regexp.MustCompile(`(?m)^Mean\s+KLD:\s*([0-9.eE+-]+|nan|inf)`)
	reMaxKLD  = regexp.MustCompile(`(?m)^Maximum KLD:\s*([0-9.eE+-]+|nan|inf)`)
	reKLD99   = regexp.MustCompile(`(?m)^99\.0%\s+KLD:\s*([0-9.eE+-]+|nan|inf)`)
	reSameTop = regexp.MustCompile(`(?m)^Same top p:\s*([0-9.eE+-]+|nan|inf)`)
	reDevice  = regexp.MustCompile(`using device (\S+ \(.*?\))(?: \(.*?\))? - \d+ MiB free`)
	reOffload = regexp.MustCompile(`offloaded (\d+)/(\d+) layers to GPU`)
	reChunks  = regexp.MustCompile(`calculating perplexity over (\d+) chunks`)
	reKLDErr  = regexp.MustCompile(`(?m)^.*kl_divergence: .*$`)
)

// ErrNoStatistics is returned when llama-perplexity printed no statistics
// (it exits 0 after some errors, for example an unreadable base file).
var ErrNoStatistics = errors.New("llama-perplexity printed no statistics")

// Parse reads one llama-perplexity run's output (stdout and stderr
// together). role is "reference" (a --kl-divergence-base run, which prints
// the final PPL estimate) or "check" (a --kl-divergence run, which prints
// the KL divergence statistics). The verdict is left to Judge.
func Parse(role string, out []byte) (Result, error) {
	s := string(out)
	r := Result{Role: role}
	if m := reDevice.FindStringSubmatch(s); m != nil {
		r.Device = m[1]
	}
	if m := reOffload.FindStringSubmatch(s); m != nil {
		r.Offloaded = m[1] + "/" + m[2]
	}
	if m := reChunks.FindStringSubmatch(s); m != nil {
		r.Chunks, _ = strconv.Atoi(m[1])
	}
	num := func(re *regexp.Regexp, name string) (*float64, error) {
		m := re.FindStringSubmatch(s)
		if m == nil {
			return nil, nil
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q is not a number", name, m[1])
		}
		return &v, nil
	}
	switch role {
	case VerdictReference:
		p, err := num(reFinal, "final PPL estimate")
		if err != nil {
			return r, err
		}
		if p == nil {
			return r, fmt.Errorf("%w: no \"Final estimate: PPL\" line", ErrNoStatistics)
		}
		r.PPL = *p
	case "check":
		var err error
		fields := []struct {
			re   *regexp.Regexp
			name string
			dst  **float64
		}{
			{reMeanKLD, "mean KLD", &r.MeanKLD}, {reKLD99, "99% KLD", &r.KLD99}, {reMaxKLD, "maximum KLD", &r.MaxKLD},
			{reSameTop, "same top p", &r.SameTop}, {rePPLBase, "PPL(base)", &r.PPLBase},
		}
		for _, f := range fields {
			if *f.dst, err = num(f.re, f.name); err != nil {
				return r, err
			}
		}
		q, err := num(rePPLQ, "PPL(Q)")
		if err != nil {
			return r, err
		}
		if r.MeanKLD == nil || r.SameTop == nil || q == nil {
			why := "no \"Mean KLD\", \"Same top p\" or \"Mean PPL(Q)\" line"
			if m := reKLDErr.FindString(s); m != "" {
				why = strings.TrimSpace(m)
			}
			return r, fmt.Errorf("%w: %s", ErrNoStatistics, why)
		}
		r.PPL = *q
	default:
		return r, fmt.Errorf("unknown role %q: reference or check", role)
	}
	return r, nil
}

// Package correct owns the correctness side of a benchmark: the reference
// check that compares every backend's output with the CPU backend's, and
// the proof that a GPU case really ran on the device it names.
//
// The reference check uses llama.cpp's own llama-perplexity: the CPU
// backend saves its log-probabilities over a fixed text once
// (--kl-divergence-base), every other backend recomputes them and reports
// the KL divergence from the CPU's (--kl-divergence). A build that computes
// garbage without crashing shows a large divergence and a low "same top
// token" rate however fast it is.
//
// It is pure logic: parsers of llama-perplexity and llama-bench output,
// thresholds and verdicts. The runner and the reports call it.
package correct

import (
	_ "embed"
	"fmt"
	"math"
	"strings"
)

// Text is the fixed evaluation text every reference check runs over. It is
// in the public domain (United States government documents and speeches,
// written before 1929): the Gettysburg Address (A. Lincoln, 1863, the
// "Bliss copy"), the Preamble of the U.S. Constitution (1787), the first two
// paragraphs of the Declaration of Independence (1776, the last sentences
// of the second cut) and the closing sentence of Lincoln's Second Inaugural
// Address (1865). About 680 words: some 900 tokens for LLaMA-style
// tokenizers, enough for 7 chunks of the default context of 128.
//
//go:embed reference.txt
var Text []byte

// TextFile is the text's file name where the runner puts it for the
// containers.
const TextFile = "reference.txt"

// Verdicts of a reference check.
const (
	VerdictOK        = "ok"        // within the thresholds
	VerdictWrong     = "wrong"     // beyond a threshold: the backend computes something else
	VerdictReference = "reference" // the CPU run that saved the reference
)

// Thresholds decide a check's verdict. A zero field takes its default.
type Thresholds struct {
	// MaxMeanKLD is the largest mean KL divergence from the CPU's token
	// distributions that passes.
	MaxMeanKLD float64 `yaml:"max_mean_kld,omitempty" json:"max_mean_kld"`
	// MaxKLD99 is the largest 99th percentile of the per-token KL
	// divergence that passes: a few tokens computed wrongly stand out here
	// before they move the mean.
	MaxKLD99 float64 `yaml:"max_kld_p99,omitempty" json:"max_kld_p99"`
	// MinSameTop is the least percentage of tokens whose most likely next
	// token is the same as on the CPU.
	MinSameTop float64 `yaml:"min_same_top,omitempty" json:"min_same_top"`
}

// DefaultThresholds are the verdict limits when the suite sets none.
//
// The same weights on another backend differ from the CPU only by rounding
// and summation order: mean KLD around 1e-5..1e-3 and 98-100 % same top
// token (the smoke image measures 0.000006 and 96.4 % for Vulkan on
// lavapipe: the tiny random model's near-flat distributions make ties
// common, so its top-token rate is the lowest a correct backend shows).
// A model of another seed gives 0.103 and 0 %. Quantizing a model from F16 to
// Q4_0, a change everyone can see in the output, costs a mean KLD of a few
// hundredths on real models. The defaults sit between the two: a mean KLD
// of 0.01 (ten times a rounding difference, a third of a Q4_0 quantization),
// a 99th percentile of 0.1, and 90 % same top token. A wrong kernel, a
// different model or corrupted weights land far beyond all three.
var DefaultThresholds = Thresholds{MaxMeanKLD: 0.01, MaxKLD99: 0.1, MinSameTop: 90}

// WithDefaults fills zero fields from DefaultThresholds.
func (t Thresholds) WithDefaults() Thresholds {
	if t.MaxMeanKLD == 0 {
		t.MaxMeanKLD = DefaultThresholds.MaxMeanKLD
	}
	if t.MaxKLD99 == 0 {
		t.MaxKLD99 = DefaultThresholds.MaxKLD99
	}
	if t.MinSameTop == 0 {
		t.MinSameTop = DefaultThresholds.MinSameTop
	}
	return t
}

// Validate checks the thresholds are usable, naming the field to fix.
func (t Thresholds) Validate() error {
	switch {
	case t.MaxMeanKLD < 0:
		return fmt.Errorf("max_mean_kld %g: must be positive", t.MaxMeanKLD)
	case t.MaxKLD99 < 0:
		return fmt.Errorf("max_kld_p99 %g: must be positive", t.MaxKLD99)
	case t.MinSameTop < 0 || t.MinSameTop > 100:
		return fmt.Errorf("min_same_top %g: a percentage between 0 and 100", t.MinSameTop)
	}
	return nil
}

// Result is one llama-perplexity run of a reference check.
type Result struct {
	// Role is "reference" for the CPU run that saved the base
	// log-probabilities, "check" for a backend compared with it.
	Role string `json:"role"`
	// Reference is the case id of the CPU reference a check compared with.
	Reference string `json:"reference,omitempty"`
	Ctx       int    `json:"ctx,omitempty"`
	Chunks    int    `json:"chunks,omitempty"`
	// PPL is the perplexity of the run's model on the text (the check's
	// "Mean PPL(Q)", the reference's final estimate).
	PPL float64 `json:"ppl"`
	// PPLBase is the reference's perplexity as the check read it.
	PPLBase *float64 `json:"ppl_base,omitempty"`
	// MeanKLD, KLD99 and MaxKLD are the KL divergence from the CPU's token
	// distributions: mean, 99th percentile and maximum over all tokens.
	MeanKLD *float64 `json:"mean_kld,omitempty"`
	KLD99   *float64 `json:"kld_p99,omitempty"`
	MaxKLD  *float64 `json:"max_kld,omitempty"`
	// SameTop is the percentage of tokens whose most likely next token is
	// the CPU's.
	SameTop    *float64    `json:"same_top_pct,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"`
	// Verdict is ok, wrong or reference; Why names the threshold a wrong
	// check broke.
	Verdict string `json:"verdict"`
	Why     string `json:"why,omitempty"`
	// Device is the device the run used, as llama.cpp's log names it
	// ("Vulkan0 (llvmpipe (LLVM 19.1.7, 256 bits))"), and Offloaded the
	// "offloaded N/M layers to GPU" figure.
	Device    string `json:"device,omitempty"`
	Offloaded string `json:"offloaded,omitempty"`
}

// Judge sets the verdict of a check from its figures and thresholds.
func (r *Result) Judge(t Thresholds) {
	t = t.WithDefaults()
	r.Thresholds = &t
	if r.Role == VerdictReference {
		r.Verdict = VerdictReference
		return
	}
	var why []string
	// NaN or infinite figures (a backend that produced garbage) fail every
	// comparison below, so they are wrong on their own.
	bad := func(p *float64) bool { return p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) }
	if bad(r.MeanKLD) || bad(r.KLD99) || bad(r.SameTop) {
		why = append(why, "not a number (NaN or infinite)")
	}
	if r.MeanKLD != nil && *r.MeanKLD > t.MaxMeanKLD {
		why = append(why, fmt.Sprintf("mean KLD %.6f > %g", *r.MeanKLD, t.MaxMeanKLD))
	}
	if r.KLD99 != nil && *r.KLD99 > t.MaxKLD99 {
		why = append(why, fmt.Sprintf("99%% KLD %.6f > %g", *r.KLD99, t.MaxKLD99))
	}
	if r.SameTop != nil && *r.SameTop < t.MinSameTop {
		why = append(why, fmt.Sprintf("same top %.2f %% < %g %%", *r.SameTop, t.MinSameTop))
	}
	if len(why) > 0 {
		r.Verdict, r.Why = VerdictWrong, strings.Join(why, ", ")
		return
	}
	r.Verdict, r.Why = VerdictOK, ""
}

// Summary is a one-line reading of a result: "KLD 0.000012 (99%
// 0.000101), same top 99.80 %, PPL 4101.2: ok".
func (r Result) Summary() string {
	if r.Role == VerdictReference {
		return fmt.Sprintf("CPU reference saved, PPL %.4g", r.PPL)
	}
	s := ""
	if r.MeanKLD != nil {
		s += fmt.Sprintf("KLD %.6f", *r.MeanKLD)
	}
	if r.KLD99 != nil {
		s += fmt.Sprintf(" (99%% %.6f)", *r.KLD99)
	}
	if r.SameTop != nil {
		s += fmt.Sprintf(", same top %.2f %%", *r.SameTop)
	}
	s += fmt.Sprintf(", PPL %.4g: %s", r.PPL, r.Verdict)
	if r.Why != "" {
		s += " (" + r.Why + ")"
	}
	return s
}

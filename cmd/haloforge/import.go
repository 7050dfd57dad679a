package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/haloforge/haloforge/bench"
	"github.com/haloforge/haloforge/bench/ingest"
	"github.com/haloforge/haloforge/bench/runner"
	"github.com/haloforge/haloforge/bench/store"
	"github.com/haloforge/haloforge/internal/atomicfile"
)

func init() { addCommand(newImportCmd()) }

// writeAtomic writes data to path atomically, creating its directory.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

func newImportCmd() *cobra.Command {
	var (
		db                    resultsFlags
		runID, backend, model string
		target, tool          string
		replace               bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Bring llama-bench, mamf-finder or rocm_bandwidth_test outputs from manual runs into the results as one run",
		Long: `Import outputs of manual benchmark runs as one stored run (suite "import"),
one case per file, so report, compare and history work on them.

Each file's tool and format are detected: llama-bench -o json, jsonl, csv, md
or sql (or a stderr log of -oe), mamf-finder, rocm_bandwidth_test 2.6 or
RBT-NG. A truncated or garbled file is an error naming it, and then nothing is
stored. Raw files are copied to HOME/runs/RUN/imported/ next to the database.

Examples:
  llama-bench -m model.gguf -o json > hip.json
  haloforge import hip.json --backend hip --model llama-2-7b-q4_0
  haloforge import vk.jsonl rocwmma.csv --run 20250601-manual
  haloforge import mamf.txt rbt.txt --target gfx1151
  haloforge report latest`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cases, err := ingest.Files(args, ingest.Options{Backend: backend, Model: model, Tool: bench.Tool(tool)})
			if err != nil {
				return err
			}
			run := ingest.Run(runID, target, cases, time.Now())
			if !runIDRE.MatchString(run.ID) {
				return fmt.Errorf("bad --run %q: use letters, digits, '.', '_' and '-' (it names a directory)", run.ID)
			}
			s, err := db.open(false)
			if err != nil {
				return err
			}
			defer func() { _ = s.Close() }()
			ctx := context.Background()
			// Check before touching the run directory: a refused import must
			// not overwrite the raw files of the run already stored.
			if has, err := s.Has(ctx, run.ID); err != nil {
				return err
			} else if has && !replace {
				return fmt.Errorf("import: %w: %s (choose another --run id, or --replace)", store.ErrExists, run.ID)
			}
			dir := bench.RunDir(homeOr(db.home), run.ID)
			_, statErr := os.Stat(dir)
			created := errors.Is(statErr, os.ErrNotExist)
			for i := range run.Cases {
				data, err := os.ReadFile(args[i])
				if err != nil {
					return fmt.Errorf("import %s: %w", args[i], err)
				}
				rel := filepath.Join("imported", fmt.Sprintf("%d-%s", i+1, filepath.Base(args[i])))
				if err := writeAtomic(filepath.Join(dir, rel), data); err != nil {
					return fmt.Errorf("keep raw copy of %s: %w", args[i], err)
				}
				run.Cases[i].StdoutLog = rel
			}
			if err := s.PutRunWithCases(ctx, run, replace); err != nil {
				if created {
					_ = os.RemoveAll(dir)
				}
				return fmt.Errorf("import: %w (nothing was stored)", err)
			}
			_ = (&runner.RunDir{Path: dir}).WriteHeader(run) // the store has the run; this copy is for the raw files' reader
			_, _ = fmt.Fprintf(cmd.OutOrStdout(), "imported %d file(s) as run %s (%s) into %s\n",
				len(run.Cases), run.ID, ingest.Summary(run.Cases), s.Path())
			return nil
		},
	}
	db.register(cmd)
	cmd.Flags().StringVar(&runID, "run", "", "run id (default import-YYYYMMDD-HHMMSS-RANDOM)")
	cmd.Flags().StringVar(&backend, "backend", "", "backend build of every file: cpu, hip, hip-rocwmma, vulkan (default: from llama-bench's backends field)")
	cmd.Flags().StringVar(&model, "model", "", "model name (default: llama-bench's model_type, e.g. \"llama 7B Q4_0\")")
	cmd.Flags().StringVar(&target, "target", "gfx1151", "GPU target the outputs were measured on")
	cmd.Flags().StringVar(&tool, "tool", "", "force the tool: llama-bench, mamf-finder or rocm_bandwidth_test (default: detect)")
	cmd.Flags().BoolVar(&replace, "replace", false, "replace a stored run with the same id")
	return cmd
}

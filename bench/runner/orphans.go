package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/client"

	"github.com/haloforge/haloforge/bench"
)

// LabelHome is put on every case container: the haloforge home whose run it
// belongs to, so a later process can tell its own home's orphans from
// another home's live runs.
const LabelHome = "io.haloforge.home"

// Orphan is a haloforge case container found on the daemon whose run no
// live process is running.
type Orphan struct {
	ID, Name, Run, Case, State string
	// Reaped is true when it was stopped and removed; false when it was
	// only reported (another home's, or removal failed: Err).
	Reaped bool
	Err    error
	// Home is the home the container belongs to, when labelled.
	Home string
}

func (o Orphan) String() string {
	what := fmt.Sprintf("container %s (run %s, case %s, %s)", o.Name, o.Run, o.Case, o.State)
	switch {
	case o.Reaped:
		return "stopped and removed orphaned " + what + ": its haloforge process is gone"
	case o.Err != nil:
		return fmt.Sprintf("orphaned %s could not be removed (%v): remove it with docker rm -f %s", what, o.Err, o.Name)
	default:
		return fmt.Sprintf("%s belongs to no live run in this home (home %s): if nothing runs it, remove it with docker rm -f %s; while it runs it disturbs measurements", what, orDash(o.Home), o.Name)
	}
}

func orDash(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// ReapOrphans finds haloforge case containers (LabelRun) of runs that no
// live process holds. Those of this home (labelled with it, or whose run
// directory is under home) are force-removed; others are only reported.
// Containers of live runs are left alone.
func ReapOrphans(ctx context.Context, d Docker, home string) ([]Orphan, error) {
	list, err := d.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelRun)})
	if err != nil {
		return nil, fmt.Errorf("list haloforge containers: %w", err)
	}
	absHome, _ := filepath.Abs(home)
	var out []Orphan
	for _, c := range list.Items {
		o := Orphan{ID: c.ID, Run: c.Labels[LabelRun], Case: c.Labels[LabelCase], State: string(c.State), Home: c.Labels[LabelHome]}
		if len(c.Names) > 0 {
			o.Name = strings.TrimPrefix(c.Names[0], "/")
		}
		if o.Run == "" || o.Run == "probe" { // GPU probes last a minute at most
			continue
		}
		ours := o.Home == absHome
		if o.Home == "" && RunIDOK(o.Run) {
			if _, err := os.Stat(filepath.Join(bench.RunDir(home, o.Run), runFile)); err == nil {
				ours = true
			}
		}
		if ours {
			if _, live := Live(home, o.Run); live {
				continue
			}
		} else if o.Home != "" {
			if _, live := Live(o.Home, o.Run); live {
				continue
			}
		}
		if ours {
			if _, err := d.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
				o.Err = err
			} else {
				o.Reaped = true
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// RunIDOK reports whether id can name a run directory (no path elements).
func RunIDOK(id string) bool {
	return id != "" && id != "." && id != ".." && !strings.ContainsAny(id, "/\\") && filepath.Base(id) == id
}

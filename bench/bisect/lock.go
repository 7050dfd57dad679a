package bisect

import (
	"fmt"
	"sort"

	"github.com/haloforge/haloforge/recipes"
)

// Move is one component whose pin differs between the good and the bad lock.
type Move struct {
	Component string                  `json:"component"`
	Good      recipes.LockedComponent `json:"good"`
	Bad       recipes.LockedComponent `json:"bad"`
	// Cost is the relative price of rebuilding the stack with this
	// component moved (see Order); 0 when unknown.
	Cost int `json:"cost,omitempty"`
}

// Pin is the short form of a locked component's source: its commit, else
// its tarball digest, else its version.
func Pin(c recipes.LockedComponent) string {
	switch {
	case c.Commit != "":
		return c.Commit
	case c.SHA256 != "":
		return "sha256:" + c.SHA256
	}
	return c.Version
}

// Diff lists the components whose source differs between good and bad, by
// name, and names the other differences (base, tools, components added or
// removed) that bisecting over component pins cannot explain.
func Diff(good, bad *recipes.Lock) (moves []Move, other []string) {
	if good == nil || bad == nil {
		return nil, []string{"a lock is missing"}
	}
	if good.Base != bad.Base {
		other = append(other, fmt.Sprintf("base %s (%s) -> %s (%s)", good.Base.Name, good.Base.Snapshot, bad.Base.Name, bad.Base.Snapshot))
	}
	for _, t := range good.Tools {
		if v := bad.Tool(t.Name); v != t.Version {
			other = append(other, fmt.Sprintf("tool %s %s -> %s", t.Name, t.Version, orNone(v)))
		}
	}
	for _, t := range bad.Tools {
		if good.Tool(t.Name) == "" {
			other = append(other, fmt.Sprintf("tool %s added (%s)", t.Name, t.Version))
		}
	}
	for _, g := range good.Components {
		b, ok := bad.Component(g.Name)
		if !ok {
			other = append(other, fmt.Sprintf("component %s removed", g.Name))
			continue
		}
		if g.Git != b.Git || g.Commit != b.Commit || g.Tarball != b.Tarball || g.SHA256 != b.SHA256 || g.Version != b.Version {
			moves = append(moves, Move{Component: g.Name, Good: g, Bad: b})
		}
	}
	for _, b := range bad.Components {
		if _, ok := good.Component(b.Name); !ok {
			other = append(other, fmt.Sprintf("component %s added", b.Name))
		}
	}
	return moves, other
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Order sorts moves cheapest first by cost (the CLI's estimate: how many
// build steps, heavy ones weighted, a move makes rebuild), then by name, so
// the guilty component is found at the smallest price. Moves missing from
// cost go last: nothing says they are cheap.
func Order(moves []Move, cost map[string]int) []Move {
	out := append([]Move(nil), moves...)
	for i := range out {
		if c, ok := cost[out[i].Component]; ok {
			out[i].Cost = c
		} else {
			out[i].Cost = -1
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Cost, out[j].Cost
		if (a < 0) != (b < 0) {
			return b < 0
		}
		if a != b {
			return a < b
		}
		return out[i].Component < out[j].Component
	})
	for i := range out {
		if out[i].Cost < 0 {
			out[i].Cost = 0
		}
	}
	return out
}

// WithPin returns a copy of lock with component's source replaced by pin
// (the good lock with one component moved to its bad pin).
func WithPin(lock *recipes.Lock, pin recipes.LockedComponent) (*recipes.Lock, error) {
	if lock == nil {
		return nil, fmt.Errorf("no lock to move %s in", pin.Name)
	}
	cp := *lock
	cp.Bases = append([]recipes.LockedBase(nil), lock.Bases...)
	cp.Tools = append([]recipes.Tool(nil), lock.Tools...)
	cp.Components = append([]recipes.LockedComponent(nil), lock.Components...)
	for i := range cp.Components {
		if cp.Components[i].Name == pin.Name {
			cp.Components[i] = pin
			return &cp, nil
		}
	}
	return nil, fmt.Errorf("lock %s has no component %s", lock.File, pin.Name)
}

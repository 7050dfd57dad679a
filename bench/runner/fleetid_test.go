package runner

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFleetRunID(t *testing.T) {
	now := time.Date(2026, 11, 26, 13, 4, 5, 0, time.UTC)
	tests := []struct {
		name, host, want string
	}{
		{"short host", "strix1", `^20261126-130405-smoke-strix1-[0-9a-f]{8}$`},
		{"fqdn and case", "Strix-2.lab.example.org", `^20261126-130405-smoke-strix-2-[0-9a-f]{8}$`},
		{"odd characters dropped", "box_3 (lab)", `^20261126-130405-smoke-box3lab-[0-9a-f]{8}$`},
		{"long name cut", strings.Repeat("a", 40), `^20261126-130405-smoke-a{20}-[0-9a-f]{8}$`},
		{"no host", "", `^20261126-130405-smoke-[0-9a-f]{8}$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := FleetRunID(now, "smoke", tc.host)
			if !regexp.MustCompile(tc.want).MatchString(id) {
				t.Errorf("FleetRunID(%q) = %q, want %s", tc.host, id, tc.want)
			}
			if !strings.HasPrefix(id, NewRunID(now, "smoke")) {
				t.Errorf("%q does not start with the NewRunID form, so date prefixes would not resolve", id)
			}
		})
	}
	// Same second, same suite, same host: the random part keeps ids apart.
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		seen[FleetRunID(now, "smoke", "strix1")] = true
	}
	if len(seen) != 200 {
		t.Errorf("only %d distinct ids in 200 draws", len(seen))
	}
}

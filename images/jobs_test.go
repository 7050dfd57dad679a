package images

import "testing"

func TestJobs(t *testing.T) {
	cases := []struct {
		name     string
		mem      uint64
		cpus     int
		perJob   uint64
		override int
		want     int
	}{
		{"strix halo 128G heavy capped by cores", 128 * GiB, 16, HeavyJobBytes, 0, 16},
		{"64G heavy bounded by memory", 64 * GiB, 32, HeavyJobBytes, 0, 15},
		{"24G heavy on 16 cores", 24 * GiB, 16, HeavyJobBytes, 0, 5},
		{"this box: 24G, 2 cores", 24 * GiB, 2, HeavyJobBytes, 0, 2},
		{"tiny machine still gets one job", 3 * GiB, 8, HeavyJobBytes, 0, 1},
		{"exactly one job of memory", 4 * GiB, 8, HeavyJobBytes, 0, 1},
		{"override wins over memory", 8 * GiB, 2, HeavyJobBytes, 12, 12},
		{"zero cpus treated as one", 64 * GiB, 0, LightJobBytes, 0, 1},
		{"no per-job bound uses cores", 1 * GiB, 6, 0, 0, 6},
		{"light jobs on 24G", 24 * GiB, 16, LightJobBytes, 0, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Jobs(tc.mem, tc.cpus, tc.perJob, tc.override); got != tc.want {
				t.Errorf("Jobs(%d GiB, %d cpus, %d GiB/job, override %d) = %d, want %d",
					tc.mem/GiB, tc.cpus, tc.perJob/GiB, tc.override, got, tc.want)
			}
		})
	}
}

func TestParallelismFor(t *testing.T) {
	p := ParallelismFor(24*GiB, 16, 0)
	if p.Light != 16 || p.Heavy != 5 {
		t.Fatalf("ParallelismFor(24G,16) = %+v, want light 16 heavy 5", p)
	}
	if got := p.For(Component{Heavy: true}); got != 5 {
		t.Errorf("heavy component gets %d jobs, want 5", got)
	}
	if got := p.For(Component{}); got != 16 {
		t.Errorf("light component gets %d jobs, want 16", got)
	}
	if p := ParallelismFor(24*GiB, 16, 3); p.Light != 3 || p.Heavy != 3 {
		t.Errorf("override 3 gives %+v, want 3/3", p)
	}
}

func TestParseMemTotal(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{"real meminfo", "MemTotal:       24590056 kB\nMemFree:        22033436 kB\n", 24590056 * 1024, false},
		{"not first line", "MemFree: 1 kB\nMemTotal: 2048 kB\n", 2048 * 1024, false},
		{"missing", "MemFree: 1 kB\n", 0, true},
		{"garbage number", "MemTotal: lots kB\n", 0, true},
		{"wrong unit", "MemTotal: 12 MB\n", 0, true},
		{"empty", "", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMemTotal(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseNproc(t *testing.T) {
	if n, err := ParseNproc("16\n"); err != nil || n != 16 {
		t.Errorf("ParseNproc(16) = %d, %v", n, err)
	}
	for _, bad := range []string{"", "0", "-2", "two"} {
		if _, err := ParseNproc(bad); err == nil {
			t.Errorf("ParseNproc(%q) accepted bad input", bad)
		}
	}
}

func FuzzParseMemTotal(f *testing.F) {
	f.Add("MemTotal:       24590056 kB\n")
	f.Add("MemTotal: 99999999999999999999999 kB")
	f.Add("MemTotal:")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMemTotal(s)
		if err == nil && n%1024 != 0 {
			t.Errorf("MemTotal %d bytes is not a whole number of kB", n)
		}
	})
}

// Package host gathers the facts of the machine a benchmark runs on (kernel,
// firmware, GPU, TTM/GTT limits, IOMMU, Docker) and checks that it is ready
// to benchmark: `haloforge doctor` prints its checks and the runner stores
// its facts with every run as host provenance.
//
// Everything is read below a root directory (Options.Root, "/" in
// production) so tests run against real temporary trees; Docker is reached
// through the small Docker interface so this package imports no Docker code.
package host

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/haloforge/haloforge/bench"
)

// Status is a check's outcome.
type Status string

// Check outcomes. Only StatusFail makes doctor exit non-zero.
const (
	StatusPass Status = "pass"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// Check is one doctor line: what was checked, the outcome, what was found
// and, unless it passed, how to fix it.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DockerInfo is what the Docker check learns from the daemon.
type DockerInfo struct {
	Version    string
	APIVersion string
}

// Docker is the part of a Docker client doctor needs.
type Docker interface {
	ServerVersion(ctx context.Context) (DockerInfo, error)
	// ImageID returns the image's ID, or ok=false when it is not present.
	ImageID(ctx context.Context, ref string) (id string, ok bool, err error)
}

// Options say where and what to check.
type Options struct {
	// Root is the filesystem root the host's files are read under ("/").
	Root string
	// Docker is the daemon to check; nil reports Docker as not checked.
	Docker Docker
	// Images are image references that should be present.
	Images []string
	// Groups returns the process's group ids (default: os.Getgroups plus
	// the effective gid); UID returns its effective uid (default os.Geteuid).
	Groups func() ([]int, error)
	UID    func() int
}

// Gfx1151 is the Strix Halo GPU target.
const Gfx1151 = "gfx1151"

// MinKernelGfx1151 is the lowest kernel recommended on gfx1151.
var MinKernelGfx1151 = [3]int{6, 18, 4}

// KnownBadFirmware lists linux-firmware versions known to break ROCm.
var KnownBadFirmware = map[string]string{
	"20251125": "linux-firmware 20251125 breaks ROCm on gfx1151",
}

// GPU is one GPU agent from the KFD topology.
type GPU struct {
	Node      int    `json:"node"`
	Gfx       string `json:"gfx"` // e.g. gfx1151
	Name      string `json:"name,omitempty"`
	DeviceID  string `json:"device_id,omitempty"`
	Revision  string `json:"revision,omitempty"`
	Marketing string `json:"marketing_name,omitempty"`
}

// GfxName turns KFD's gfx_target_version (major*10000+minor*100+stepping)
// into a target name: 110501 -> gfx1151, 90010 -> gfx90a.
func GfxName(v int) string {
	if v <= 0 {
		return ""
	}
	major, minor, step := v/10000, (v/100)%100, v%100
	return fmt.Sprintf("gfx%d%x%x", major, minor, step)
}

type gatherer struct {
	o      Options
	facts  bench.HostFacts
	checks []Check
	gpus   []GPU
}

func (g *gatherer) path(rel string) string { return filepath.Join(g.o.Root, rel) }

func (g *gatherer) read(rel string) (string, error) {
	b, err := os.ReadFile(g.path(rel))
	return strings.TrimSpace(string(b)), err
}

func (g *gatherer) add(name string, st Status, detail, fix string) {
	if st == StatusPass {
		fix = ""
	}
	g.checks = append(g.checks, Check{Name: name, Status: st, Detail: detail, Fix: fix})
}

func (g *gatherer) extra(k, v string) {
	if v == "" {
		return
	}
	if g.facts.Extra == nil {
		g.facts.Extra = map[string]string{}
	}
	g.facts.Extra[k] = v
}

// Gather collects the host facts and runs every check.
func Gather(ctx context.Context, o Options) (bench.HostFacts, []Check) {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Groups == nil {
		o.Groups = func() ([]int, error) {
			gs, err := os.Getgroups()
			return append(gs, os.Getegid()), err
		}
	}
	if o.UID == nil {
		o.UID = os.Geteuid
	}
	g := &gatherer{o: o}
	g.basics()
	g.gpuCheck()
	g.deviceChecks()
	g.groupCheck()
	g.kernelCheck()
	g.firmwareCheck()
	g.memoryLimits()
	g.iommu()
	g.dockerChecks(ctx)
	return g.facts, g.checks
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == StatusFail {
			return true
		}
	}
	return false
}

func (g *gatherer) basics() {
	g.facts.Hostname, _ = g.read("proc/sys/kernel/hostname")
	g.facts.Kernel, _ = g.read("proc/sys/kernel/osrelease")
	g.facts.KernelCmdline, _ = g.read("proc/cmdline")
	if s, err := g.read("proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(s, "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				g.facts.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if s, err := g.read("proc/meminfo"); err == nil {
		for _, l := range strings.Split(s, "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				g.facts.MemTotalMiB = kb / 1024
			}
		}
	}
}

func (g *gatherer) hasGfx1151() bool {
	for _, x := range g.gpus {
		if x.Gfx == Gfx1151 {
			return true
		}
	}
	return false
}

// gpuCheck reads the KFD topology: every node with a gfx_target_version is
// a GPU agent.
func (g *gatherer) gpuCheck() {
	nodes, _ := filepath.Glob(g.path("sys/class/kfd/kfd/topology/nodes/*/properties"))
	sort.Strings(nodes)
	for _, p := range nodes {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		props := map[string]string{}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				props[f[0]] = f[1]
			}
		}
		v, _ := strconv.Atoi(props["gfx_target_version"])
		if v == 0 {
			continue // a CPU node
		}
		node, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		gpu := GPU{Node: node, Gfx: GfxName(v)}
		if n, err := os.ReadFile(filepath.Join(filepath.Dir(p), "name")); err == nil {
			gpu.Name = strings.TrimSpace(string(n))
		}
		if id, err := strconv.ParseUint(props["device_id"], 10, 32); err == nil && id != 0 {
			gpu.DeviceID = fmt.Sprintf("%04x", id)
		}
		g.gpus = append(g.gpus, gpu)
	}
	g.marketingNames()
	for _, x := range g.gpus {
		s := x.Gfx
		if x.Marketing != "" {
			s += " (" + x.Marketing + ")"
		}
		g.facts.GPUs = append(g.facts.GPUs, s)
	}
	switch {
	case len(g.gpus) == 0:
		g.add("gpu", StatusFail, "no GPU in the KFD topology (/sys/class/kfd/kfd/topology/nodes)",
			"load the amdgpu driver (lsmod | grep amdgpu; dmesg | grep -i amdgpu) on a host with an AMD GPU; in a VM or container pass the GPU through")
	case g.hasGfx1151():
		g.add("gpu", StatusPass, strings.Join(g.facts.GPUs, ", "), "")
	default:
		g.add("gpu", StatusWarn, strings.Join(g.facts.GPUs, ", ")+": no gfx1151 (Strix Halo)",
			"the suite and references target gfx1151; other GPUs work but need their own --target and numbers are not comparable")
	}
}

// marketingNames matches card PCI ids against libdrm's amdgpu.ids.
func (g *gatherer) marketingNames() {
	ids := map[string]string{}
	if b, err := os.ReadFile(g.path("usr/share/libdrm/amdgpu.ids")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "#") {
				continue
			}
			f := strings.SplitN(l, ",", 3)
			if len(f) == 3 {
				ids[strings.ToLower(strings.TrimSpace(f[0]))+","+strings.ToLower(strings.TrimSpace(f[1]))] = strings.TrimSpace(f[2])
			}
		}
	}
	cards, _ := filepath.Glob(g.path("sys/class/drm/card[0-9]*/device/device"))
	for _, c := range cards {
		dev, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		d := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(string(dev))), "0x")
		rev, _ := os.ReadFile(filepath.Join(filepath.Dir(c), "revision"))
		r := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(string(rev))), "0x")
		name := ids[d+","+r]
		if pn, err := os.ReadFile(filepath.Join(filepath.Dir(c), "product_name")); err == nil && strings.TrimSpace(string(pn)) != "" {
			name = strings.TrimSpace(string(pn))
		}
		for i := range g.gpus {
			if g.gpus[i].DeviceID == d || (g.gpus[i].DeviceID == "" && len(g.gpus) == 1) {
				g.gpus[i].DeviceID, g.gpus[i].Revision = d, r
				if name != "" {
					g.gpus[i].Marketing = name
				}
			}
		}
	}
}

// openRW reports whether a device node can be opened for reading and
// writing, as ROCm and Mesa need.
func openRW(p string) (charDev bool, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return st.Mode()&fs.ModeCharDevice != 0, err
	}
	_ = f.Close()
	return st.Mode()&fs.ModeCharDevice != 0, nil
}

const groupFix = "add your user to the render and video groups: sudo usermod -aG render,video $USER, then log out and in"

func (g *gatherer) deviceChecks() {
	dev := func(name, rel, missingFix string) {
		char, err := openRW(g.path(rel))
		p := "/" + rel // as the host sees it
		switch {
		case errors.Is(err, fs.ErrNotExist):
			g.add(name, StatusFail, p+" does not exist", missingFix)
		case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EACCES):
			g.add(name, StatusFail, p+" exists but cannot be opened read-write: permission denied", groupFix)
		case err != nil:
			g.add(name, StatusFail, fmt.Sprintf("%s cannot be opened: %v", p, err), "check dmesg for amdgpu errors; a hung GPU needs a reboot")
		case !char:
			g.add(name, StatusWarn, p+" opens read-write but is not a character device", "recreate the node (udev) or check the --root given to doctor")
		default:
			g.add(name, StatusPass, p+" opens read-write", "")
		}
	}
	dev("/dev/kfd", "dev/kfd", "the amdgpu kernel driver provides /dev/kfd: load it (modprobe amdgpu) and check dmesg; HIP/ROCm cases cannot run without it")
	renders, _ := filepath.Glob(g.path("dev/dri/renderD*"))
	if len(renders) == 0 {
		g.add("/dev/dri", StatusFail, "/dev/dri has no renderD* node", "load the amdgpu driver (modprobe amdgpu); HIP and Vulkan cases need a render node")
		return
	}
	for _, r := range renders {
		dev("/dev/dri/"+filepath.Base(r), "dev/dri/"+filepath.Base(r), "")
	}
}

// groupIDs reads the video and render group ids from root's /etc/group;
// -1 when a group does not exist. Only doctor's groups check uses them:
// the runner reads the gids it passes to containers itself
// (runner.Host.GroupIDs, and probeHost on RPC worker hosts).
func groupIDs(root string) (video, render int, err error) {
	video, render = -1, -1
	f, err := os.Open(filepath.Join(root, "etc/group"))
	if err != nil {
		return video, render, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) < 3 {
			continue
		}
		id, err := strconv.Atoi(p[2])
		if err != nil {
			continue
		}
		switch p[0] {
		case "video":
			video = id
		case "render":
			render = id
		}
	}
	return video, render, sc.Err()
}

func (g *gatherer) groupCheck() {
	video, render, err := groupIDs(g.o.Root)
	if err != nil {
		g.add("groups", StatusWarn, "cannot read /etc/group: "+err.Error(), "run doctor on the host, not in a container")
		return
	}
	if video >= 0 {
		g.extra("video_gid", strconv.Itoa(video))
	}
	if render >= 0 {
		g.extra("render_gid", strconv.Itoa(render))
	}
	if g.o.UID() == 0 {
		g.add("groups", StatusPass, fmt.Sprintf("running as root (video gid %d, render gid %d)", video, render), "")
		return
	}
	mine, err := g.o.Groups()
	if err != nil {
		g.add("groups", StatusWarn, "cannot read this process's groups: "+err.Error(), groupFix)
		return
	}
	in := func(id int) bool {
		for _, m := range mine {
			if m == id {
				return true
			}
		}
		return false
	}
	var missing []string
	if render < 0 {
		missing = append(missing, "render (no such group on this host)")
	} else if !in(render) {
		missing = append(missing, fmt.Sprintf("render (gid %d)", render))
	}
	if video < 0 {
		missing = append(missing, "video (no such group on this host)")
	} else if !in(video) {
		missing = append(missing, fmt.Sprintf("video (gid %d)", video))
	}
	if len(missing) > 0 {
		g.add("groups", StatusFail, "not a member of "+strings.Join(missing, ", "), groupFix)
		return
	}
	g.add("groups", StatusPass, fmt.Sprintf("member of video (gid %d) and render (gid %d)", video, render), "")
}

var reKernel = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?`)

// KernelVersion parses the leading "X.Y.Z" of a kernel release.
func KernelVersion(s string) ([3]int, bool) {
	m := reKernel.FindStringSubmatch(s)
	if m == nil {
		return [3]int{}, false
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, true
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func (g *gatherer) kernelCheck() {
	k := g.facts.Kernel
	v, ok := KernelVersion(k)
	minV := fmt.Sprintf("%d.%d.%d", MinKernelGfx1151[0], MinKernelGfx1151[1], MinKernelGfx1151[2])
	switch {
	case !ok:
		g.add("kernel", StatusWarn, fmt.Sprintf("cannot parse kernel release %q", k), "check /proc/sys/kernel/osrelease")
	case g.hasGfx1151() && less(v, MinKernelGfx1151):
		g.add("kernel", StatusWarn, fmt.Sprintf("%s is older than %s, recommended on gfx1151 (results differ by 15%% or more between kernels)", k, minV),
			"install a kernel >= "+minV+" (Debian: linux-image-amd64 from sid/backports) and reboot")
	default:
		g.add("kernel", StatusPass, k, "")
	}
}

// firmwareVersion finds the installed linux-firmware (or Debian's
// firmware-amd-graphics) version from the package databases.
func (g *gatherer) firmwareVersion() (pkg, version string) {
	if b, err := os.ReadFile(g.path("var/lib/dpkg/status")); err == nil {
		var name, ver, status string
		flush := func() bool {
			if (name == "firmware-amd-graphics" || name == "linux-firmware" || name == "linux-firmware-amd-graphics") && strings.Contains(status, "installed") && !strings.Contains(status, "not-installed") {
				pkg, version = name, ver
				return true
			}
			return false
		}
		for _, l := range strings.Split(string(b)+"\n", "\n") {
			switch {
			case l == "":
				if flush() {
					return pkg, version
				}
				name, ver, status = "", "", ""
			case strings.HasPrefix(l, "Package: "):
				name = strings.TrimPrefix(l, "Package: ")
			case strings.HasPrefix(l, "Version: "):
				ver = strings.TrimPrefix(l, "Version: ")
			case strings.HasPrefix(l, "Status: "):
				status = strings.TrimPrefix(l, "Status: ")
			}
		}
	}
	for _, name := range []string{"linux-firmware", "linux-firmware-amdgpu"} { // Arch
		descs, _ := filepath.Glob(g.path("var/lib/pacman/local/" + name + "-[0-9]*/desc"))
		for _, d := range descs {
			if b, err := os.ReadFile(d); err == nil {
				lines := strings.Split(string(b), "\n")
				for i, l := range lines {
					if l == "%VERSION%" && i+1 < len(lines) {
						return name, lines[i+1]
					}
				}
			}
		}
	}
	return "", ""
}

var reFwDate = regexp.MustCompile(`20\d{6}`)

func (g *gatherer) firmwareCheck() {
	pkg, ver := g.firmwareVersion()
	if ver == "" {
		if _, err := os.Stat(g.path("usr/lib/firmware/amdgpu")); err == nil {
			g.add("linux-firmware", StatusWarn, "amdgpu firmware present in /usr/lib/firmware but its package version is unknown",
				"install firmware through the package manager (Debian: firmware-amd-graphics) so its version can be recorded")
		} else {
			g.add("linux-firmware", StatusWarn, "no amdgpu firmware package found",
				"install firmware-amd-graphics (Debian) or linux-firmware; the GPU needs it")
		}
		return
	}
	g.facts.Firmware = pkg + " " + ver
	date := reFwDate.FindString(ver)
	if why, bad := KnownBadFirmware[date]; bad {
		g.add("linux-firmware", StatusFail, fmt.Sprintf("%s %s: %s", pkg, ver, why),
			"install a linux-firmware other than "+date+" (downgrade to the previous release or upgrade past it) and reboot")
		return
	}
	g.add("linux-firmware", StatusPass, pkg+" "+ver, "")
}

// cmdlineParam returns a kernel command line parameter's value.
func cmdlineParam(cmdline, key string) (string, bool) {
	for _, f := range strings.Fields(cmdline) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v, true
		} else if f == key {
			return "", true
		}
	}
	return "", false
}

func (g *gatherer) memoryLimits() {
	pagesLimit, _ := g.read("sys/module/ttm/parameters/pages_limit")
	gttsize, _ := g.read("sys/module/amdgpu/parameters/gttsize")
	g.extra("ttm_pages_limit", pagesLimit)
	g.extra("amdgpu_gttsize", gttsize)
	cmd := g.facts.KernelCmdline
	var notes []string
	st, fix := StatusPass, ""
	limitMiB := int64(0)
	if n, err := strconv.ParseInt(pagesLimit, 10, 64); err == nil && n > 0 {
		limitMiB = n * 4 / 1024
		g.extra("gtt_limit_mib", strconv.FormatInt(limitMiB, 10))
		notes = append(notes, fmt.Sprintf("ttm.pages_limit %d (%.1f GiB GTT)", n, float64(limitMiB)/1024))
	} else if pagesLimit == "" {
		notes = append(notes, "ttm pages_limit not readable")
		if g.hasGfx1151() {
			st, fix = StatusWarn, "the GTT limit decides which models fit on Strix Halo: check that the ttm module is loaded (/sys/module/ttm/parameters/pages_limit)"
		}
	}
	if v, ok := cmdlineParam(cmd, "amdgpu.gttsize"); ok {
		notes = append(notes, "amdgpu.gttsize="+v+" on the command line")
		st, fix = StatusWarn, "amdgpu.gttsize is deprecated: remove it and set ttm.pages_limit (and ttm.page_pool_size) instead"
	} else if gttsize != "" && gttsize != "-1" {
		notes = append(notes, "amdgpu gttsize "+gttsize+" MiB")
	}
	if g.hasGfx1151() && g.facts.MemTotalMiB > 0 && limitMiB > 0 && limitMiB < g.facts.MemTotalMiB*3/4 && st == StatusPass {
		st = StatusWarn
		fix = fmt.Sprintf("models live in GTT on Strix Halo: raise the limit, e.g. ttm.pages_limit=%d on the kernel command line (%.0f GiB of %.0f GiB)",
			g.facts.MemTotalMiB*1024/4*15/16, float64(g.facts.MemTotalMiB)*15/16/1024, float64(g.facts.MemTotalMiB)/1024)
	}
	g.add("ttm/gtt", st, strings.Join(notes, "; "), fix)
}

func (g *gatherer) iommu() {
	v, ok := cmdlineParam(g.facts.KernelCmdline, "amd_iommu")
	if !ok {
		v = "default"
	}
	g.extra("amd_iommu", v)
	detail := "amd_iommu=" + v
	if pt, ok := cmdlineParam(g.facts.KernelCmdline, "iommu"); ok {
		detail += ", iommu=" + pt
		g.extra("iommu", pt)
	}
	g.add("amd_iommu", StatusPass, detail+" (recorded; it changes memory bandwidth)", "")
}

func (g *gatherer) dockerChecks(ctx context.Context) {
	if g.o.Docker == nil {
		g.add("docker", StatusFail, "no Docker client configured", "install Docker (Debian: apt install docker.io) and make sure DOCKER_HOST or /var/run/docker.sock reaches it")
		return
	}
	info, err := g.o.Docker.ServerVersion(ctx)
	if err != nil {
		g.add("docker", StatusFail, "Docker daemon not reachable: "+err.Error(),
			"start it (sudo systemctl start docker) and let your user reach it (sudo usermod -aG docker $USER), or set DOCKER_HOST")
		return
	}
	g.facts.DockerVersion = info.Version
	g.extra("docker_api", info.APIVersion)
	g.add("docker", StatusPass, fmt.Sprintf("Docker %s (API %s)", info.Version, info.APIVersion), "")
	for _, ref := range g.o.Images {
		id, ok, err := g.o.Docker.ImageID(ctx, ref)
		switch {
		case err != nil:
			g.add("image "+ref, StatusWarn, "cannot inspect: "+err.Error(), "check the Docker daemon")
		case !ok:
			g.add("image "+ref, StatusWarn, "not present", "build or load it (dagger call build-stack for the from-source stack; see haloforge bench --help for runtime images)")
		default:
			short := strings.TrimPrefix(id, "sha256:")
			if len(short) > 12 {
				short = short[:12]
			}
			g.add("image "+ref, StatusPass, "present ("+short+")", "")
		}
	}
}

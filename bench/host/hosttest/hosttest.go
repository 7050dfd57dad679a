// Package hosttest writes faked host trees for testing doctor (bench/host)
// and its callers against a real directory: what amdgpu, KFD, procfs, dpkg
// and udev show on a Strix Halo machine, which this project's CI lacks.
package hosttest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// StrixHalo writes a healthy Ryzen AI Max+ 395 host (gfx1151, 128 GiB,
// kernel 6.18.4, firmware 20250808, ttm.pages_limit 120 GiB, video gid 44,
// render gid 992) below root. Device nodes are character devices (those of
// /dev/null) when the caller may create them, else empty regular files.
func StrixHalo(root string) error {
	var errs []error
	w := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			errs = append(errs, err)
			return
		}
		errs = append(errs, os.WriteFile(p, []byte(content), 0o644))
	}
	dev := func(rel string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			errs = append(errs, err)
			return
		}
		if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			w(rel, "")
		}
	}
	dev("dev/kfd")
	dev("dev/dri/renderD128")
	w("dev/dri/card1", "")
	w("etc/group", "root:x:0:\nvideo:x:44:hf\nrender:x:992:hf\ndocker:x:995:hf\n")
	w("proc/sys/kernel/hostname", "strix\n")
	w("proc/sys/kernel/osrelease", "6.18.4-amd64\n")
	w("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.18.4-amd64 root=UUID=0 ro quiet amd_iommu=off ttm.pages_limit=31457280 ttm.page_pool_size=31457280\n")
	w("proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD RYZEN AI MAX+ 395 w/ Radeon 8060S\n")
	w("proc/meminfo", "MemTotal:       131072000 kB\nMemAvailable:   120000000 kB\n")
	w("sys/class/kfd/kfd/topology/nodes/0/properties", "cpu_cores_count 32\nsimd_count 0\ngfx_target_version 0\ndevice_id 0\n")
	w("sys/class/kfd/kfd/topology/nodes/1/properties", "cpu_cores_count 0\nsimd_count 80\ngfx_target_version 110501\nvendor_id 4098\ndevice_id 5510\n")
	w("sys/class/drm/card1/device/device", "0x1586\n")
	w("sys/class/drm/card1/device/revision", "0xc1\n")
	w("sys/class/drm/card1/device/mem_info_vram_used", "536870912\n")
	w("sys/class/drm/card1/device/mem_info_gtt_used", "104857600\n")
	w("usr/share/libdrm/amdgpu.ids", "# List of AMDGPU IDs\n1586,\tC1,\tAMD Radeon 8060S Graphics\n")
	w("sys/module/ttm/parameters/pages_limit", "31457280\n")
	w("sys/module/amdgpu/parameters/gttsize", "-1\n")
	w("var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2\n\nPackage: firmware-amd-graphics\nStatus: install ok installed\nVersion: 20250808-1\n\n")
	w("usr/lib/firmware/amdgpu/gc_11_5_1_me.bin", "")
	return errors.Join(errs...)
}

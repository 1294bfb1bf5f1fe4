package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// releaseCodePages drops this process's mappings of its own executable's
// read-only pages, its code and read-only data, and returns how many bytes
// of mappings it covered.
//
// Start-up runs the package initialisers and flag and config code of some
// 270 packages, and the kernel maps 64 KiB around every page touched, so
// about 9 MiB of the binary ends up in the agent's resident set although
// an idle agent keeps touching under 1 MiB of it (BENCHMARKS.md, "Where an
// idle agent's RSS goes"). MADV_DONTNEED on a private mapping that was
// never written only removes this process's page table entries: the pages
// stay in the kernel's page cache, shared with every other agent, and a
// later touch maps them back with a minor fault. Writable mappings (the
// binary's data) are never touched: there the same call would discard
// the process's own writes.
func releaseCodePages() (uint64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	maps, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	defer maps.Close()
	var released uint64
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		m, ok := parseMapsLine(sc.Text())
		if !ok || m.path != exe || (m.perms != "r-xp" && m.perms != "r--p") {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return released, fmt.Errorf("madvise %x-%x: %w", m.start, m.end, errno)
		}
		released += uint64(m.end - m.start)
	}
	return released, sc.Err()
}

// mapping is one line of /proc/PID/maps.
type mapping struct {
	start, end  uintptr
	perms, path string
}

// parseMapsLine reads "start-end perms offset dev inode   path"; the path
// is the rest of the line and may hold spaces (and " (deleted)").
func parseMapsLine(line string) (mapping, bool) {
	var fields [5]string
	rest := line
	for i := range fields {
		rest = strings.TrimLeft(rest, " ")
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			return mapping{}, false
		}
		fields[i], rest = rest[:end], rest[end:]
	}
	startHex, endHex, ok := strings.Cut(fields[0], "-")
	if !ok {
		return mapping{}, false
	}
	start, err1 := strconv.ParseUint(startHex, 16, 64)
	end, err2 := strconv.ParseUint(endHex, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return mapping{}, false
	}
	return mapping{
		start: uintptr(start),
		end:   uintptr(end),
		perms: fields[1],
		path:  strings.TrimLeft(rest, " "),
	}, true
}

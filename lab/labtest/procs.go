package labtest

import (
	"bytes"
	"os"
	"path/filepath"
)

// Process is a running process, as /proc shows it, for the leak checks.
type Process struct {
	PID string
	// Cmdline is its arguments, each followed by a space.
	Cmdline string
	// Program is the base name of its first argument.
	Program string
}

// Processes lists the running processes that have a command line: kernel
// threads have none, nor have zombies not yet reaped.
func Processes() []Process {
	var list []Process
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cl, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cl) == 0 {
			continue
		}
		list = append(list, Process{
			PID:     e.Name(),
			Cmdline: string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '})),
			Program: filepath.Base(string(bytes.SplitN(cl, []byte{0}, 2)[0])),
		})
	}
	return list
}

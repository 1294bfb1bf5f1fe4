//go:build windows

package agent

import "os/exec"

// killTreeOnCancel keeps exec's default (kill the direct child) on Windows.
func killTreeOnCancel(cmd *exec.Cmd) {}

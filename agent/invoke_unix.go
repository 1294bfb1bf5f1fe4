//go:build !windows

package agent

import (
	"os/exec"
	"syscall"
)

// killTreeOnCancel puts the script in its own process group and makes
// cancellation kill the whole group, so children of the shell (a hung
// `sleep`, a pipeline) do not outlive the agent.
func killTreeOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

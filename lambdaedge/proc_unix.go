//go:build unix

package lambdaedge

import (
	"os/exec"
	"syscall"
)

// setProcessGroup makes cmd the leader of a process group of its own, so
// that killing the group ends whatever the handler started too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills cmd's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

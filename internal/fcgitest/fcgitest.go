// Package fcgitest runs FastCGI backend processes for tests: php-fpm with
// a generated pool of static children ([PHPFPM]), or any command that
// listens on a unix socket ([Start]), each in its own process group so
// that killing it kills its children too. It is a test harness shared by
// the fastcgi plugin's tests and the end-to-end tests, not a process
// manager.
package fcgitest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Proc is a backend process started by a test, listening on the unix
// socket Sock. It is killed when the test ends. Its methods must be
// called from the test's goroutine.
type Proc struct {
	Sock string // the unix socket it listens on
	Dir  string // a temporary directory of its own (config, logs)

	tb  testing.TB
	mk  func() *exec.Cmd
	cmd *exec.Cmd
}

// Start runs the command mk makes and waits until it accepts connections
// on sock; the test fails when it does not within 15 seconds. Restart
// calls mk again.
func Start(tb testing.TB, sock string, mk func() *exec.Cmd) *Proc {
	tb.Helper()
	p := &Proc{Sock: sock, Dir: filepath.Dir(sock), tb: tb, mk: mk}
	p.Restart()
	tb.Cleanup(p.Kill)
	return p
}

// Restart starts the process again on the same socket, after Kill.
func (p *Proc) Restart() {
	p.tb.Helper()
	os.Remove(p.Sock)
	p.cmd = p.mk()
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		p.tb.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		// The socket file appears at bind, before listen: wait for a
		// connection to be accepted, not for the file.
		if c, err := net.Dial("unix", p.Sock); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(p.Dir, "fpm.log"))
	p.tb.Fatalf("%s did not listen on %s:\n%s", p.cmd.Path, p.Sock, log)
}

// Kill kills the process and its children at once (SIGKILL to its
// process group) and waits for it.
func (p *Proc) Kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		p.cmd.Wait()
		p.cmd = nil
	}
}

// PHPFPMBinary finds php-fpm. Without it the test is skipped, unless
// CI=true (test.sh installs it): then it fails.
func PHPFPMBinary(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"php-fpm8.2", "php-fpm", "php-fpm8.3", "php-fpm8.4"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if _, err := os.Stat("/usr/sbin/" + name); err == nil {
			return "/usr/sbin/" + name
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("php-fpm is required under CI: ./test.sh installs it (apt-get install -y php-fpm)")
	}
	tb.Skip("php-fpm not installed")
	return ""
}

// PHPFPM starts php-fpm with a generated config: one pool of children
// static children on the unix socket fpm.sock in a temporary directory,
// running .php files only; its log is fpm.log there, PHP's error log
// php.log. As root it runs its children as root (-R).
func PHPFPM(tb testing.TB, children int) *Proc {
	tb.Helper()
	bin, dir := PHPFPMBinary(tb), tb.TempDir()
	sock := filepath.Join(dir, "fpm.sock")
	args := []string{"-F", "-y", filepath.Join(dir, "fpm.conf")}
	user := ""
	if os.Geteuid() == 0 {
		user = "user = root\ngroup = root\n"
		args = append(args, "-R")
	}
	conf := fmt.Sprintf(`[global]
error_log = %[1]s/fpm.log
pid = %[1]s/fpm.pid
daemonize = no
[www]
%[2]slisten = %[3]s
pm = static
pm.max_children = %[4]d
catch_workers_output = yes
security.limit_extensions = .php
php_admin_value[error_log] = %[1]s/php.log
php_admin_flag[log_errors] = on
`, dir, user, sock, children)
	if err := os.WriteFile(filepath.Join(dir, "fpm.conf"), []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	return Start(tb, sock, func() *exec.Cmd { return exec.Command(bin, args...) })
}

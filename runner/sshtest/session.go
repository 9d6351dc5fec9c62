package sshtest

import (
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// signals maps SSH signal names (RFC 4254 6.10) to local signals, both ways.
var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE,
	"HUP": syscall.SIGHUP, "ILL": syscall.SIGILL, "INT": syscall.SIGINT,
	"KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE, "QUIT": syscall.SIGQUIT,
	"SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// closeGrace is how long a program may run on after its channel closed.
const closeGrace = 2 * time.Second

// session is one "session" channel: at most one exec or subsystem.
type session struct {
	s    *Server
	conn net.Conn
	ch   ssh.Channel
	env  []string

	exited chan struct{} // closed when the program (if any) is over
	// replied is closed once the exec request was answered: like sshd, the
	// answer goes out before the exit status and the channel's close, or a
	// quick program could close the channel under a client still waiting
	// for it (which then reads EOF).
	replied     chan struct{}
	repliedOnce sync.Once

	mu      sync.Mutex
	started bool
	isExec  bool // a process was started; its end closes exited
	proc    *os.Process
	wg      sync.WaitGroup
}

func (s *Server) serveSession(conn net.Conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	ss := &session{s: s, conn: conn, ch: ch, exited: make(chan struct{}), replied: make(chan struct{})}
	for req := range reqs {
		ok := ss.handle(req)
		if req.WantReply {
			req.Reply(ok, nil)
		}
		if req.Type == "exec" {
			ss.repliedOnce.Do(func() { close(ss.replied) })
		}
	}
	ss.repliedOnce.Do(func() { close(ss.replied) })
	// The channel is gone (closed by both sides or the connection dropped).
	// Like sshd, give the program a moment to act on a signal it was sent
	// (a trap, say), but let nothing outlive the test.
	ss.mu.Lock()
	isExec := ss.isExec
	ss.mu.Unlock()
	if isExec {
		select {
		case <-ss.exited:
		case <-time.After(closeGrace):
			ss.kill(syscall.SIGKILL)
		}
	}
	ss.wg.Wait()
	ch.Close()
}

func (ss *session) handle(req *ssh.Request) bool {
	switch req.Type {
	case "env":
		var kv struct{ Name, Value string }
		if ssh.Unmarshal(req.Payload, &kv) != nil {
			return false
		}
		ss.env = append(ss.env, kv.Name+"="+kv.Value)
		return true
	case "exec":
		var p struct{ Command string }
		if ssh.Unmarshal(req.Payload, &p) != nil || !ss.start() {
			return false
		}
		ss.s.record(p.Command)
		return ss.exec(p.Command)
	case "subsystem":
		var p struct{ Name string }
		if ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" || !ss.start() {
			return false
		}
		ss.wg.Add(1)
		go ss.sftp()
		return true
	case "signal":
		var p struct{ Signal string }
		if ssh.Unmarshal(req.Payload, &p) != nil {
			return false
		}
		sig, ok := signals[p.Signal]
		if ok {
			ss.kill(sig)
		}
		return ok
	default:
		return false
	}
}

// start claims the session for one program.
func (ss *session) start() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.started {
		return false
	}
	ss.started = true
	return true
}

// kill signals the whole process group, so that children of /bin/sh go too.
func (ss *session) kill(sig syscall.Signal) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.proc != nil {
		_ = syscall.Kill(-ss.proc.Pid, sig)
	}
}

func (ss *session) environ() []string {
	env := append(os.Environ(), ss.s.opts.env...)
	env = append(env, ss.env...)
	if len(ss.s.opts.pathPrefix) > 0 {
		prefix := strings.Join(ss.s.opts.pathPrefix, ":")
		path := os.Getenv("PATH")
		for _, kv := range env {
			if p, ok := strings.CutPrefix(kv, "PATH="); ok {
				path = p
			}
		}
		env = append(env, "PATH="+prefix+":"+path)
	}
	return env
}

func (ss *session) exec(line string) bool {
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Dir = ss.s.Dir
	cmd.Env = ss.environ()
	cmd.Stdout = ss.ch
	cmd.Stderr = ss.ch.Stderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false
	}
	ss.mu.Lock()
	err = cmd.Start()
	if err == nil {
		ss.proc, ss.isExec = cmd.Process, true
	}
	ss.mu.Unlock()
	if err != nil {
		return false
	}
	ss.wg.Add(2)
	go func() {
		defer ss.wg.Done()
		_, _ = io.Copy(stdin, ss.ch)
		stdin.Close()
	}()
	go func() {
		defer ss.wg.Done()
		err := cmd.Wait()
		ss.mu.Lock()
		ss.proc = nil
		ss.mu.Unlock()
		<-ss.replied
		ss.exit(err)
		close(ss.exited)
	}()
	return true
}

// exit reports how the program ended and closes the channel.
func (ss *session) exit(err error) {
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		ws, _ := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			name := "KILL"
			for n, s := range signals {
				if s == ws.Signal() {
					name = n
				}
			}
			payload := ssh.Marshal(struct {
				Signal     string
				CoreDumped bool
				Msg, Lang  string
			}{Signal: name})
			_, _ = ss.ch.SendRequest("exit-signal", false, payload)
			ss.ch.Close()
			return
		}
		status = ws.ExitStatus()
	} else if err != nil {
		status = 255
	}
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
	ss.ch.Close()
}

func (ss *session) sftp() {
	defer ss.wg.Done()
	rw := &countingChannel{Channel: ss.ch, onRead: func(total int64) {
		if ss.s.shouldDropUpload(total) {
			ss.conn.Close()
		}
	}}
	srv, err := sftp.NewServer(rw, sftp.WithServerWorkingDirectory(ss.s.Dir))
	if err != nil {
		ss.exit(err)
		return
	}
	_ = srv.Serve()
	srv.Close()
	ss.exit(nil)
}

// countingChannel reports the running total of bytes read from the client.
type countingChannel struct {
	ssh.Channel
	total  int64
	onRead func(total int64)
}

func (c *countingChannel) Read(p []byte) (int, error) {
	n, err := c.Channel.Read(p)
	c.total += int64(n)
	c.onRead(c.total)
	return n, err
}

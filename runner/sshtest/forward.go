package sshtest

import (
	"io"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

// forward serves a direct-tcpip channel (what `ssh -J` asks of a bastion).
// Only loopback targets are allowed: tests never send traffic elsewhere.
func (s *Server) forward(nc ssh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nc.ExtraData(), &p); err != nil {
		nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip payload")
		return
	}
	if ip := net.ParseIP(p.Host); p.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		nc.Reject(ssh.Prohibited, "sshtest forwards to loopback only")
		return
	}
	target, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	if !s.track(target) {
		target.Close()
		nc.Reject(ssh.ConnectionFailed, "server closing")
		return
	}
	defer s.untrack(target)
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(target, ch)
		if tc, ok := target.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, _ = io.Copy(ch, target)
	_ = ch.CloseWrite()
	wg.Wait()
}

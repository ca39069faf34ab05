package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

const (
	listenBacklog = 4096 // the kernel caps it at net.core.somaxconn
	fastOpenQueue = 256
)

// listenOptions are the per-socket choices of one Listen call.
type listenOptions struct {
	reuseport   bool
	deferAccept time.Duration // <= 0: off
}

// listenTCP opens a non-blocking listening socket on addr. A wildcard host
// listens dual-stack where IPv6 exists.
func listenTCP(addr netip.AddrPort, wildcard bool, opt listenOptions) (int, error) {
	family, sa := sockaddrFor(addr)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, err
	}
	if err := setListenOptions(fd, family, wildcard, opt); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setListenOptions sets the options that must precede bind, plus the TCP
// options accepted sockets inherit (TCP_NODELAY). TCP_DEFER_ACCEPT and
// TCP_FASTOPEN are best effort.
func setListenOptions(fd, family int, wildcard bool, opt listenOptions) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if opt.reuseport {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("SO_REUSEPORT: %w", err)
		}
	}
	if family == unix.AF_INET6 {
		v6only := 1
		if wildcard {
			v6only = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
			return fmt.Errorf("IPV6_V6ONLY: %w", err)
		}
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
		return fmt.Errorf("TCP_NODELAY: %w", err)
	}
	if opt.deferAccept > 0 {
		secs := int((opt.deferAccept + time.Second - 1) / time.Second)
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, secs)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, fastOpenQueue)
	return nil
}

func sockaddrFor(ap netip.AddrPort) (int, unix.Sockaddr) {
	a := ap.Addr()
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

// resolveListen turns "host:port" into an address to bind. A missing host
// means every address: [::] dual-stack, or 0.0.0.0 where IPv6 is absent.
func resolveListen(addr string) (ap netip.AddrPort, wildcard bool, err error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return ap, false, err
	}
	if ta.IP == nil {
		if ipv6Available() {
			return netip.AddrPortFrom(netip.IPv6Unspecified(), uint16(ta.Port)), true, nil
		}
		return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(ta.Port)), true, nil
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return ap, false, fmt.Errorf("bad address %q", addr)
	}
	ip = ip.Unmap()
	return netip.AddrPortFrom(ip, uint16(ta.Port)), ip.IsUnspecified(), nil
}

func ipv6Available() bool {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// boundAddr returns the address a socket is bound to (the real port after
// binding port 0).
func boundAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ap := addrPortOf(sa)
	if !ap.IsValid() {
		return ap, errors.New("unexpected socket address")
	}
	return ap, nil
}

// addrPortOf converts a socket address; IPv4-mapped IPv6 addresses become
// IPv4. An unknown family gives the zero AddrPort.
func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

// acceptBatch bounds the connections taken per listener wake-up, so one busy
// listener cannot starve the loop's other connections.
const acceptBatch = 64

// acceptResult classifies an accept error: retry (the next connection may
// work), shed (out of descriptors: drop one pending connection), or stop.
type acceptResult uint8

const (
	acceptStop acceptResult = iota
	acceptRetry
	acceptShed
)

func classifyAcceptErr(err error) acceptResult {
	switch {
	case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED), errors.Is(err, unix.EPROTO):
		return acceptRetry
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		return acceptShed
	}
	return acceptStop
}

// spareFD is a descriptor held in reserve: when accept fails for lack of
// descriptors, closing it lets the loop accept the pending connection and
// close it at once, instead of spinning on a listener that stays readable.
type spareFD int

func openSpare() spareFD {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return spareFD(fd)
}

// shed drops one pending connection of lfd using the spare descriptor and
// reports whether it did.
func (s *spareFD) shed(lfd int) bool {
	if *s < 0 {
		return false
	}
	unix.Close(int(*s))
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err == nil {
		unix.Close(fd)
	}
	*s = openSpare()
	return err == nil
}

func (s *spareFD) close() {
	if *s >= 0 {
		unix.Close(int(*s))
		*s = -1
	}
}

// raiseNofile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting soft limit.
func raiseNofile() uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) == nil {
			lim = raised
		}
	}
	return lim.Cur
}

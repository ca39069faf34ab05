package engine

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// acceptBuf receives the peer address of accept4. Each accepting loop owns
// one, so accepting allocates nothing: unix.Accept4 would allocate three
// objects per connection (its address buffer, its length and the returned
// Sockaddr).
//
// This is the engine's only use of unsafe: passing the buffer's address to
// the system call, in the form the unsafe package documents for syscalls.
type acceptBuf struct {
	rsa unix.RawSockaddrAny
	len uint32
}

// accept takes one connection from listener lfd, non-blocking and
// close-on-exec, and returns it with the peer's address.
func (b *acceptBuf) accept(lfd int) (int, netip.AddrPort, error) {
	b.len = unix.SizeofSockaddrAny
	fd, _, errno := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd),
		uintptr(unsafe.Pointer(&b.rsa)), uintptr(unsafe.Pointer(&b.len)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, netip.AddrPort{}, errno
	}
	return int(fd), b.addrPort(), nil
}

// addrPort decodes the address: sockaddr_in is family, port, IPv4 address;
// sockaddr_in6 is family, port, flow info, IPv6 address, scope. The bytes
// after the family are Addr.Data followed by Pad. IPv4-mapped IPv6
// addresses become IPv4.
func (b *acceptBuf) addrPort() netip.AddrPort {
	var raw [26]byte // the sockaddr after its family field
	for i, v := range b.rsa.Addr.Data {
		raw[i] = byte(v)
	}
	for i := range len(raw) - len(b.rsa.Addr.Data) {
		raw[len(b.rsa.Addr.Data)+i] = byte(b.rsa.Pad[i])
	}
	port := uint16(raw[0])<<8 | uint16(raw[1])
	switch b.rsa.Addr.Family {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[2:6])), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(raw[6:22])).Unmap(), port)
	}
	return netip.AddrPort{}
}

package http1

import "encoding/binary"

// The scanners below skip eight bytes at a time while a whole word is
// plainly valid (SWAR: SIMD within a register), then finish byte by byte
// with the lookup tables. They return the index of the first byte that is
// not allowed, or len(b).

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasLess reports whether some byte of x is < n (0 < n <= 128). Bytes
// >= 0x80 never count.
func hasLess(x, n uint64) bool { return (x-lsb*n)&^x&msb != 0 }

// hasByte reports whether some byte of x equals c.
func hasByte(x uint64, c byte) bool { return hasLess(x^lsb*uint64(c), 1) }

// scanValue skips field-value bytes (valueChar) from b[i:].
func scanValue(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if hasLess(x, 0x20) || hasByte(x, 0x7f) {
				break
			}
			i += 8
		}
		end := min(i+8, len(b))
		for i < end && valueChar[b[i]] {
			i++
		}
		if i < end || i == len(b) {
			return i
		}
	}
}

// scanTarget skips request-target bytes (targetChar) from b[i:].
func scanTarget(b []byte, i int) int {
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if hasLess(x, 0x21) || hasByte(x, 0x7f) || hasByte(x, '#') {
				break
			}
			i += 8
		}
		end := min(i+8, len(b))
		for i < end && targetChar[b[i]] {
			i++
		}
		if i < end || i == len(b) {
			return i
		}
	}
}

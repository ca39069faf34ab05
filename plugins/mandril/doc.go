// Package mandril is the mandril plugin: Monkey's security rules. It
// refuses connections by client address at stage 10 (before a byte is
// read) and requests by path and by Referer at stage 20 (403). See
// README.md for the syntax.
//
// It is not a firewall: a refused connection was already accepted by the
// kernel. It keeps no state besides its rules, which are read-only after
// Decode.
package mandril

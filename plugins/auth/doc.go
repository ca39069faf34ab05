// Package auth is the auth plugin: HTTP Basic authentication (RFC 7617)
// for locations of a virtual host, with Monkey's [AUTH] sections and users
// files in Monkey's {SHA} format or htpasswd's bcrypt format. [Passwd]
// maintains such files (the `gibbon passwd` command).
//
// It is not an access-control list by address (see mandril) and does not
// read the users files again while running: a changed file takes effect
// when the server is restarted (there is no configuration reload).
package auth

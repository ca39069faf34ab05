#!/usr/bin/env bash
# test.sh - the one test command of gibbon.
#
# Installs the tools the tests need when they are missing (curl, php-fpm, a C
# compiler for -race, openssl, nghttp2-client, wrk, chromium, staticcheck, h2spec),
# then runs, in order: the gofmt check, go vet,
# staticcheck, every test with the race detector (unit and end-to-end), and a
# short fuzz run of every fuzz target. Stops at the first failing step and
# ends with one summary line: "test.sh: PASS ..." or "test.sh: FAIL ...".
#
# Environment: FUZZTIME (default 200000x: two hundred thousand inputs) is the budget
# of each fuzz target, a count or a duration such as 30s; FUZZTIME=0 skips
# the fuzz step. The default is a count because Go 1.26's fuzz coordinator
# can fail a duration-bounded run with "context deadline exceeded" on a
# loaded machine (go.dev/issue/75804, fixed in Go 1.27).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

started=$SECONDS
current="setup"
fuzzed=0

summary() {
	local rc=$?
	local took=$((SECONDS - started))
	if [ "$rc" -eq 0 ]; then
		echo "test.sh: PASS (gofmt, go vet, staticcheck, go test -race, $fuzzed fuzz targets) in ${took}s"
	else
		echo "test.sh: FAIL at step: $current (exit $rc) after ${took}s"
	fi
}
trap summary EXIT

step() {
	current="$*"
	printf '\n==> %s\n' "$*"
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

apt_updated=no
apt_install() {
	if [ "$apt_updated" = no ]; then
		as_root apt-get update
		apt_updated=yes
	fi
	as_root apt-get install -y "$@"
}

step "install missing tools"
if ! command -v curl >/dev/null 2>&1; then
	apt_install curl
fi
# php-fpm: the FastCGI plugin's tests run a real PHP backend.
if ! compgen -G '/usr/sbin/php-fpm*' >/dev/null; then
	apt_install php-fpm
fi
if ! command -v "$(go env CC)" >/dev/null 2>&1; then
	apt_install gcc
fi
if ! command -v openssl >/dev/null 2>&1; then
	apt_install openssl
fi
if ! command -v nghttp >/dev/null 2>&1; then
	apt_install nghttp2-client
fi
# wrk: load under the proxy's e2e tests.
if ! command -v wrk >/dev/null 2>&1; then
	apt_install wrk
fi
if ! command -v chromium >/dev/null 2>&1; then
	apt_install chromium
fi
gobin="$(go env GOBIN)"
if [ -z "$gobin" ]; then
	gobin="$(go env GOPATH)/bin"
fi
export PATH="$gobin:/root/go/bin:$PATH"
# go_tool NAME MODULE@VERSION installs a Go tool unless NAME is on PATH.
go_tool() {
	if ! command -v "$1" >/dev/null 2>&1; then
		go install "$2"
	fi
}
go_tool staticcheck honnef.co/go/tools/cmd/staticcheck@latest
go_tool h2spec github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
for tool in curl openssl nghttp wrk chromium staticcheck h2spec; do
	echo "$tool: $(command -v "$tool")"
done

step "gofmt -l"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
	echo "these files need gofmt:"
	echo "$unformatted"
	exit 1
fi

step "go vet ./..."
go vet ./...

step "staticcheck ./..."
staticcheck ./...

step "go test -race -count=1 ./..."
go test -race -count=1 ./...

fuzztime="${FUZZTIME:-200000x}"
if [ "$fuzztime" != "0" ]; then
	for pkg in $(go list ./...); do
		current="list fuzz targets in $pkg"
		targets="$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)"
		for name in $targets; do
			step "fuzz $pkg $name for $fuzztime"
			go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"
			fuzzed=$((fuzzed + 1))
		done
	done
fi
current="done"

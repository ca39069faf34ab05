#!/usr/bin/env bash
# bench/h2tls.sh — HTTP/2 and TLS throughput of gibbon against nginx, in the
# same run, rounds alternating the order of the two servers.
#
#   go build -o bin/gibbon ./cmd/gibbon && bench/h2tls.sh [ROUNDS] [SECONDS]
#
# Workloads (each a fresh server; server pinned to CPU 0, client to CPU 1):
#   h2-tls-tiny   h2load -c 50 -m 10 over TLS (ALPN h2), /hello.txt (13 B)
#   h2-tls-64k    the same, /64k.bin
#   h2c-tiny      h2load -c 50 -m 10 h2c prior knowledge, /hello.txt
#   h2c-64k       the same, /64k.bin
#   https1-tiny   wrk -c 50 over TLS (HTTP/1.1 keep-alive), /hello.txt
# H2TLS_WORKLOADS (default: all five) picks some of them.
# Both servers run one worker; nginx with sendfile and open_file_cache
# (bench/nginx-h2tls.conf.in), gibbon with Workers 1. The certificate is a
# P-256 ECDSA one made with openssl for the run. Prints requests/s per
# workload and round, then the median ratio gibbon/nginx.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}
secs=${2:-10}
work=${BENCH_WORK:-/tmp/gibbon-h2bench}
gibbon=${GIBBON_BIN:-$PWD/bin/gibbon}
tlsport=18443 h2cport=18480
rm -rf "$work" && mkdir -p "$work/docroot" "$work/nginx" "$work/gibbon/sites"
printf 'Hello, World!' >"$work/docroot/hello.txt"
head -c 65536 /dev/zero | tr '\0' 'x' >"$work/docroot/64k.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
sed -e "s|@TLSPORT@|$tlsport|g; s|@H2CPORT@|$h2cport|g; s|@DOCROOT@|$work/docroot|g; s|@RUNDIR@|$work/nginx|g; s|@CERT@|$work/cert.pem|g; s|@KEY@|$work/key.pem|g" \
	bench/nginx-h2tls.conf.in >"$work/nginx/nginx.conf"
cat >"$work/gibbon/gibbon.conf" <<CONF
[SERVER]
    Listen 127.0.0.1:$tlsport tls h2
    Listen 127.0.0.1:$h2cport h2c
    Workers 1
    KeepAliveTimeout 75
    MaxKeepAliveRequest 100000
[TLS]
    CertificateFile $work/cert.pem
    RSAKeyFile $work/key.pem
CONF
printf '[HOST]\n    ServerName localhost 127.0.0.1\n    DocumentRoot %s\n' "$work/docroot" >"$work/gibbon/sites/default"

start() { # name → pid on stdout
	case $1 in
	nginx) taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >/dev/null 2>&1 & ;;
	gibbon) taskset -c 0 "$gibbon" -c "$work/gibbon" >"$work/gibbon.log" 2>&1 & ;;
	esac
	echo $!
}
waitport() { for _ in $(seq 100); do curl -sk -o /dev/null "https://127.0.0.1:$tlsport/hello.txt" && return; sleep 0.05; done; }
load() { # workload → requests/s
	case $1 in
	h2-tls-tiny) taskset -c 1 h2load -t1 -c50 -m10 -D "$secs" --warm-up-time=1 "https://127.0.0.1:$tlsport/hello.txt" ;;
	h2-tls-64k) taskset -c 1 h2load -t1 -c50 -m10 -D "$secs" --warm-up-time=1 "https://127.0.0.1:$tlsport/64k.bin" ;;
	h2c-tiny) taskset -c 1 h2load -t1 -c50 -m10 -D "$secs" --warm-up-time=1 "http://127.0.0.1:$h2cport/hello.txt" ;;
	h2c-64k) taskset -c 1 h2load -t1 -c50 -m10 -D "$secs" --warm-up-time=1 "http://127.0.0.1:$h2cport/64k.bin" ;;
	https1-tiny) taskset -c 1 wrk -t1 -c50 -d"${secs}s" "https://127.0.0.1:$tlsport/hello.txt" ;;
	esac 2>&1 | awk '/finished in/ {gsub(",","",$4); print $4} /Requests\/sec/ {print $2}'
}
workloads=${H2TLS_WORKLOADS:-"h2-tls-tiny h2-tls-64k h2c-tiny h2c-64k https1-tiny"}
results="$work/results.txt"
: >"$results"
for r in $(seq "$rounds"); do
	order="gibbon nginx"
	[ $((r % 2)) -eq 0 ] && order="nginx gibbon"
	for wl in $workloads; do
		for srv in $order; do
			pid=$(start "$srv")
			waitport
			rps=$(load "$wl")
			kill "$pid"
			wait "$pid" 2>/dev/null || true
			echo "round=$r server=$srv workload=$wl rps=${rps:-0}" | tee -a "$results"
		done
	done
done
echo
printf '%-12s %12s %12s %8s\n' workload gibbon nginx ratio
for wl in $workloads; do
	g=$(awk -v w="$wl" '$3=="workload="w && $2=="server=gibbon" {sub("rps=","",$4); print $4}' "$results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	n=$(awk -v w="$wl" '$3=="workload="w && $2=="server=nginx" {sub("rps=","",$4); print $4}' "$results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	printf '%-12s %12.0f %12.0f %8.2f\n' "$wl" "$g" "$n" "$(echo "$g / $n" | bc -l)"
done

#!/usr/bin/env bash
# bench/dynamic.sh — gibbon's proxy and FastCGI against nginx doing the same
# job, in the same run, rounds alternating the order of the two servers.
#
#   go build -o bin/gibbon ./cmd/gibbon && bench/dynamic.sh [ROUNDS] [SECONDS]
#
# DYNAMIC_WORKLOADS="fastcgi" runs only the named workloads (default
# "proxy fastcgi"); GIBBON_BASE=/path/to/older/gibbon adds that binary as a
# third front server, "base", in the same alternating rounds, to compare
# two builds of gibbon on a noisy machine.
#
# Workloads (wrk -t1 -c50 --latency, each on a fresh front server):
#   direct   wrk straight to the backend (nginx serving hello.txt, 13 B):
#            the latency the proxies add to
#   proxy    GET /hello.txt through the front server, proxied to the backend
#            over a keep-alive pool
#   fastcgi  GET /hello.php through the front server to php-fpm
#            (pm static, 4 children, unix socket; one pool for both fronts)
# The front server (gibbon Workers 1, or nginx 1 worker:
# bench/nginx-dynamic.conf.in) is pinned to CPU 0; wrk, the backend nginx
# (bench/nginx-backend.conf.in) and php-fpm share CPU 1. gibbon keeps
# FastCGI connections alive (MaxConnections 4 = the pool's children, the
# plugin README's advice); nginx keeps them too (fastcgi_keep_conn,
# keepalive 8), its fastest setting here: with more kept connections than
# children, requests sent on a connection no child has accepted wait, which
# is nginx's p99 of over a second. Prints requests/s, p99 and the front
# server's CPU time per request (user+system, all its processes) per
# workload and round, then medians.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}
secs=${2:-5}
work=${BENCH_WORK:-/tmp/gibbon-dynbench}
gibbon=${GIBBON_BIN:-$PWD/bin/gibbon}
fpmbin=${PHP_FPM:-$(ls /usr/sbin/php-fpm* | head -1)}
port=18180 backport=18181
rm -rf "$work" && mkdir -p "$work/docroot" "$work/front" "$work/back" "$work/fpm" "$work/gibbon/sites" "$work/gibbon/plugins/proxy" "$work/gibbon/plugins/fastcgi"
printf 'Hello, World!' >"$work/docroot/hello.txt"
printf '<?php echo "Hello, World!";\n' >"$work/docroot/hello.php"
fpmsock=$work/fpm/fpm.sock
render() { # template rundir port → config on stdout
	sed -e "s|@PORT@|$3|g; s|@BACKPORT@|$backport|g; s|@DOCROOT@|$work/docroot|g; s|@RUNDIR@|$2|g; s|@FPMSOCK@|$fpmsock|g" "$1"
}
render bench/nginx-dynamic.conf.in "$work/front" "$port" >"$work/front/nginx.conf"
render bench/nginx-backend.conf.in "$work/back" "$backport" >"$work/back/nginx.conf"
fpmuser=""
fpmargs=()
if [ "$(id -u)" -eq 0 ]; then
	fpmuser=$'user = root\ngroup = root'
	fpmargs=(-R)
fi
cat >"$work/fpm/fpm.conf" <<CONF
[global]
error_log = $work/fpm/fpm.log
pid = $work/fpm/fpm.pid
daemonize = no
[www]
$fpmuser
listen = $fpmsock
listen.backlog = 4096
listen.mode = 0666
pm = static
pm.max_children = 4
pm.max_requests = 0
CONF
cat >"$work/gibbon/gibbon.conf" <<CONF
[SERVER]
    Listen 127.0.0.1:$port
    Workers 1
    KeepAliveTimeout 75
    MaxKeepAliveRequest 100000
CONF
printf '[PLUGINS]\n    Load proxy\n    Load fastcgi\n' >"$work/gibbon/plugins.load"
cat >"$work/gibbon/plugins/proxy/proxy.conf" <<CONF
[UPSTREAM]
    Name         backend
    Server       b 127.0.0.1:$backport
    MaxIdleConns 64
CONF
cat >"$work/gibbon/plugins/fastcgi/fastcgi.conf" <<CONF
[FASTCGI_SERVER]
    ServerName     php
    ServerPath     $fpmsock
    MaxConnections 4
    KeepAlive      on
CONF
cat >"$work/gibbon/sites/default" <<CONF
[HOST]
    ServerName localhost 127.0.0.1
    DocumentRoot $work/docroot

[HANDLERS]
    Match ^/hello\.txt$ proxy backend
    Match /.*\.php$     fastcgi php
CONF

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
taskset -c 1 nginx -p "$work/back" -c "$work/back/nginx.conf" -e "$work/back/error.log" >/dev/null 2>&1 &
pids+=($!)
taskset -c 1 "$fpmbin" -F -y "$work/fpm/fpm.conf" "${fpmargs[@]}" >"$work/fpm/out.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$fpmsock" ] && curl -sf -o /dev/null "http://127.0.0.1:$backport/hello.txt" && break; sleep 0.05; done

start() { # name → pid on stdout
	case $1 in
	nginx) taskset -c 0 nginx -p "$work/front" -c "$work/front/nginx.conf" -e "$work/front/error.log" >/dev/null 2>&1 & ;;
	gibbon) taskset -c 0 "$gibbon" -c "$work/gibbon" >"$work/gibbon.log" 2>&1 & ;;
	base) taskset -c 0 "$GIBBON_BASE" -c "$work/gibbon" >"$work/base.log" 2>&1 & ;;
	esac
	echo $!
}
waitport() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/hello.php" && return; sleep 0.05; done; }
# load URL → "rps p99_ms errors"
load() {
	taskset -c 1 wrk -t1 -c50 -d"${secs}s" --latency "$1" 2>&1 | awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec/ {rps = $2}
		$1 == "99%" {p99 = ms($2)}
		/Socket errors|Non-2xx/ {err = err $0 ";"}
		END {printf "%s %.3f %s\n", rps, p99, (err == "" ? "none" : err)}'
}
# cputicks pid → user+system clock ticks of pid and its descendants
cputicks() {
	local t=0 c
	[ -r /proc/"$1"/stat ] && t=$(awk '{print $14 + $15}' /proc/"$1"/stat)
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		t=$((t + $(cputicks "$c")))
	done
	echo "$t"
}
hz=$(getconf CLK_TCK)
workloads=${DYNAMIC_WORKLOADS:-proxy fastcgi}
servers="gibbon nginx"
[ -n "${GIBBON_BASE:-}" ] && servers="gibbon nginx base"
results="$work/results.txt"
: >"$results"
for r in $(seq "$rounds"); do
	# the backend alone, for the latency the proxies add
	read -r rps p99 err <<<"$(load "http://127.0.0.1:$backport/hello.txt")"
	echo "round=$r server=backend workload=direct rps=$rps p99ms=$p99 errors=$err" | tee -a "$results"
	order=$servers
	[ $((r % 2)) -eq 0 ] && order=$(echo "$servers" | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')
	for wl in $workloads; do
		url="http://127.0.0.1:$port/hello.txt"
		[ "$wl" = fastcgi ] && url="http://127.0.0.1:$port/hello.php"
		for srv in $order; do
			pid=$(start "$srv")
			waitport
			taskset -c 1 wrk -t1 -c50 -d1s "$url" >/dev/null 2>&1 # warm-up
			t0=$(cputicks "$pid")
			read -r rps p99 err <<<"$(load "$url")"
			cpuus=$(echo "($(cputicks "$pid") - $t0) * 1000000 / $hz / ($rps * $secs)" | bc -l)
			kill "$pid"
			# start ran in a subshell: pid is no child to wait for; poll until it is gone
			# so that the next front server finds the port free
			while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
			printf 'round=%s server=%s workload=%s rps=%s p99ms=%s cpuus=%.1f errors=%s\n' "$r" "$srv" "$wl" "$rps" "$p99" "$cpuus" "$err" | tee -a "$results"
		done
	done
done
med() { # server workload field → median
	awk -v s="server=$1" -v w="workload=$2" -v f="$3=" '$2==s && $3==w {for (i=4;i<=NF;i++) if (index($i,f)==1) print substr($i,length(f)+1)}' "$results" |
		sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo
direct=$(med backend direct p99ms)
printf '%-8s %10s %10s %7s %11s %11s %14s %14s %16s\n' workload gibbon nginx ratio "p99 gibbon" "p99 nginx" "added gibbon" "added nginx" "CPU us/req g/n"
for wl in $workloads; do
	g=$(med gibbon $wl rps) n=$(med nginx $wl rps) gp=$(med gibbon $wl p99ms) np=$(med nginx $wl p99ms)
	printf '%-8s %10.0f %10.0f %7.2f %9.2fms %9.2fms %12.2fms %12.2fms %8.1f / %5.1f\n' "$wl" "$g" "$n" "$(echo "$g / $n" | bc -l)" "$gp" "$np" \
		"$(echo "$gp - $direct" | bc -l)" "$(echo "$np - $direct" | bc -l)" "$(med gibbon $wl cpuus)" "$(med nginx $wl cpuus)"
	if [ -n "${GIBBON_BASE:-}" ]; then
		b=$(med base $wl rps)
		printf '%-8s base %.0f req/s (gibbon / base %.2f), p99 %.2fms, CPU %.1f us/req\n' "$wl" "$b" "$(echo "$g / $b" | bc -l)" "$(med base $wl p99ms)" "$(med base $wl cpuus)"
	fi
done
printf 'backend direct: %.0f req/s, p99 %.2fms (median)\n' "$(med backend direct rps)" "$direct"

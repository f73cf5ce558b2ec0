#!/usr/bin/env bash
# End-to-end cost of ForceCorsLayer::permissive() in a minimal axum app, loaded by wrk over
# loopback (127.0.0.1 only).
#
# Four servers (the bench binary `e2e_server`) are compared:
#   none             no layer
#   handler-headers  no layer, but the handler returns the two headers the layer adds: the cost
#                    of sending them, which any CORS setup pays
#   router-layer     the layer added by `Router::layer`, which axum 0.8 applies to every route,
#                    each re-boxed
#   around-router    the layer wrapped around the whole `Router`
# Every request carries an allowed `Origin`, so the layer does its full work.
#
# Modes:
#   wrk (default)  All four servers start once. Each is loaded by wrk for DURATION seconds in
#                  turn, ROUNDS times, the order reversed every round so that a slow drift of the
#                  machine's speed affects all alike. Prints requests per second and the server's
#                  CPU time per request for every run, then the means and their ratios to `none`.
#                  With two or more CPUs the servers run on CPU 0 and wrk on CPU 1 (taskset).
#   callgrind      Each server runs under callgrind until it has served N and then 2N requests
#                  (wrk, 4 connections). Its instructions per request are
#                  (I(2N) - I(N)) / (requests(2N) - requests(N)), a figure that other load on
#                  the machine does not change.
#
# Bounds: a wrk run lasts DURATION seconds (in callgrind mode, until the server stops, at most
# 300 s), and it is killed 15 s after that. A server stops by itself after MAX_REQUESTS requests
# (N in callgrind mode), or 60 s after the whole run should have ended.
#
# Usage: benches/e2e.sh [wrk|callgrind]
#   environment, wrk mode: DURATION=10 CONNECTIONS=32 ROUNDS=3 MAX_REQUESTS=20000000
#   environment, callgrind mode: REQUESTS=10000
# Installs wrk, and valgrind in callgrind mode, with apt-get when they are missing.
set -euo pipefail

mode=${1:-wrk}
duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
rounds=${ROUNDS:-3}
max_requests=${MAX_REQUESTS:-20000000}
callgrind_requests=${REQUESTS:-10000}
origin="https://app.example.com"
warm_up_seconds=2
callgrind_seconds=300
layers=(none handler-headers router-layer around-router)

if [[ $mode != wrk && $mode != callgrind ]]; then
    echo "error: unknown mode '$mode'; expected 'wrk' or 'callgrind'" >&2
    exit 2
fi
for setting in duration connections rounds max_requests callgrind_requests; do
    if ! [[ ${!setting} =~ ^[1-9][0-9]*$ ]]; then
        echo "error: invalid $setting '${!setting}'; expected a positive whole number" >&2
        exit 2
    fi
done

cd "$(dirname "$0")/.."

install_if_missing() {
    if ! command -v "$1" >/dev/null; then
        echo "$1 not found; installing it with apt-get" >&2
        apt-get update -qq
        apt-get install -y -qq "$1" >/dev/null
    fi
}
install_if_missing wrk
if [[ $mode == callgrind ]]; then
    install_if_missing valgrind
fi

binary=$(
    cargo bench --bench e2e_server --no-run --message-format=json 2>/dev/null |
        grep '"name":"e2e_server"' |
        grep -o '"executable":"[^"]*"' |
        cut -d'"' -f4
)
if [[ ! -x $binary ]]; then
    echo "error: building the bench binary 'e2e_server' failed; run" \
        "'cargo bench --bench e2e_server --no-run' to see why" >&2
    exit 1
fi

server_cpu=()
client_cpu=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
fi

work_dir=$(mktemp -d)
started_pids=()
stop_started() {
    for pid in "${started_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work_dir"
}
trap stop_started EXIT

# Waits until a server has written its address to the file $1 and prints its URL.
server_url() {
    local output=$1
    for _ in $(seq 300); do
        grep -q '^listening: ' "$output" && break
        sleep 0.1
    done
    if ! grep -q '^listening: ' "$output"; then
        echo "error: a server did not report its address within 30 s; its output:" >&2
        cat "$output" "${output%.out}.err" >&2
        exit 1
    fi
    echo "$(sed -n 's/^listening: //p' "$output")/api/items"
}

# Fails unless the server at $2 sends `access-control-allow-origin` exactly when layer $1 should,
# so that every run measures what it claims to.
check_cors_header() {
    local layer=$1 url=$2
    local headers sent expected
    headers=$(curl -sS -o /dev/null -D - -H "Origin: $origin" "$url")
    if grep -qi '^access-control-allow-origin:' <<<"$headers"; then sent=yes; else sent=no; fi
    if [[ $layer == none ]]; then expected=no; else expected=yes; fi
    if [[ $sent != "$expected" ]]; then
        echo "error: --layer $layer sent access-control-allow-origin: $sent, expected $expected" >&2
        exit 1
    fi
}

# Runs server $1 under callgrind until it has served $2 requests, and prints the instructions it
# executed and the requests it served.
callgrind_server() {
    local layer=$1 requests=$2
    local output="$work_dir/callgrind-$layer-$requests"
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" --layer "$layer" \
        --addr 127.0.0.1:0 --max-requests "$requests" --max-seconds "$callgrind_seconds" \
        >"$output.out" 2>"$output.err" &
    local server=$!
    started_pids+=("$server")
    local url
    url=$(server_url "$output.out")
    timeout $((callgrind_seconds + 15)) wrk -t1 -c4 -d"${callgrind_seconds}s" \
        -H "Origin: $origin" "$url" >/dev/null 2>&1 &
    local client=$!
    started_pids+=("$client")
    wait "$server"
    kill "$client" 2>/dev/null || true
    wait "$client" 2>/dev/null || true

    local collected served
    collected=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$output.err")
    served=$(sed -n 's/^e2e_server: stopped after serving \([0-9]*\) requests$/\1/p' "$output.err")
    if [[ -z $collected || -z $served ]]; then
        echo "error: no instruction or request count from the server with --layer $layer:" >&2
        cat "$output.err" >&2
        exit 1
    fi
    echo "$collected $served"
}

run_callgrind() {
    declare -A per_request
    local single_instructions single_requests double_instructions double_requests
    for layer in "${layers[@]}"; do
        read -r single_instructions single_requests < <(callgrind_server "$layer" "$callgrind_requests")
        read -r double_instructions double_requests < <(callgrind_server "$layer" $((2 * callgrind_requests)))
        per_request[$layer]=$(awk -v a="$single_instructions" -v b="$double_instructions" \
            -v m="$single_requests" -v n="$double_requests" 'BEGIN { printf "%.0f", (b - a) / (n - m) }')
        echo "measured $layer" >&2
    done

    echo "Server instructions per request, callgrind, N = $callgrind_requests and $((2 * callgrind_requests))"
    echo "$(valgrind --version); wrk: 1 thread, 4 connections; server: axum, 1 thread"
    echo
    echo "| server | instructions per request | difference to none | none / server |"
    echo "|---|---:|---:|---:|"
    local base=${per_request[none]}
    for layer in "${layers[@]}"; do
        local value=${per_request[$layer]}
        awk -v name="$layer" -v value="$value" -v base="$base" 'BEGIN {
            printf "| %s | %d | %+d | %.3f |\n", name, value, value - base, base / value
        }'
    done
}

# Prints the CPU time in clock ticks that process $1 has used (user + system).
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Runs wrk against server $1 for $2 seconds and prints its requests per second and the server's
# CPU time per request in microseconds, which other load on the machine disturbs less.
load() {
    local layer=$1 seconds=$2
    local pid=${server_pid[$layer]}
    local ticks_before
    ticks_before=$(cpu_ticks "$pid")
    local output
    output=$(timeout $((seconds + 15)) "${client_cpu[@]}" wrk -t1 -c"$connections" \
        -d"${seconds}s" -H "Origin: $origin" "${url[$layer]}")
    if grep -qE 'Non-2xx|Socket errors' <<<"$output"; then
        echo "error: wrk reported failed requests against --layer $layer:" >&2
        echo "$output" >&2
        exit 1
    fi
    local ticks=$(($(cpu_ticks "$pid") - ticks_before))
    local requests rate
    requests=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$output")
    rate=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)$/\1/p' <<<"$output")
    awk -v rate="$rate" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$requests" \
        'BEGIN { printf "%.0f %.3f\n", rate, ticks / hz / n * 1e6 }'
}

declare -A url server_pid
run_wrk() {
    local server_seconds=$((${#layers[@]} * (warm_up_seconds + rounds * (duration + 15)) + 60))
    for layer in "${layers[@]}"; do
        "${server_cpu[@]}" "$binary" --layer "$layer" --addr 127.0.0.1:0 \
            --max-requests "$max_requests" --max-seconds "$server_seconds" \
            >"$work_dir/$layer.out" 2>"$work_dir/$layer.err" &
        server_pid[$layer]=$!
        started_pids+=($!)
        url[$layer]=$(server_url "$work_dir/$layer.out")
        check_cors_header "$layer" "${url[$layer]}"
        load "$layer" "$warm_up_seconds" >/dev/null
    done

    echo "wrk: 1 thread, $connections connections, ${duration} s per run; server: axum, 1 thread"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "Per run: requests per second, and the server's CPU time per request in µs"
    echo
    echo "| round | none | handler-headers | router-layer | around-router |"
    echo "|---:|---:|---:|---:|---:|"
    declare -A rate_sum cpu_sum cell
    for layer in "${layers[@]}"; do
        rate_sum[$layer]=0
        cpu_sum[$layer]=0
    done
    for round in $(seq "$rounds"); do
        local order=("${layers[@]}")
        if ((round % 2 == 0)); then
            order=()
            for ((index = ${#layers[@]} - 1; index >= 0; index--)); do
                order+=("${layers[index]}")
            done
        fi
        for layer in "${order[@]}"; do
            local rate cpu
            read -r rate cpu < <(load "$layer" "$duration")
            rate_sum[$layer]=$(awk -v s="${rate_sum[$layer]}" -v x="$rate" 'BEGIN { print s + x }')
            cpu_sum[$layer]=$(awk -v s="${cpu_sum[$layer]}" -v x="$cpu" 'BEGIN { print s + x }')
            cell[$layer]="$rate req/s, $cpu µs"
        done
        for layer in "${layers[@]}"; do
            if ! kill -0 "${server_pid[$layer]}" 2>/dev/null; then
                echo "error: the server with --layer $layer stopped during the load" \
                    "(request or time limit reached)" >&2
                exit 1
            fi
        done
        echo "| $round | ${cell[none]} | ${cell[handler-headers]} | ${cell[router-layer]} |" \
            "${cell[around-router]} |"
    done
    echo
    echo "Means over $rounds rounds and ratios to none (throughput: server / none; CPU time per"
    echo "request: none / server, so that in both columns 1.000 means no cost)"
    echo
    echo "| server | req/s | ratio | CPU µs per request | ratio |"
    echo "|---|---:|---:|---:|---:|"
    for layer in "${layers[@]}"; do
        awk -v name="$layer" -v rate="${rate_sum[$layer]}" -v cpu="${cpu_sum[$layer]}" \
            -v base_rate="${rate_sum[none]}" -v base_cpu="${cpu_sum[none]}" -v n="$rounds" 'BEGIN {
            printf "| %s | %.0f | %.3f | %.3f | %.3f |\n",
                name, rate / n, rate / base_rate, cpu / n, base_cpu / cpu
        }'
    done
    echo
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [[ $mode == callgrind ]]; then
    run_callgrind
else
    run_wrk
fi

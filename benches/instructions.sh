#!/usr/bin/env bash
# Counts instructions per request for every variant and case under callgrind, and prints them as
# Markdown tables with the difference to the no-layer baseline.
#
# The bench binary `instructions` runs twice per variant and case, with N and 2N requests, and
# (I(2N) - I(N)) / N is taken as the instructions per request, which cancels start-up and
# configuration cost. Instruction counts do not depend on CPU frequency or on other load on the
# machine, so they are stable across runs.
#
# Usage: benches/instructions.sh [N]   (default N: 10000)
# Installs valgrind with apt-get when it is missing.
set -euo pipefail

requests=${1:-10000}
if ! [[ $requests =~ ^[1-9][0-9]*$ ]]; then
    echo "error: invalid request count '$requests'; expected a positive whole number" >&2
    exit 2
fi

cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind not found; installing it with apt-get" >&2
    apt-get update -qq
    apt-get install -y -qq valgrind >/dev/null
fi

binary=$(
    cargo bench --bench instructions --no-run --message-format=json 2>/dev/null |
        grep '"name":"instructions"' |
        grep -o '"executable":"[^"]*"' |
        cut -d'"' -f4
)
if [[ ! -x $binary ]]; then
    echo "error: building the bench binary 'instructions' failed; run" \
        "'cargo bench --bench instructions --no-run' to see why" >&2
    exit 1
fi

# Prints the instructions callgrind counted for one run of the binary.
count_instructions() {
    local output
    output=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$@" 2>&1)
    local collected
    collected=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' <<<"$output")
    if [[ -z $collected ]]; then
        echo "error: no instruction count in the callgrind output of '$*':" >&2
        echo "$output" >&2
        exit 1
    fi
    echo "$collected"
}

mapfile -t variants < <("$binary" --list-variants)
mapfile -t cases < <("$binary" --list-cases)

declare -A per_request
for variant in "${variants[@]}"; do
    for case in "${cases[@]}"; do
        single=$(count_instructions "$variant" "$case" "$requests")
        double=$(count_instructions "$variant" "$case" $((2 * requests)))
        per_request[$variant,$case]=$(awk -v a="$single" -v b="$double" -v n="$requests" \
            'BEGIN { printf "%.0f", (b - a) / n }')
    done
    echo "measured $variant" >&2
done

echo "Instructions per request (difference to no-layer), callgrind, N = $requests and $((2 * requests))"
echo "$(valgrind --version), rustc $(rustc --version | cut -d' ' -f2)"
echo
header="| variant |"
rule="|---|"
for case in "${cases[@]}"; do
    header+=" $case |"
    rule+="---:|"
done
echo "$header"
echo "$rule"
for variant in "${variants[@]}"; do
    row="| $variant |"
    for case in "${cases[@]}"; do
        value=${per_request[$variant,$case]}
        if [[ $variant == no-layer ]]; then
            row+=" $value |"
        else
            row+=" $value ($(printf '%+d' $((value - ${per_request[no-layer,$case]})))) |"
        fi
    done
    echo "$row"
done

echo
echo "force-cors overhead as a share of tower-http's overhead for the same configuration"
echo "(overhead = instructions per request minus no-layer; below 0.50 meets the target)"
echo
echo "$header"
echo "$rule"
for variant in "${variants[@]}"; do
    [[ $variant == force-cors/* ]] || continue
    config=${variant#force-cors/}
    row="| $config |"
    for case in "${cases[@]}"; do
        baseline=${per_request[no-layer,$case]}
        ours=$((per_request[$variant,$case] - baseline))
        theirs=$((per_request[tower-http/$config,$case] - baseline))
        row+=" $(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }') |"
    done
    echo "$row"
done

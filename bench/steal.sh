# Sourced by the benchmarks: how much of this virtual machine's CPU time the host took while
# they ran (the `steal` column of /proc/stat). On a busy host it slows every side of a run,
# round trips most, so a figure taken under heavy steal says more about the host than about
# what is measured. The share is of the CPUs the `cpu` line of /proc/stat sums (the online
# ones). `steal_start` marks the beginning; `steal_report FILE` appends one line.
steal_start() {
    STEAL_TICKS0=$(awk '/^cpu /{print $9}' /proc/stat)
    STEAL_SECONDS0=$(date +%s.%N)
}

steal_report() {
    local ticks seconds
    ticks=$(awk '/^cpu /{print $9}' /proc/stat)
    seconds=$(date +%s.%N)
    python3 - "$STEAL_TICKS0" "$ticks" "$STEAL_SECONDS0" "$seconds" "$(getconf CLK_TCK)" "$(grep -c '^cpu[0-9]' /proc/stat)" <<'PY' | tee -a "$1"
import sys
t0, t1, s0, s1, hz, cpus = map(float, sys.argv[1:])
share = (t1 - t0) / hz / ((s1 - s0) * cpus) * 100
print(f"Host steal during the run: {share:.1f}% of the machine's CPU time (/proc/stat); "
      "above a few percent, round-trip figures (one connection, one client) are the host's as much as ours.")
PY
}

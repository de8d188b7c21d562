"""What a process costs, read from Linux's /proc: CPU seconds and resident memory."""

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time the process has used so far (utime + stime of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_kb(pid):
    """Resident set size in KiB (VmRSS of /proc/PID/status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ValueError(f"no VmRSS for process {pid}")


def total_cpu_seconds(pids):
    """CPU seconds of several processes together (the load generator's workers)."""
    return sum(cpu_seconds(pid) for pid in pids)

"""Start one command and report its wall time and peak RSS: `python -I -S spawn.py OUT CMD...`.

Why a separate, lean launcher: Linux records a process's peak RSS (`ru_maxrss`) across `exec`,
including the memory it had before it. A child started by fork or vfork from the benchmark's
process (moto, boto3 and all, ~90 MiB) starts with the parent's memory, so `wait4` would report
the parent's size, not the child's. Started from this small interpreter (standard library `os`,
`sys`, `json`, `time` only), the child's peak is its own: the launcher's ~10 MiB is below any
Python process that imports boto3.

The child inherits stdin, stdout, stderr and the environment; the report (JSON:
started_monotonic, seconds to the child's exit, peak_rss_kib, exit_code) goes to the file OUT. A
child that writes `time.monotonic()` to the file named by BENCH_DONE_FILE lets the caller measure
from its start to that moment (the same clock in every process on Linux).
"""

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    out, command = argv[0], argv[1:]
    started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the child
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    report = {
        "started_monotonic": started,
        "seconds": seconds,
        "peak_rss_kib": usage.ru_maxrss,  # KiB on Linux
        "exit_code": os.waitstatus_to_exitcode(status),
    }
    with open(out, "w", encoding="utf-8") as stream:
        json.dump(report, stream)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""One Lambda invocation of the packaged function, in a bare interpreter (see lambda_zip.py).

`python -I -S lambda_runtime.py <event-json>`: puts LAMBDA_TASK_ROOT (the unpacked zip) and
LAMBDA_RUNTIME_DEPS (boto3 and its dependencies) on sys.path, imports the handler, invokes it once
with a context like Lambda's, and prints the result as the last line of stdout. It imports only
what any Lambda runtime has loaded anyway, so that a cold start measured with it (make bench) is
the function's own. When the invocation ended goes to the file named by DONE_FILE_VARIABLE, where
the benchmark sets it, never to the output a person reads (make demo).
"""

import json
import os
import sys
import time

RESULT_MARKER = "LAMBDA_RESULT "
# Where to write when the invocation ended, as `time.monotonic()` (the system-wide monotonic
# clock): make bench measures cold starts from process start to this moment, since Lambda keeps
# the process after an invocation, so its exit is no part of a cold start.
DONE_FILE_VARIABLE = "BENCH_DONE_FILE"


def record_done() -> None:
    """Write the monotonic time to the benchmark's side channel, when it asked for one."""
    path = os.environ.get(DONE_FILE_VARIABLE)
    if path:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(repr(time.monotonic()))


class Context:
    """What Lambda passes: the function's name and the time left (the module's default timeout
    of 60 s, counted from when the handler is called)."""

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "ecr-token-rotator")
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    def __init__(self, timeout_seconds: float = 60.0) -> None:
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main(argv: list[str]) -> int:
    sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DEPS"]]
    from ecr_token_rotator.handler import lambda_handler  # noqa: PLC0415 - after sys.path is set

    result = lambda_handler(json.loads(argv[0]) if argv else {}, Context())
    record_done()
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

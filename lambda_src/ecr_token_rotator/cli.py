"""Operator CLI: run a refresh by hand, or repair a rotation stuck on a stale AWSPENDING.

    ecr-token-rotator refresh --secret-id ID [--region REGION] [--ecr-region REGION[,REGION...]]
                              [--registry-id ACCOUNT[,ACCOUNT...]] [--endpoint-type TYPE[,TYPE...]]
                              [--ecr-public] [--probe-image IMAGE[,IMAGE...]] [--timeout SECONDS]
                              [--log-level LEVEL] [--log-format {json,text}]
    ecr-token-rotator repair  --secret-id ID [--region REGION] [--dry-run] [--force]
                              [--timeout SECONDS] [--log-level LEVEL] [--log-format {json,text}]

(`python -m ecr_token_rotator` is the same program.) Every list flag takes one value or a
comma-separated list, and may be repeated: `--ecr-region eu-west-1,eu-central-1` is
`--ecr-region eu-west-1 --ecr-region eu-central-1` (as the function's ECR_REGIONS is
`eu-west-1,eu-central-1`). Credentials come from the usual AWS environment (profile, variables).
`--region` means the same in both commands: the region of a secret given by name (an ARN names
its own region, and a different `--region` is an error), default: the environment's region
(AWS_REGION, AWS_DEFAULT_REGION, the profile's); `refresh` also fetches its token there unless
`--ecr-region` lists the ECR regions.

A command line that is wrong (a flag missing or malformed, a value that is not valid, no region
anywhere) gets argparse's usage text and the error on stderr, exit status 2: nothing ran. Once a
run starts, the result is printed as JSON on stdout and logs go to stderr, the last one
`run_failed` when the run fails: `--log-format text` (the default when stderr is a terminal)
prints them for a person, `json` (the default otherwise: CI, files, pipes) as JSON lines. Exit
status: 0 done, 1 the run failed (nothing was published), 2 bad arguments or configuration.
`--timeout` bounds the whole run the way a Lambda invocation's timeout does (AWS call timeouts
and attempts follow from it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NoReturn

from . import aws
from .config import (
    FLAG_NAMES,
    SECRET_ARN_PATTERN,
    build_settings,
    parse_log_level,
    parse_region,
    parse_secret_id,
    split_list,
)
from .deadline import DEFAULT_TIMEOUT_SECONDS, RESERVE_SECONDS, Deadline
from .endpoints import ENDPOINT_TYPES
from .errors import ConfigError, RotatorError
from .messages import duration
from .observability import LOG_FORMATS, configure_logging, failure_fields, logs_to
from .probe import HttpsTransport
from .refresh import refresh_secret
from .repair import ROTATION_IN_PROGRESS_WINDOW, repair_pending

logger = logging.getLogger(__name__)

LOG_LEVEL_HELP = (
    "DEBUG, INFO (default), WARNING or ERROR: the least severe log line printed on stderr "
    "(boto3's and botocore's own logs stay at WARNING: they would show tokens)"
)
LOG_FORMAT_HELP = (
    "how log lines on stderr are written: text for a person (the default when stderr is a "
    "terminal), json for a machine (the default otherwise, e.g. in CI)"
)
LIST_FLAGS_HELP = (
    "List flags take one value or a comma-separated list, and may be repeated: "
    "--ecr-region eu-west-1,eu-central-1 is --ecr-region eu-west-1 --ecr-region eu-central-1."
)
ENVIRONMENT_REGION = "AWS_REGION, AWS_DEFAULT_REGION or the profile's region"


class UsageError(ConfigError):
    """The command line is wrong: printed with the usage of the command it was given to."""

    def __init__(self, message: str, format_usage: Callable[[], str], prog: str) -> None:
        super().__init__(message)
        self.format_usage = format_usage
        self.prog = prog


class _Formatter(argparse.HelpFormatter):
    """argparse's layout, without breaking words at their hyphens (`eu-central-1` stays whole)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(
            " ".join(text.split()),
            width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_on_hyphens=False,
        )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Raise, rather than exit, so that `main` returns the exit status (2, as argparse's)."""
        raise UsageError(message, self.format_usage, self.prog)


class _Once(argparse.Action):
    """An option that may be given once (argparse would silently keep the last one)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if getattr(namespace, self.dest) is not None:
            parser.error(
                f"{option_string} is given once: it is the region of a secret given by name "
                f"(and refresh's default ECR region); list ECR regions with {FLAG_NAMES.regions}"
            )
        setattr(namespace, self.dest, values)


def _timeout(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not seconds > RESERVE_SECONDS * 2:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a number of seconds above {RESERVE_SECONDS * 2:.0f}"
        )
    return seconds


def _secret(command: argparse.ArgumentParser) -> None:
    """The flags that name the secret, first in both commands."""
    command.set_defaults(format_usage=command.format_usage, prog=command.prog)
    command.add_argument(
        "--secret-id", required=True, metavar="ID", help="name or ARN of the secret"
    )
    command.add_argument(
        "--region",
        action=_Once,
        metavar="REGION",
        help="region of a secret given by name (an ARN names its own); default: your "
        f"environment's ({ENVIRONMENT_REGION})",
    )


def _run_options(command: argparse.ArgumentParser) -> None:
    """How the run goes, last in both commands."""
    command.add_argument(
        "--timeout",
        type=_timeout,
        default=float(DEFAULT_TIMEOUT_SECONDS),
        metavar="SECONDS",
        help=f"seconds the whole run may take (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    command.add_argument("--log-level", default="INFO", metavar="LEVEL", help=LOG_LEVEL_HELP)
    command.add_argument("--log-format", choices=LOG_FORMATS, help=LOG_FORMAT_HELP)


def _list_flag(command: argparse.ArgumentParser, flag: str, item: str, help_text: str) -> None:
    """A flag that takes a comma-separated list and may be repeated: the values of every
    occurrence, in order."""
    command.add_argument(
        flag,
        dest=flag.removeprefix("--").replace("-", "_") + "s",
        action="extend",
        type=split_list,
        metavar=f"{item}[,{item}...]",
        default=[],
        help=help_text,
    )


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    root = _Parser(
        prog=prog,
        description="Keep an ECR pull credential fresh in a Secrets Manager secret.",
        formatter_class=_Formatter,
    )
    commands = root.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser(
        "refresh",
        help="write a fresh ECR credential into the secret",
        epilog=LIST_FLAGS_HELP,
        formatter_class=_Formatter,
    )
    _secret(refresh)
    _list_flag(
        refresh,
        FLAG_NAMES.regions,
        "REGION",
        "ECR regions to fetch a token for (default: the secret's region)",
    )
    _list_flag(
        refresh,
        FLAG_NAMES.registry_ids,
        "ACCOUNT",
        "registry account IDs to list in the docker config (default: your own)",
    )
    _list_flag(
        refresh,
        FLAG_NAMES.endpoint_types,
        "TYPE",
        f"registry endpoints to write hosts for: {', '.join(ENDPOINT_TYPES)}; default: ipv4",
    )
    refresh.add_argument(
        FLAG_NAMES.ecr_public,
        dest="ecr_public",
        action="store_true",
        help="also write ECR Public's hosts (public.ecr.aws; ecr-public.aws.com with a dual-stack "
        "type), with a token from us-east-1",
    )
    _list_flag(
        refresh,
        FLAG_NAMES.probe_images,
        "IMAGE",
        "images to pull-check with the new credential before writing",
    )
    _run_options(refresh)

    repair = commands.add_parser(
        "repair",
        help="remove a stale AWSPENDING label that blocks new rotations",
        formatter_class=_Formatter,
    )
    _secret(repair)
    repair.add_argument(
        "--dry-run",
        action="store_true",
        help="only show what would be removed (with --force: also the recent labels)",
    )
    repair.add_argument(
        "--force",
        action="store_true",
        help=f"also remove AWSPENDING younger than {duration(ROTATION_IN_PROGRESS_WINDOW)}",
    )
    _run_options(repair)
    return root


def _environment_region() -> str | None:
    """AWS_REGION (as the AWS CLI v2 and Lambda have it; botocore reads only AWS_DEFAULT_REGION),
    else botocore's own (AWS_DEFAULT_REGION, the profile's)."""
    return os.environ.get("AWS_REGION") or aws.session().region_name


def _home_region(secret_id: str, region: str | None) -> str:
    """The region the command works in: the ARN's, else --region, else the environment's."""
    partitions, version = aws.partitions(), aws.botocore_version()
    if region is not None:
        parse_region(region, partitions, FLAG_NAMES.home_region, botocore_version=version)
    match = SECRET_ARN_PATTERN.match(secret_id)
    if match and region and region != match["region"]:
        raise ConfigError(
            f"{FLAG_NAMES.home_region} {region} is not the region of the secret's ARN "
            f"({match['region']}): drop {FLAG_NAMES.home_region}, or give the secret's ARN in "
            f"{region}"
        )
    if match:
        return match["region"]
    if region:
        return region
    configured = _environment_region()
    if not configured:
        raise ConfigError(
            f"no region: give the secret's ARN, pass {FLAG_NAMES.home_region}, or set one in "
            f"your environment ({ENVIRONMENT_REGION})"
        )
    return parse_region(
        configured,
        partitions,
        f"the region of your environment ({ENVIRONMENT_REGION})",
        botocore_version=version,
    )


Run = Callable[[Deadline], dict[str, object]]


def _checked_run(args: argparse.Namespace) -> Run:
    """The run the command line asks for, every value checked first (and the environment's
    region): a ConfigError here is a usage error, since nothing has run."""
    secret_id = parse_secret_id(args.secret_id, FLAG_NAMES)
    home_region = _home_region(secret_id, args.region)
    if args.command == "repair":
        return partial(
            repair_pending, secret_id, home_region, dry_run=args.dry_run, force=args.force
        )
    settings = build_settings(
        secret_id=secret_id,
        regions=args.ecr_regions,
        registry_ids=args.registry_ids,
        endpoint_types=args.endpoint_types,
        ecr_public=args.ecr_public,
        probe_images=args.probe_images,
        log_level=args.log_level,
        default_region=home_region,
        partitions=aws.partitions(),
        botocore_version=aws.botocore_version(),
        names=FLAG_NAMES,
    )
    transport = HttpsTransport(ca_bundle=aws.ca_bundle) if settings.probe_images else None

    def refresh(deadline: Deadline) -> dict[str, object]:
        return refresh_secret(
            settings, transport, deadline, user_agent=aws.USER_AGENT
        ).to_response()

    return refresh


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    try:
        args, log_level, run = _command_line(argv, prog)
    except UsageError as e:
        sys.stderr.write(f"{e.format_usage()}{e.prog}: error: {e}\n")
        return 2
    log_format = args.log_format or ("text" if sys.stderr.isatty() else "json")
    with logs_to(sys.stderr, log_format):
        configure_logging(log_level)
        return _started(run, Deadline.within(args.timeout))


def _command_line(
    argv: Sequence[str] | None, prog: str | None
) -> tuple[argparse.Namespace, str, Run]:
    """The parsed arguments, the log level and the run they ask for, every value checked; a
    UsageError otherwise (nothing has run)."""
    args, unknown = parser(prog).parse_known_args(argv)
    if unknown:  # told with the usage of the command they were given to, not the program's
        raise UsageError(
            f"unrecognized arguments: {' '.join(unknown)}", args.format_usage, args.prog
        )
    try:
        return args, parse_log_level(args.log_level, FLAG_NAMES), _checked_run(args)
    except ConfigError as e:
        raise UsageError(str(e), args.format_usage, args.prog) from e


def _started(run: Run, deadline: Deadline) -> int:
    """A run: its result as JSON on stdout, or its failure as the last log line."""
    try:
        result = run(deadline)
    except RotatorError as e:
        _log_failure(e, deadline.elapsed(), exit_code=1)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _log_failure(error: RotatorError, elapsed: float, *, exit_code: int) -> None:
    logger.error(
        "run failed: %s", error, extra={**failure_fields(error, elapsed), "exit_code": exit_code}
    )

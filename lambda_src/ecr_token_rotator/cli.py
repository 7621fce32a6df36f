"""Operator CLI: run a refresh by hand, or repair a rotation stuck on a stale AWSPENDING.

    ecr-token-rotator refresh --secret-id ID [--region R] [--ecr-region R ...]
                              [--registry-id ACCOUNT ...] [--endpoint-type TYPE ...]
                              [--ecr-public] [--probe-image IMAGE ...] [--timeout SECONDS]
    ecr-token-rotator repair  --secret-id ID [--region R] [--dry-run] [--force]
                              [--timeout SECONDS]

(`python -m ecr_token_rotator` is the same program.) Credentials come from the usual AWS
environment (profile, variables). `--region` means the same in both commands: the region of a
secret given by name (an ARN names its own region, and a different `--region` is an error),
default: the environment's region (AWS_REGION, AWS_DEFAULT_REGION, the profile's); `refresh` also
fetches its token there unless `--ecr-region` lists the ECR regions.

The result is printed as JSON on stdout; logs are JSON lines on stderr, the last one `run_failed`
when the run fails. Exit status: 0 done, 1 the run failed (nothing was published), 2 bad
arguments or configuration. `--timeout` bounds the whole run the way a Lambda invocation's
timeout does (AWS call timeouts and attempts follow from it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import aws
from .config import (
    FLAG_NAMES,
    SECRET_ARN_PATTERN,
    build_settings,
    parse_log_level,
    parse_region,
    parse_secret_id,
)
from .deadline import DEFAULT_TIMEOUT_SECONDS, RESERVE_SECONDS, Deadline
from .endpoints import ENDPOINT_TYPES
from .errors import ConfigError, RotatorError
from .observability import configure_logging, failure_fields, json_logs_to
from .probe import HttpsTransport
from .refresh import refresh_secret
from .repair import ROTATION_IN_PROGRESS_WINDOW, repair_pending

logger = logging.getLogger(__name__)

LOG_LEVEL_HELP = (
    "DEBUG, INFO (default), WARNING or ERROR: the least severe JSON log line printed on stderr "
    "(boto3's and botocore's own logs stay at WARNING: they would show tokens)"
)


class UsageError(ConfigError):
    """The command line itself is wrong (argparse's complaint)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Argument errors end like every other error: one JSON log line (see `main`)."""
        raise UsageError(f"{message} (see {self.prog} --help)")


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


def _common(command: argparse.ArgumentParser) -> None:
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
    command.add_argument(
        "--timeout",
        type=_timeout,
        default=float(DEFAULT_TIMEOUT_SECONDS),
        metavar="SECONDS",
        help=f"seconds the whole run may take (default {DEFAULT_TIMEOUT_SECONDS})",
    )
    command.add_argument("--log-level", default="INFO", metavar="LEVEL", help=LOG_LEVEL_HELP)


def parser(prog: str | None = None) -> argparse.ArgumentParser:
    root = _Parser(
        prog=prog,
        description="Keep an ECR pull credential fresh in a Secrets Manager secret.",
    )
    commands = root.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="write a fresh ECR credential into the secret")
    _common(refresh)
    refresh.add_argument(
        FLAG_NAMES.regions,
        dest="ecr_regions",
        action="append",
        metavar="REGION",
        default=[],
        help="ECR region to fetch a token for (repeatable; default: the secret's region)",
    )
    refresh.add_argument(
        FLAG_NAMES.registry_ids,
        dest="registry_ids",
        action="append",
        metavar="ACCOUNT",
        default=[],
        help="registry account ID to list in the docker config (repeatable; default: your own)",
    )
    refresh.add_argument(
        FLAG_NAMES.endpoint_types,
        dest="endpoint_types",
        action="append",
        metavar="TYPE",
        default=[],
        help=f"registry endpoint to write hosts for (repeatable): {', '.join(ENDPOINT_TYPES)}; "
        "default: ipv4",
    )
    refresh.add_argument(
        FLAG_NAMES.ecr_public,
        dest="ecr_public",
        action="store_true",
        help="also write ECR Public's hosts (public.ecr.aws; ecr-public.aws.com with a dual-stack "
        "type), with a token from us-east-1",
    )
    refresh.add_argument(
        FLAG_NAMES.probe_images,
        dest="probe_images",
        action="append",
        metavar="IMAGE",
        default=[],
        help="image to pull-check with the new credential before writing (repeatable)",
    )

    repair = commands.add_parser(
        "repair", help="remove a stale AWSPENDING label that blocks new rotations"
    )
    _common(repair)
    repair.add_argument(
        "--dry-run",
        action="store_true",
        help="only show what would be removed (with --force: also the recent labels)",
    )
    repair.add_argument(
        "--force",
        action="store_true",
        help=f"also remove AWSPENDING younger than {ROTATION_IN_PROGRESS_WINDOW}",
    )
    return root


ENVIRONMENT_REGION = "AWS_REGION, AWS_DEFAULT_REGION or the profile's region"


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


def _run(args: argparse.Namespace, deadline: Deadline) -> dict[str, object]:
    secret_id = parse_secret_id(args.secret_id, FLAG_NAMES)
    home_region = _home_region(secret_id, args.region)
    if args.command == "refresh":
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
        return refresh_secret(
            settings, transport, deadline, user_agent=aws.USER_AGENT
        ).to_response()
    return repair_pending(secret_id, home_region, deadline, dry_run=args.dry_run, force=args.force)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    with json_logs_to(sys.stderr):
        return _main(argv, prog)


def _main(argv: Sequence[str] | None, prog: str | None) -> int:
    configure_logging("INFO")
    try:
        args = parser(prog).parse_args(argv)
        configure_logging(parse_log_level(args.log_level, FLAG_NAMES))
    except ConfigError as e:
        _log_failure(e, 0.0, exit_code=2)
        return 2
    deadline = Deadline.within(args.timeout)
    try:
        result = _run(args, deadline)
    except ConfigError as e:
        _log_failure(e, deadline.elapsed(), exit_code=2)
        return 2
    except RotatorError as e:
        _log_failure(e, deadline.elapsed(), exit_code=1)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _log_failure(error: RotatorError, elapsed: float, *, exit_code: int) -> None:
    logger.error(
        "run failed: %s", error, extra={**failure_fields(error, elapsed), "exit_code": exit_code}
    )

"""Operator CLI: run a refresh by hand, or repair a rotation stuck on a stale AWSPENDING.

    python -m ecr_token_rotator refresh --secret-id ID [--region R ...] [--registry-id ACCOUNT ...]
                                        [--probe-image IMAGE ...] [--timeout SECONDS]
    python -m ecr_token_rotator repair  --secret-id ID [--region R] [--dry-run] [--force]
                                        [--timeout SECONDS]

Credentials and the default region come from the usual AWS environment (profile, variables).
The result is printed as JSON on stdout; logs go to stderr. Exit status: 0 done, 1 the run
failed (nothing was published), 2 bad arguments or configuration. `--timeout` bounds the whole
run the way a Lambda invocation's timeout does (AWS call timeouts and attempts follow from it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import aws
from .config import build_settings, parse_log_level, parse_secret_id, region_of_secret
from .deadline import DEFAULT_TIMEOUT_SECONDS, RESERVE_SECONDS, Deadline
from .errors import ConfigError, RotatorError
from .observability import configure_logging
from .probe import HttpsTransport
from .refresh import refresh_secret
from .repair import ROTATION_IN_PROGRESS_WINDOW, repair_pending


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecr_token_rotator",
        description="Keep an ECR pull credential fresh in a Secrets Manager secret.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    refresh = commands.add_parser("refresh", help="write a fresh ECR credential into the secret")
    refresh.add_argument("--secret-id", required=True, help="name or ARN of the secret")
    refresh.add_argument(
        "--region", action="append", default=[], help="ECR region (repeatable; default: yours)"
    )
    refresh.add_argument(
        "--registry-id",
        action="append",
        default=[],
        help="registry account ID to list in the docker config (repeatable)",
    )
    refresh.add_argument(
        "--probe-image",
        action="append",
        default=[],
        help="image to pull-check with the new credential before writing (repeatable)",
    )
    repair = commands.add_parser(
        "repair", help="remove a stale AWSPENDING label that blocks new rotations"
    )
    repair.add_argument("--secret-id", required=True, help="name or ARN of the secret")
    repair.add_argument("--region", help="the secret's region (default: the ARN's, or yours)")
    repair.add_argument("--dry-run", action="store_true", help="only show what would be removed")
    repair.add_argument(
        "--force",
        action="store_true",
        help=f"also remove AWSPENDING younger than {ROTATION_IN_PROGRESS_WINDOW}",
    )
    for command in (refresh, repair):
        command.add_argument(
            "--timeout",
            type=_timeout,
            default=float(DEFAULT_TIMEOUT_SECONDS),
            help=f"seconds the whole run may take (default {DEFAULT_TIMEOUT_SECONDS})",
        )
        command.add_argument("--log-level", default="INFO")
    return parser


def _run(args: argparse.Namespace) -> dict[str, object]:
    deadline = Deadline.within(args.timeout)
    default_region = aws.session().region_name
    if args.command == "refresh":
        settings = build_settings(
            secret_id=args.secret_id,
            regions=args.region,
            registry_ids=args.registry_id,
            probe_images=args.probe_image,
            log_level=args.log_level,
            default_region=default_region,
            partitions=aws.partitions(),
            botocore_version=aws.botocore_version(),
        )
        configure_logging(settings.log_level)
        transport = HttpsTransport(ca_bundle=aws.ca_bundle) if settings.probe_images else None
        return refresh_secret(
            settings, transport, deadline, user_agent=aws.USER_AGENT
        ).to_response()
    configure_logging(parse_log_level(args.log_level))
    secret_id = parse_secret_id(args.secret_id)
    region = region_of_secret(secret_id, args.region or default_region)
    return repair_pending(secret_id, region, deadline, dry_run=args.dry_run, force=args.force)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _run(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RotatorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0

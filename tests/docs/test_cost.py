"""docs/cost.md: every number follows from the module's defaults (variables.tf), what the function
measurably does per run (its AWS calls and log volume, counted here under moto) and the prices the
page states. Change a default, a call or a price and the page must follow, and so must the
README's one line of cost.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import pytest

from ecr_token_rotator import observability
from ecr_token_rotator.document import MAX_REGISTRY_HOSTS
from tests.conftest import ACCOUNT_ID, REGION, Harness
from tests.support.faults import on_function_calls
from tests.support.secrets_manager_model import STEPS, RotationService
from tools.terraform.hcl import MODULE_DIR, labelled, literal, load, variables

TEXT = " ".join((MODULE_DIR / "docs" / "cost.md").read_text().split())
README_TOP = (MODULE_DIR / "README.md").read_text().splitlines()[:60]

# us-east-1 on demand, as the section states them (and the page it links for each).
HOURS_PER_MONTH = 730
LAMBDA_REQUEST = 0.20 / 1_000_000
LAMBDA_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
SECRET_MONTH = 0.40
SECRETS_MANAGER_CALL = 0.05 / 10_000
ALARM_MONTH = 0.10  # per alarm metric: a metric math alarm pays for each metric it reads
SCHEDULER_INVOCATION = 1.00 / 1_000_000
SCHEDULER_FREE_INVOCATIONS = 14_000_000
CUSTOM_METRIC_MONTH = 0.30
LOG_GB_INGESTED = 0.50
KMS_FREE_REQUESTS = 20_000
# The section's budget for one run, billed (the INIT phase included), and for Lambda's own log
# records of an invocation (platform.start, platform.report and the like, in JSON).
RUN_SECONDS = 1
LOG_BUDGET_BYTES = 4 * 1024
LAMBDA_RECORDS_BYTES = 1024
LAMBDA_ENVELOPE_BYTES = 120  # what Lambda's JSON log format adds to each record (requestId, ...)
ESO_READS_AT_1H = HOURS_PER_MONTH


def money(amount: float) -> str:
    """Cents to two decimals; smaller amounts to their first significant digit."""
    if amount >= 0.01:
        return f"${amount:.2f}"
    digits = -math.floor(math.log10(amount))
    return f"${amount:.{digits}f}"


def default(name: str) -> object:
    return literal(variables()[name]["default"])


def runs_per_month(expression: str) -> float:
    number, unit = re.fullmatch(r"rate\((\d+) (hours?|minutes?)\)", expression).groups()
    hours = int(number) / (60 if unit.startswith("minute") else 1)
    return HOURS_PER_MONTH / hours


@pytest.fixture
def refresh(harness: Harness, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture):
    """One scheduled refresh, as the module's defaults run it."""
    return scheduled_refresh(harness, capsys, caplog)


def scheduled_refresh(
    harness: Harness,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    **settings: str,
) -> tuple[Counter[tuple[str, str]], int, list[str]]:
    """One scheduled refresh with the module's defaults and these settings of the function:
    (the function's AWS calls by (service, operation), the bytes it logs, the metric names it
    emits)."""
    calls: Counter[tuple[str, str]] = Counter()
    on_function_calls("after-call", lambda event_name, **_: calls.update([_call(event_name)]))
    arn = harness.create_secret()  # as the module creates it: no value yet
    harness.configure(SECRET_ID=arn, LOG_LEVEL=str(default("log_level")), **settings)
    harness.invoke()  # the apply-time invocation writes the first value
    capsys.readouterr()
    calls.clear()
    caplog.clear()
    harness.invoke({"source": "aws.events", "detail-type": "Scheduled Event"})
    formatter = observability.JsonFormatter()
    logged = sum(len(formatter.format(record)) + LAMBDA_ENVELOPE_BYTES for record in caplog.records)
    stdout = capsys.readouterr().out
    (metric_document,) = [json.loads(line) for line in stdout.splitlines() if "_aws" in line]
    metrics = metric_document["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    # A copy: the hook keeps counting whatever the function does next.
    return Counter(calls), logged + len(stdout.encode()), [metric["Name"] for metric in metrics]


def _call(event_name: str) -> tuple[str, str]:
    _, service, operation = event_name.split(".")
    return service, operation


@pytest.fixture
def rotation(harness: Harness) -> Counter[tuple[str, str]]:
    """The function's AWS calls during one native rotation (all four steps)."""
    calls: Counter[tuple[str, str]] = Counter()
    on_function_calls("after-call", lambda event_name, **_: calls.update([_call(event_name)]))
    service = RotationService(ACCOUNT_ID, REGION)
    arn = harness.create_secret("rotated-credential", value={"registry": "seeded"})
    service.enable(arn)
    harness.configure(SECRET_ID=arn)
    service.run(arn, service.start(arn), harness.invoke)
    return calls


def secrets_manager(calls: Counter[tuple[str, str]]) -> int:
    return sum(count for (service, _), count in calls.items() if service == "secrets-manager")


def test_the_section_exists_and_dates_its_prices():
    assert TEXT.startswith("# Cost "), "docs/cost.md"
    assert "Prices as of 2026-11-30, us-east-1" in TEXT
    assert "check the pricing pages" in TEXT


def alarms_per_month() -> float:
    """What the default alarms cost a month: one alarm metric each (errors, expiry, and with the
    default engine the schedule alarm; a metric math alarm would cost one per metric it reads)."""
    alarms = [name for kind, name, _ in labelled(load(MODULE_DIR / "alarms.tf"), "resource")]
    assert sorted(alarms) == ["errors", "expiry", "schedule"]
    assert "enabled = optional(bool, true)" in str(variables()["alarms"]["type"])
    assert default("schedule_engine") == "scheduler"
    # each alarm reads one metric: none is a metric math alarm, which is billed per metric
    assert "metric_query" not in (MODULE_DIR / "alarms.tf").read_text()
    alarm_cost = len(alarms) * ALARM_MONTH
    assert (
        f"{len(alarms)} alarms (errors, expiry, schedule; periods of 1 hour, 1 minute and 1 hour): "
        f"{money(alarm_cost)} |"
    ) in TEXT
    return alarm_cost


def test_the_defaults_numbers_follow_from_the_module_and_the_function(refresh):
    calls, log_bytes, metric_names = refresh
    schedule = str(default("schedule_expression"))
    runs = runs_per_month(schedule)
    gigabytes = int(default("lambda_memory_size")) / 1024
    architecture = str(default("lambda_architecture"))
    assert default("trigger_mode") == "schedule"
    memory = default("lambda_memory_size")
    assert f"schedule mode `{schedule}`, {architecture} with {memory} MB" in TEXT
    assert f"730 / 6 = **{round(runs)} runs a month**" in TEXT

    # Lambda
    requests = runs * LAMBDA_REQUEST
    gb_seconds = runs * RUN_SECONDS * gigabytes
    duration = gb_seconds * LAMBDA_GB_SECOND[architecture]
    assert f"| $0.20 per million | {round(runs)} requests: {money(requests)} |" in TEXT
    assert (
        f"| Lambda duration ({architecture}) | ${LAMBDA_GB_SECOND[architecture]:.10f}".rstrip("0")
        + " per GB-second | "
        f"{round(runs)} runs x {RUN_SECONDS} s x {gigabytes} GB = {round(gb_seconds)} GB-s: "
        f"{money(duration)} |"
    ) in TEXT

    # Secrets Manager: the calls the function really makes, as the contract lists them
    per_run = secrets_manager(calls)
    operations = sorted(operation for service, operation in calls if service == "secrets-manager")
    assert operations == ["GetSecretValue", "PutSecretValue", "UpdateSecretVersionStage"]
    assert set(calls) - {("secrets-manager", op) for op in operations} == {
        ("ecr", "GetAuthorizationToken")
    }
    assert "four calls for one region" in (MODULE_DIR / "docs" / "contract.md").read_text()
    assert sum(calls.values()) == 4
    assert f"three to Secrets Manager (`{'`, `'.join(operations)}`)" in TEXT
    function_calls = per_run * runs * SECRETS_MANAGER_CALL
    assert (
        f"the function: {per_run} per run = {round(per_run * runs)} calls: {money(function_calls)}"
    ) in TEXT
    eso = ESO_READS_AT_1H * SECRETS_MANAGER_CALL
    assert f"{ESO_READS_AT_1H} at `1h`: {money(eso)} each" in TEXT

    # CloudWatch: the module's alarms, the metrics the function emits, what it logs
    alarm_cost = alarms_per_month()
    metric_cost = len(metric_names) * CUSTOM_METRIC_MONTH * runs / HOURS_PER_MONTH
    assert f"`{'` and `'.join(metric_names)}`, data in {round(runs)} of 730 hours: " in TEXT
    assert f"{money(metric_cost)} |" in TEXT
    assert log_bytes + LAMBDA_RECORDS_BYTES <= LOG_BUDGET_BYTES, log_bytes
    log_megabytes = runs * LOG_BUDGET_BYTES / 1024**2
    logs = log_megabytes / 1024 * LOG_GB_INGESTED
    assert f"at most {LOG_BUDGET_BYTES // 1024} KB per run" in TEXT
    assert f"{log_megabytes:.2f} MB: {money(logs)}" in TEXT
    retention = default("cloudwatch_log_group_retention_in_days")
    assert f"`cloudwatch_log_group_retention_in_days` ({retention})" in TEXT

    # KMS: Secrets Manager encrypts each write and decrypts each read (the AWS managed key)
    assert default("secret_kms_key_arn") is None
    kms_requests = round(2 * runs)
    assert f"{kms_requests} requests, plus {ESO_READS_AT_1H} per ExternalSecret" in TEXT
    assert kms_requests + ESO_READS_AT_1H < KMS_FREE_REQUESTS

    # EventBridge Scheduler: one invocation per run, within the account's free tier
    assert runs < SCHEDULER_FREE_INVOCATIONS
    assert (
        f"$1.00 per million invocations after 14 million free a month (per account) | "
        f"{round(runs)} invocations (and any retries): $0, "
        f"{money(runs * SCHEDULER_INVOCATION)} beyond the free tier |"
    ) in TEXT

    total = SECRET_MONTH + function_calls + alarm_cost + metric_cost + requests + duration + logs
    assert f"**{money(total)}**, plus {money(eso)} per ExternalSecret" in TEXT
    # The rule engine: no schedule alarm, and EventBridge rules are free.
    rule_total = total - ALARM_MONTH
    assert f'{money(rule_total)} with `schedule_engine = "rule"` (no schedule alarm)' in TEXT
    assert f"{money(SECRET_MONTH + function_calls + requests + duration + logs)} where" in TEXT


def test_the_readmes_one_line_of_cost_is_this_pages_total():
    """The README's line near its top: the total the test above holds to the measurements, what
    the largest part of it is, and what each replica adds."""
    total = re.search(r"\*\*total\*\* \| \| \*\*\$(\d+\.\d\d)\*\*", TEXT)
    assert total, "docs/cost.md has no total line"
    lines = [
        " ".join(README_TOP[i : i + 2]) for i, text in enumerate(README_TOP) if "**Cost**" in text
    ]
    assert len(lines) == 1, "one line of cost within the README's first 60 lines"
    (line,) = lines
    assert f"about ${total[1]} a month with the defaults" in line, line
    assert f"{money(SECRET_MONTH)} of it the secret" in line, line
    assert SECRET_MONTH / float(total[1]) >= 0.45  # about half of it: the largest item
    assert f"each replica region adds {money(SECRET_MONTH)}" in line, line
    assert f"+{money(SECRET_MONTH)}: a replica is billed as a secret" in TEXT


def test_the_scaling_numbers_follow_from_the_same_measurements(refresh, rotation):
    calls, _, metric_names = refresh
    per_run = secrets_manager(calls)
    gigabytes = int(default("lambda_memory_size")) / 1024
    price = LAMBDA_GB_SECOND[str(default("lambda_architecture"))]

    def lambda_cost(invocations: float) -> float:
        return invocations * (LAMBDA_REQUEST + RUN_SECONDS * gigabytes * price)

    # A shorter schedule: every hour has data, so each metric costs a full metric-month.
    runs = runs_per_month("rate(30 minutes)")
    logs = runs * LOG_BUDGET_BYTES / 1024**3 * LOG_GB_INGESTED
    assert (
        f"{round(runs)} runs: Lambda {money(lambda_cost(runs))}, Secrets Manager calls "
        f"{money(runs * per_run * SECRETS_MANAGER_CALL)}, custom metrics "
        f"{money(len(metric_names) * CUSTOM_METRIC_MONTH)} (data every hour), logs {money(logs)}"
    ) in TEXT

    # Rotation mode: four invocations per rotation, the calls measured over all four steps.
    rotations = runs_per_month(str(default("rotation_schedule_expression")))
    per_rotation = secrets_manager(rotation)
    assert rotation[("ecr", "GetAuthorizationToken")] == 1
    assert (
        f"{len(STEPS)} invocations and {per_rotation} Secrets Manager calls per rotation (plus one "
        f"`GetAuthorizationToken`): {round(len(STEPS) * rotations)} invocations "
        f"({money(lambda_cost(len(STEPS) * rotations))}) and {round(per_rotation * rotations)} "
        f"calls ({money(per_rotation * rotations * SECRETS_MANAGER_CALL)})"
    ) in TEXT

    # ESO at refreshInterval 5m, and every run waiting out the timeout.
    assert f"{money(ESO_READS_AT_1H * 12 * SECRETS_MANAGER_CALL)} at `5m`" in TEXT
    runs = runs_per_month(str(default("schedule_expression")))
    timeout = int(default("lambda_timeout"))
    gb_seconds = runs * timeout * gigabytes
    assert (
        f"at most {round(runs)} x {timeout} s x {gigabytes} GB = {round(gb_seconds)} GB-s: "
        f"{money(gb_seconds * price)}"
    ) in TEXT
    assert f"+{money(SECRET_MONTH)}: a replica is billed as a secret" in TEXT


def test_the_log_budget_holds_at_the_host_bound(harness, capsys, caplog):
    # Endpoint types multiply the hosts, and the run's log lines list them (`run_complete`):
    # 3 regions x 2 registry accounts x 2 endpoint types is the bound, with the longest names.
    regions = ("us-east-1", "us-west-2", "eu-central-1")
    registry_ids = (ACCOUNT_ID, "210987654321")
    types = ("ipv4", "dualstack")
    assert len(regions) * len(registry_ids) * len(types) == MAX_REGISTRY_HOSTS
    _, log_bytes, _ = scheduled_refresh(
        harness,
        capsys,
        caplog,
        ECR_REGIONS=",".join(regions),
        ECR_REGISTRY_IDS=",".join(registry_ids),
        ECR_ENDPOINT_TYPES=",".join(types),
    )
    assert log_bytes + LAMBDA_RECORDS_BYTES <= LOG_BUDGET_BYTES, log_bytes
    assert (
        f"a run's logs still fit the {LOG_BUDGET_BYTES // 1024} KB budget at the "
        f"{MAX_REGISTRY_HOSTS}-host bound"
    ) in TEXT


def test_money_reads_like_the_section():
    assert [money(x) for x in (0.7024, 0.4, 0.0018, 0.0000243, 0.0004056)] == [
        "$0.70",
        "$0.40",
        "$0.002",
        "$0.00002",
        "$0.0004",
    ]

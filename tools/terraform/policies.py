"""The module's IAM policies as Terraform renders them, for every mode/feature combination.

One root module with one `module` block per combination, applied offline once per process
(tools/terraform/harness.py), gives each `aws_iam_policy_document` of each call: the provider's
own rendering, read back from the state. The function's policies are rendered for an existing
secret (ARN below) unless replicated; replicas (function or ESO read policy) need a created one.
The apply identity's policy (output apply_identity_policy_json) covers the features that add to it;
the role EventBridge Scheduler assumes (schedule_engine = "scheduler") has its policy.

    combinations()            every Combination (label, module inputs)
    render(combinations)      {label: {document name: policy}}, rendered once per process
    policy_of(combination)    the policy a combination is about (function or ESO read)
    function_policies()       {trigger mode: the function role's policy}
    apply_invocation_inputs() {trigger mode: the payload of the apply-time invocation}
    scheduled_invocation_input()  the payload EventBridge Scheduler sends (schedule mode)

Raises harness.Unavailable where terraform or the offline provider is absent.
"""

from __future__ import annotations

import copy
import itertools
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tools.terraform import harness

ACCOUNT_ID = "123456789012"
REGION = "eu-central-1"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:ecr-token-rotator-AbCdEf"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICA_KMS_KEY_ARN = KMS_KEY_ARN.replace(REGION, "eu-west-1")
VPC_CONFIG = {"subnet_ids": ["subnet-0abc1234"], "security_group_ids": ["sg-0abc1234"]}
DESTINATION_ARNS = {
    "sqs": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:ecr-token-rotator-failures",
    "sns": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ecr-token-rotator-failures",
    "lambda": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ecr-token-rotator-failures",
    "events": f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/ecr-token-rotator-failures",
    "s3": "arn:aws:s3:::ecr-token-rotator-failures",
}
# The Scheduler's dead-letter queue (schedule_dead_letter_arn).
DEAD_LETTER_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:ecr-token-rotator-dead-letters"
# What consumers do with the token: pull through two cache rules, list tags; pulls narrowed to a
# team's repositories, so that tag listing covers the cache's repositories too.
PULL_THROUGH_CACHE_PREFIXES = ["docker-hub", "ecr-public"]
TEAM_REPOSITORY_ARNS = [f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/team-a/*"]


@dataclass(frozen=True)
class Combination:
    policy: str  # "function", "eso_read", "apply_identity" or "scheduler" (the data source's name)
    mode: str = ""  # trigger mode of the function
    kms: bool = False
    tracing: bool = False
    vpc: bool = False
    destination: str | None = None  # kind of on-failure destination (DESTINATION_ARNS key)
    replica: bool = False  # a created secret replicated under a customer-managed key
    ecr_public: bool = False  # ECR Public's token too
    consumers: bool = False  # pull-through cache prefixes and tag listing (narrowed pulls)
    pod_identity: bool = False  # ESO role with an EKS Pod Identity association
    engine: str = "scheduler"  # schedule_engine in schedule mode
    dead_letter: bool = False  # Scheduler's dead-letter queue (schedule_dead_letter_arn)

    @property
    def label(self) -> str:
        if self.policy == "eso_read":
            return "eso_read" + ("+kms+replica" if self.kms else "")
        if self.policy == "scheduler":
            return self.policy + ("+dead-letter" if self.dead_letter else "")
        if self.policy == "apply_identity":
            features = [
                name
                for name, on in (
                    ("kms", self.kms),
                    ("replica", self.replica),
                    ("vpc", self.vpc),
                    ("pod-identity", self.pod_identity),
                    ("rule", self.mode == "schedule" and self.engine == "rule"),
                )
                if on
            ]
            return "+".join([f"apply_identity:{self.mode}", *features])
        features = [
            name
            for name, on in (
                ("kms", self.kms),
                ("replica", self.replica),
                ("tracing", self.tracing),
                ("vpc", self.vpc),
                ("ecr-public", self.ecr_public),
                ("pull-through-cache+list-tags", self.consumers),
            )
            if on
        ]
        if self.destination:
            features.append(f"destination-{self.destination}")
        return "+".join([f"function:{self.mode}", *features])

    @property
    def call(self) -> str:
        """The module block's name: the label as a Terraform identifier."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.label)

    def _schedule(self) -> dict[str, Any]:
        """The schedule engine's inputs, where they differ from the defaults."""
        inputs: dict[str, Any] = {}
        if self.engine != "scheduler":
            inputs["schedule_engine"] = self.engine
        if self.dead_letter:
            inputs["schedule_dead_letter_arn"] = DEAD_LETTER_ARN
        return inputs

    def module_inputs(self) -> dict[str, Any]:
        if self.policy == "eso_read":
            if not self.kms:
                return {"create_secret": False, "secret_arn": SECRET_ARN}
            return {
                "secret_kms_key_arn": KMS_KEY_ARN,
                "secret_replicas": [{"region": "eu-west-1", "kms_key_arn": REPLICA_KMS_KEY_ARN}],
            }
        inputs: dict[str, Any] = {"trigger_mode": self.mode or "schedule", **self._schedule()}
        if self.pod_identity:
            inputs.update(
                create_eso_role=True,
                eso_pod_identity=True,
                eso_pod_identity_cluster_name="platform",
            )
        if self.replica:
            inputs["secret_replicas"] = [
                {"region": "eu-west-1", "kms_key_arn": REPLICA_KMS_KEY_ARN}
            ]
        else:
            inputs.update(create_secret=False, secret_arn=SECRET_ARN)
        if self.kms:
            inputs["secret_kms_key_arn"] = KMS_KEY_ARN
        if self.tracing:
            inputs["enable_xray_tracing"] = True
        if self.vpc:
            inputs["vpc_config"] = VPC_CONFIG
        if self.destination:
            inputs["on_failure_destination_arn"] = DESTINATION_ARNS[self.destination]
        if self.ecr_public:
            inputs["ecr_public"] = True
        if self.consumers:
            inputs.update(
                ecr_repository_arns=TEAM_REPOSITORY_ARNS,
                ecr_pull_through_cache_prefixes=PULL_THROUGH_CACHE_PREFIXES,
                ecr_list_tags=True,
            )
        return inputs


def combinations() -> list[Combination]:
    found = []
    for mode in ("schedule", "rotation"):
        # Rotation invocations are synchronous: a destination is refused there by a precondition.
        destinations = [None, *DESTINATION_ARNS] if mode == "schedule" else [None]
        for kms, tracing, vpc in itertools.product((False, True), repeat=3):
            for destination in destinations:
                found.append(Combination("function", mode, kms, tracing, vpc, destination))
        found.append(Combination("function", mode, kms=True, replica=True))
        found.append(Combination("function", mode, ecr_public=True))
        found.append(Combination("function", mode, consumers=True))
    found += [Combination("eso_read"), Combination("eso_read", kms=True)]
    # What the identity running apply needs: each feature that adds a statement (a created secret
    # under customer-managed keys, VPC mode, the Pod Identity association), in both modes.
    for mode in ("schedule", "rotation"):
        found += [
            Combination("apply_identity", mode),
            Combination("apply_identity", mode, kms=True, replica=True),
            Combination("apply_identity", mode, vpc=True, pod_identity=True),
        ]
    found.append(Combination("apply_identity", "schedule", engine="rule"))
    # The role EventBridge Scheduler assumes: its policy without and with a dead-letter queue (its
    # trust policy names a principal, not resources: tests/terraform/iam.tftest.hcl asserts it).
    found += [Combination("scheduler"), Combination("scheduler", dead_letter=True)]
    return found


@cache
def _rendered(
    selection: tuple[Combination, ...], *, invocations: bool = False
) -> harness.RenderedModules:
    calls = {combination.call: combination.module_inputs() for combination in selection}
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-policies-") as tmp:
        return harness.render_modules(calls, Path(tmp), invocations=invocations)


def render(selection: tuple[Combination, ...]) -> dict[str, dict[str, dict[str, Any]]]:
    """{label: {document name: policy}} for these combinations, rendered once per process."""
    documents = _rendered(selection).documents
    return {combination.label: documents[combination.call] for combination in selection}


def policy_of(
    combination: Combination, rendered: dict[str, dict[str, dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The policy a combination is about: the function role's, the ESO read policy or the apply
    identity's (a copy: the rendering is cached)."""
    documents = (rendered or render((combination,)))[combination.label]
    return copy.deepcopy(documents[combination.policy])


MODES = (Combination("function", "schedule"), Combination("function", "rotation"))


def function_policies() -> dict[str, dict[str, Any]]:
    """The function role's policy in each trigger mode, every optional feature off."""
    # Rendered with the invocations: the same rendering serves apply_invocation_inputs().
    documents = _rendered(MODES, invocations=True).documents
    return {
        combination.mode: copy.deepcopy(documents[combination.call]["function"])
        for combination in MODES
    }


def apply_invocation_inputs() -> dict[str, Any]:
    """{trigger mode: the payload of the module's apply-time invocation}, as Terraform plans it."""
    inputs = _rendered(MODES, invocations=True).invocation_inputs
    return {combination.mode: inputs[combination.call] for combination in MODES}


def scheduled_invocation_input() -> Any:
    """The payload EventBridge Scheduler sends the function (schedule mode, the default engine),
    as Terraform plans the schedule."""
    schedule = MODES[0]
    return _rendered(MODES, invocations=True).schedule_inputs[schedule.call]

"""What `terraform apply` of an example would render into its manifests, computed offline.

No AWS account, provider binary or Terraform run is possible here, so an example is evaluated
the way Terraform would evaluate it (`tests.terraform.hcl_eval`):

- the example's variables at their defaults, its `provider "aws"` regions;
- its module call's arguments, evaluated in the example; they become the inputs of the module at
  the repository root, whose outputs are evaluated from the module's own HCL (so `registry_hosts`,
  `secret_name`, `eso_role_arn` are what the module computes, not a copy);
- resource attributes only AWS knows after apply are derived from the resource's arguments the
  way AWS builds them (ARNs from names, regions and the account), with a fixed placeholder for
  what is random (the 6-character suffix of a secret ARN, a KMS key ID, an OIDC issuer ID);
- `templatefile()` renders with `tests.examples.tftpl`.

The account is EXAMPLE_ACCOUNT_ID. An attribute or construct this file does not model stops with
`Unsupported` (never a silent null inside try()), so a new reference in an example fails loudly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.examples import tftpl
from tests.terraform import hcl_eval
from tests.terraform.hcl_eval import Module, Unsupported, decode, evaluate
from tests.terraform.hcl_policies import MODULE_DIR, module

EXAMPLES_DIR = MODULE_DIR / "examples"
EXAMPLE_ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"
SECRET_ARN_SUFFIX = "AbCdEf"  # Secrets Manager appends 6 random characters to a secret's ARN
OIDC_ISSUER_ID = "EXAMPLED539D4633E53DE1B71EXAMPLE"  # the issuer ID AWS's own docs use
MODULE_CALL_META_ARGUMENTS = {"source", "version", "providers", "count", "for_each", "depends_on"}


def example_names() -> list[str]:
    return sorted(path.parent.name for path in EXAMPLES_DIR.glob("*/main.tf"))


class Instance(Mapping[str, Any]):
    """One resource or data source instance: known attributes, Unsupported for any other.

    `hcl_eval` reads attributes with `name in target` then `target[name]`; answering every name
    with True and raising Unsupported here keeps try() from turning a missing model into null."""

    def __init__(self, address: str, attributes: Mapping[str, Any]) -> None:
        self.address = address
        self.attributes = dict(attributes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> Any:
        if key not in self.attributes:
            raise Unsupported(f"{self.address}.{key} is not modelled in offline_apply.py")
        value = self.attributes[key]
        return value() if callable(value) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self.attributes)

    def __len__(self) -> int:
        return len(self.attributes)


@dataclass(frozen=True)
class Where:
    """Account, partition and the region of the provider a block uses."""

    region: str
    account_id: str = EXAMPLE_ACCOUNT_ID
    partition: str = PARTITION
    dns_suffix: str = DNS_SUFFIX

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


Argument = Callable[[str], Any]  # an argument of the block, evaluated (None when absent)


def _name(arg: Argument, key: str = "name") -> str:
    value = arg(key)
    if value is None and arg(f"{key}_prefix") is not None:
        value = f"{arg(f'{key}_prefix')}20260101000000000000000001"  # what Terraform appends
    if not isinstance(value, str):
        raise Unsupported(f"cannot tell the {key} of this block")
    return value


def _key_id(address: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"example-kms-key/{address}"))


def _secret(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    arn = at.arn("secretsmanager", f"secret:{name}-{SECRET_ARN_SUFFIX}")
    return {"name": name, "arn": arn, "id": arn}


def _iam(kind: str) -> Callable[[Argument, Where, str], dict[str, Any]]:
    def attributes(arg: Argument, at: Where, _: str) -> dict[str, Any]:
        name = _name(arg)
        path = arg("path") or "/"
        return {
            "name": name,
            "id": name,
            "arn": at.arn("iam", f"{kind}{path}{name}", regional=False),
        }

    return attributes


def _lambda(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg, "function_name")
    return {"function_name": name, "arn": at.arn("lambda", f"function:{name}")}


def _log_group(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    return {"name": name, "arn": at.arn("logs", f"log-group:{name}")}


def _event_rule(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    return {"name": name, "arn": at.arn("events", f"rule/{name}")}


def _alarm(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg, "alarm_name")
    return {"alarm_name": name, "arn": at.arn("cloudwatch", f"alarm:{name}")}


def _rotation(_arg: Argument, _at: Where, _address: str) -> dict[str, Any]:
    return {"rotation_enabled": True}


def _pod_identity(arg: Argument, at: Where, address: str) -> dict[str, Any]:
    cluster = arg("cluster_name")
    association = "a-" + uuid.uuid5(uuid.NAMESPACE_URL, address).hex[:17]
    return {
        "association_id": association,
        "association_arn": at.arn("eks", f"podidentityassociation/{cluster}/{association}"),
    }


def _kms_key(_arg: Argument, at: Where, address: str) -> dict[str, Any]:
    key_id = _key_id(address)
    return {"key_id": key_id, "id": key_id, "arn": at.arn("kms", f"key/{key_id}")}


def _sns_topic(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    arn = at.arn("sns", name)
    return {"name": name, "arn": arn, "id": arn}


def _sqs_queue(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    url = f"https://sqs.{at.region}.{at.dns_suffix}/{at.account_id}/{name}"
    return {"name": name, "arn": at.arn("sqs", name), "url": url, "id": url}


def _caller_identity(_arg: Argument, at: Where, _: str) -> dict[str, Any]:
    return {"account_id": at.account_id, "id": at.account_id}


def _partition(_arg: Argument, at: Where, _: str) -> dict[str, Any]:
    return {"partition": at.partition, "dns_suffix": at.dns_suffix, "id": at.partition}


def _region(_arg: Argument, at: Where, _: str) -> dict[str, Any]:
    # Provider 6 shape: `region`, and the deprecated `name` (the module reads either).
    return {"region": at.region, "name": at.region, "id": at.region}


def _eks_cluster(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    name = _name(arg)
    issuer = f"https://oidc.eks.{at.region}.{at.dns_suffix}/id/{OIDC_ISSUER_ID}"
    return {
        "name": name,
        "arn": at.arn("eks", f"cluster/{name}"),
        "identity": [{"oidc": [{"issuer": issuer}]}],
    }


def _oidc_provider(arg: Argument, at: Where, _: str) -> dict[str, Any]:
    url = arg("url")
    if not isinstance(url, str):
        raise Unsupported("data.aws_iam_openid_connect_provider is looked up by url here")
    host_path = url.removeprefix("https://")
    return {"url": host_path, "arn": at.arn("iam", f"oidc-provider/{host_path}", regional=False)}


RESOURCES: dict[str, Callable[[Argument, Where, str], dict[str, Any]]] = {
    "aws_secretsmanager_secret": _secret,
    "aws_iam_role": _iam("role"),
    "aws_iam_user": _iam("user"),
    "aws_iam_group": _iam("group"),
    "aws_lambda_function": _lambda,
    "aws_cloudwatch_log_group": _log_group,
    "aws_cloudwatch_event_rule": _event_rule,
    "aws_cloudwatch_metric_alarm": _alarm,
    "aws_secretsmanager_secret_rotation": _rotation,
    "aws_eks_pod_identity_association": _pod_identity,
    "aws_kms_key": _kms_key,
    "aws_sns_topic": _sns_topic,
    "aws_sqs_queue": _sqs_queue,
}
DATA_SOURCES: dict[str, Callable[[Argument, Where, str], dict[str, Any]]] = {
    "aws_caller_identity": _caller_identity,
    "aws_partition": _partition,
    "aws_region": _region,
    "aws_eks_cluster": _eks_cluster,
    "aws_iam_openid_connect_provider": _oidc_provider,
}


@contextmanager
def _templatefile() -> Iterator[None]:
    """Make templatefile() available to hcl_eval while an example is evaluated."""
    if "templatefile" in hcl_eval.FUNCTIONS:
        raise Unsupported("hcl_eval already defines templatefile()")
    hcl_eval.FUNCTIONS["templatefile"] = tftpl.templatefile
    try:
        yield
    finally:
        del hcl_eval.FUNCTIONS["templatefile"]


def _provider_alias(body: Mapping[str, Any]) -> str | None:
    raw = body.get("provider")
    if raw is None:
        return None
    match = re.fullmatch(r"\$\{aws\.([A-Za-z0-9_-]+)\}", str(raw))
    if match is None:
        raise Unsupported(f"provider meta-argument {raw!r}")
    return match.group(1)


@dataclass
class Blocks:
    """Resources and data sources of one module, as lazily built evaluation references."""

    module: Module
    regions: Mapping[str | None, str]  # provider alias (None: default) -> region
    scope: dict[str, Any] = field(default_factory=dict)  # filled in once the scope exists

    def _instances(self, kind: str, block_type: str, name: str, body: dict) -> Any:
        table = RESOURCES if kind == "resource" else DATA_SOURCES
        address = f"{'data.' if kind == 'data' else ''}{block_type}.{name}"
        if block_type not in table:
            raise Unsupported(f"{address}: no model of {block_type} in offline_apply.py")
        if "for_each" in body:
            raise Unsupported(f"{address}: for_each")
        at = Where(region=self.regions[_provider_alias(body)])

        def arg(key: str) -> Any:
            return evaluate(decode(body[key]), self.scope) if key in body else None

        def build() -> Instance:
            return Instance(address, table[block_type](arg, at, address))

        if "count" not in body:
            return build()
        count = evaluate(decode(body["count"]), self.scope)
        return [build() for _ in range(int(count))]

    def references(self) -> dict[str, Any]:
        refs: dict[str, Any] = {"data": {}}
        for kind in ("resource", "data"):
            for (block_type, name), body in self.module.labelled(kind).items():
                if kind == "resource" and not block_type.startswith("aws_"):
                    continue  # local_file and the like: nothing reads their attributes
                target = refs["data"] if kind == "data" else refs
                target.setdefault(block_type, {})[name] = (
                    lambda k=kind, t=block_type, n=name, b=body: self._instances(k, t, n, b)
                )
        return refs


@dataclass
class Example:
    """One example directory, evaluated as `terraform apply` with its default variables."""

    name: str

    @property
    def path(self) -> Path:
        return EXAMPLES_DIR / self.name

    @cached_property
    def hcl(self) -> Module:
        return Module(self.path)

    @cached_property
    def regions(self) -> dict[str | None, str]:
        """Region of each `provider "aws"` configuration, by alias (None: the default one)."""
        scope = self.hcl.scope({})
        regions: dict[str | None, str] = {}
        for content in self.hcl.files.values():
            for provider in content.get("provider", []):
                for label, body in provider.items():
                    if label.strip('"') != "aws":
                        continue
                    alias = evaluate(decode(body["alias"]), {}) if "alias" in body else None
                    regions[alias] = evaluate(decode(body["region"]), scope)
        if None not in regions:
            raise Unsupported(f'examples/{self.name} has no default provider "aws" with a region')
        return regions

    @cached_property
    def module_call(self) -> tuple[str, dict[str, Any]]:
        """(name, body) of the example's one call of the module at the repository root."""
        calls = [
            (label.strip('"'), body)
            for content in self.hcl.files.values()
            for block in content.get("module", [])
            for label, body in block.items()
        ]
        if len(calls) != 1:
            raise Unsupported(f"examples/{self.name} must call the module exactly once")
        name, body = calls[0]
        if evaluate(decode(body["source"]), {}) != "../..":
            raise Unsupported(f"examples/{self.name}: module source is not ../..")
        for meta in ("providers", "count", "for_each"):
            if meta in body:
                raise Unsupported(f"examples/{self.name}: module call with {meta}")
        return name, body

    @cached_property
    def scope(self) -> dict[str, Any]:
        """The example's scope; `module.<call>.<output>` evaluates the module's output."""
        name, _ = self.module_call
        outputs = {
            output: (lambda value=block["value"]: evaluate(decode(value), self.module_scope))
            for output, block in module().outputs.items()
        }
        blocks = Blocks(self.hcl, self.regions)
        scope = self.hcl.scope({}, {**blocks.references(), "module": {name: outputs}})
        blocks.scope.update(scope)
        return scope

    @cached_property
    def module_inputs(self) -> dict[str, Any]:
        """The module call's arguments, evaluated in the example: the module's variables."""
        _, body = self.module_call
        return {
            key: evaluate(decode(raw), self.scope)
            for key, raw in body.items()
            if not key.startswith("__") and key not in MODULE_CALL_META_ARGUMENTS
        }

    @cached_property
    def module_references(self) -> dict[str, Any]:
        """References of the module at the root: its blocks, in the example's default region."""
        blocks = Blocks(module(), {None: self.regions[None]})
        references = blocks.references()
        blocks.scope.update(module().scope(self.module_inputs, references))
        return references

    @cached_property
    def module_scope(self) -> dict[str, Any]:
        return module().scope(self.module_inputs, self.module_references)

    def local(self, name: str) -> Any:
        with _templatefile():
            return self.scope["local"][name]()

    def manifests(self) -> dict[str, str]:
        """`local.eso_manifests`: file name -> rendered manifest text."""
        manifests = self.local("eso_manifests")
        if not isinstance(manifests, dict) or not all(
            isinstance(text, str) for text in manifests.values()
        ):
            raise Unsupported(f"examples/{self.name}: local.eso_manifests is not a map of strings")
        return manifests

    def module_errors(self) -> list[str]:
        """What Terraform would reject in the module call: validations and preconditions."""
        errors: list[str] = []
        for name, value in self.module_inputs.items():
            errors += [f"var.{name}: {message}" for message in module().validate(name, value)]
        for kind in ("resource", "data"):
            for address in module().labelled(kind):
                errors += [
                    f"{'.'.join(address)}: {message}"
                    for message in module().preconditions(
                        kind, address, self.module_inputs, self.module_references
                    )
                ]
        return errors

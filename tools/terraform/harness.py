"""The real `terraform`, offline: the module's `terraform test` suites, every example applied, and
the IAM policies Terraform renders, on both hashicorp/aws majors (5.100.0 and 6.47.0).

No registry and no AWS: ../shared/tools/offline_aws_provider serves the real provider schemas
(see its README). Where `terraform` (>= 1.11, the stand-in's minimum) or ../shared is absent,
`Unavailable` says why; the command line prints it and exits 0, pytest skips with it. Real users
have neither and run the same suites with the real provider (CONTRIBUTING.md).

    python -m tools.terraform.harness module-tests [--major 5] [--major 6]
    python -m tools.terraform.harness examples [--major 5] [--major 6] [--update-rendered]

`module-tests` runs `terraform test -test-directory=tests/terraform` (plus tests/terraform/
provider-<major>) in a copy of the module pinned to one major. The copy is needed because the
pin is an `*_override.tf` file beside the module's own. For these suites, one provider process
serves every run (Terraform's TF_REATTACH_PROVIDERS): starting the stand-in costs ~0.6 s, twice
per run block otherwise. Examples (several provider configurations) start theirs as usual.

`examples` runs, for each example and major: init, validate, plan, apply, and a second plan
that must show no changes (`-detailed-exitcode` 0). Examples with required variables get the
fake but well-formed inputs of tests/examples/inputs/<example>.tfvars. The manifests the apply
writes (manifests/generated/) must equal the committed manifests/rendered/ (after their header);
`--update-rendered` rewrites those from the 6.x apply instead.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tools.terraform.hcl import labelled, module_files

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SHARED", REPO.parent / "shared")).resolve()
OFFLINE_PROVIDER = SHARED / "tools" / "offline_aws_provider"
# setup.sh's own default: one setup serves every checkout on the machine.
OFFLINE_DIR = Path(
    os.environ.get("OFFLINE_AWS_PROVIDER_DIR", Path(tempfile.gettempdir()) / "offline-aws-provider")
)
PROVIDER_VERSIONS = {5: "5.100.0", 6: "6.47.0"}
MAJORS = tuple(PROVIDER_VERSIONS)
MINIMUM_TERRAFORM = (1, 11)
TEST_DIRECTORY = "tests/terraform"
EXAMPLES = REPO / "examples"
EXAMPLE_INPUTS = REPO / "tests" / "examples" / "inputs"
RENDERED = Path("manifests") / "rendered"
GENERATED = Path("manifests") / "generated"
OVERRIDE_FILE = "zz_offline_provider_override.tf"
# go-plugin's handshake cookie for Terraform providers (a constant of Terraform itself).
PLUGIN_COOKIE = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
)
RENDERED_HEADER = (
    "# Rendered by `make manifests` (terraform apply of this example with the offline provider,\n"
    "# account 123456789012, inputs: tests/examples/inputs/). `terraform apply` writes your\n"
    "# copy to manifests/generated/.\n"
)


class Unavailable(Exception):
    """Terraform or the offline provider is not here: the reason, for a skip message."""


class TerraformFailed(Exception):
    def __init__(
        self, command: Sequence[str], cwd: Path, result: subprocess.CompletedProcess
    ) -> None:
        super().__init__(
            f"terraform {' '.join(command)} (in {cwd}) exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
        self.result = result


# ---- terraform and the offline provider ---------------------------------------------------------


@dataclass(frozen=True)
class Terraform:
    binary: str
    env: Mapping[str, str]

    def run(
        self,
        *args: str,
        cwd: Path,
        extra_env: Mapping[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [self.binary, *args],
            cwd=cwd,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode not in ok_codes:
            raise TerraformFailed(args, cwd, result)
        return result


def _version(binary: str) -> tuple[int, ...]:
    raw = subprocess.run(
        [binary, "version", "-json"], capture_output=True, text=True, check=False
    ).stdout
    try:
        text = json.loads(raw)["terraform_version"]
    except (ValueError, KeyError):
        return ()
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


_SETUP = threading.Lock()


def set_up_offline_provider() -> None:
    """Run ../shared's setup.sh into OFFLINE_DIR (it rebuilds the mirror every time)."""
    setup = OFFLINE_PROVIDER / "setup.sh"
    if not setup.is_file():
        raise Unavailable(f"{setup} is absent (the offline provider lives beside the project)")
    result = subprocess.run(
        ["bash", str(setup), str(OFFLINE_DIR)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise Unavailable(f"{setup} failed:\n{result.stdout}{result.stderr}")


def offline_provider_ready() -> bool:
    """Whether OFFLINE_DIR already holds what setup.sh would write for this ../shared: its pinned
    venv, and launchers that run this provider.py. setup.sh deletes and rewrites the mirror, so
    running it while another process's terraform uses that mirror breaks that run (make test and
    make scan-iam run side by side in CI): it runs only when something is missing or stale."""
    setup = OFFLINE_PROVIDER / "setup.sh"
    pins = (
        re.search(r'^PINS="([^"]*)"', setup.read_text(), re.MULTILINE) if setup.is_file() else None
    )
    installed = OFFLINE_DIR / "venv" / ".pins"
    if pins is None or not installed.is_file() or installed.read_text().strip() != pins.group(1):
        return False
    launchers = [
        *OFFLINE_DIR.glob("mirror/*/hashicorp/aws/*/*/terraform-provider-aws_v*_x5"),
        *OFFLINE_DIR.glob("mirror/*/hashicorp/local/*/*/terraform-provider-local_v*_x5"),
    ]
    provider = str(OFFLINE_PROVIDER / "provider.py")
    return (
        (OFFLINE_DIR / "terraformrc").is_file()
        and len(launchers) == len(PROVIDER_VERSIONS) + 1
        and all(provider in launcher.read_text() for launcher in launchers)
    )


def offline_terraform() -> Terraform:
    """The terraform on PATH, configured for the offline provider (set up once per process,
    whichever thread asks first)."""
    with _SETUP:
        return _offline_terraform()


@cache
def _offline_terraform() -> Terraform:
    binary = shutil.which("terraform")
    if binary is None:
        raise Unavailable("no `terraform` on PATH")
    version = _version(binary)
    if version < MINIMUM_TERRAFORM:
        raise Unavailable(
            f"terraform {'.'.join(map(str, version)) or '?'} is older than "
            f"{'.'.join(map(str, MINIMUM_TERRAFORM))}, which the offline provider needs"
        )
    if not offline_provider_ready():
        set_up_offline_provider()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TF_", "AWS_")) or key == "TF_LOG"
    }
    env.update(
        TF_CLI_CONFIG_FILE=str(OFFLINE_DIR / "terraformrc"),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        AWS_REGION="eu-central-1",  # the stand-in's region where a provider block sets none
    )
    return Terraform(binary, env)


@contextmanager
def reattached_provider(major: int) -> Iterator[dict[str, str]]:
    """One stand-in process for hashicorp/aws, to be shared by every run of `terraform test`.

    Only for configurations with a single aws provider configuration: the stand-in keeps one
    region per process."""
    version = PROVIDER_VERSIONS[major]
    launchers = sorted(
        OFFLINE_DIR.glob(f"mirror/*/hashicorp/aws/{version}/*/terraform-provider-aws_v{version}_x5")
    )
    if not launchers:
        raise Unavailable(f"no offline hashicorp/aws {version} under {OFFLINE_DIR}/mirror")
    env = {
        **offline_terraform().env,
        PLUGIN_COOKIE[0]: PLUGIN_COOKIE[1],
        "PLUGIN_PROTOCOL_VERSIONS": "5",
    }
    env.pop("PLUGIN_CLIENT_CERT", None)  # plain gRPC on loopback, as reattached plugins speak
    process = subprocess.Popen(
        [str(launchers[0])], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        # go-plugin's handshake line: core version|plugin version|network|address|protocol
        line = process.stdout.readline() if process.stdout else ""
        core, plugin, network, address, *_ = [*line.strip().split("|"), "", "", "", ""]
        if not (core and plugin and address) or network != "tcp":
            raise Unavailable(f"the offline provider's handshake was {line.strip()!r}")
        reattach = {
            "registry.terraform.io/hashicorp/aws": {
                "Protocol": "grpc",
                "ProtocolVersion": 5,
                "Pid": process.pid,
                "Test": True,
                "Addr": {"Network": "tcp", "String": address},
            }
        }
        yield {"TF_REATTACH_PROVIDERS": json.dumps(reattach)}
    finally:
        process.terminate()
        process.wait(timeout=10)


# ---- copies of the module --------------------------------------------------------------------


def _ignore(directory: str, names: list[str]) -> set[str]:
    ignored = {".terraform", ".terraform.lock.hcl", "terraform.tfstate", "generated"}
    return {
        name
        for name in names
        if name in ignored
        or name.endswith((".tfstate", ".tfstate.backup", ".tfplan", ".py"))
        or name == "__pycache__"
    }


def copy_module(destination: Path, major: int) -> Path:
    """The module's Terraform (with its zip, test suites and examples) in `destination`, every
    root of it pinned to hashicorp/aws `major`."""
    destination.mkdir(parents=True, exist_ok=True)
    for path in REPO.glob("*.tf"):
        shutil.copy2(path, destination / path.name)
    (destination / "dist").mkdir(exist_ok=True)
    shutil.copy2(REPO / "dist" / "ecr-token-rotator.zip", destination / "dist")
    shutil.copytree(
        REPO / TEST_DIRECTORY, destination / TEST_DIRECTORY, ignore=_ignore, dirs_exist_ok=True
    )
    shutil.copytree(EXAMPLES, destination / "examples", ignore=_ignore, dirs_exist_ok=True)
    for root in [destination, *(destination / "examples").iterdir()]:
        if (root / "main.tf").is_file():
            pin_provider(root, major)
    return destination


def pin_provider(root: Path, major: int) -> None:
    (root / OVERRIDE_FILE).write_text(
        "# Written by tools/terraform/harness.py: this copy runs on one provider release.\n"
        "terraform {\n  required_providers {\n"
        f'    aws = {{ source = "hashicorp/aws", version = "{PROVIDER_VERSIONS[major]}" }}\n'
        "  }\n}\n"
    )


# ---- the module's terraform test suites ------------------------------------------------------


def suite_directories(major: int) -> list[str]:
    return [TEST_DIRECTORY, f"{TEST_DIRECTORY}/provider-{major}"]


def run_module_tests(major: int, workdir: Path) -> str:
    """`terraform validate` of the module, then `terraform test` of every suite, on one major;
    the output, or TerraformFailed."""
    terraform = offline_terraform()
    module = copy_module(workdir / f"module-{major}", major)
    release = PROVIDER_VERSIONS[major]
    output = []
    with reattached_provider(major) as reattach:
        for directory in suite_directories(major):
            terraform.run(
                "init", "-no-color", "-backend=false", f"-test-directory={directory}", cwd=module
            )
            if not output:
                validate = terraform.run("validate", "-no-color", cwd=module, extra_env=reattach)
                output.append(f"# hashicorp/aws {release}: terraform validate\n{validate.stdout}")
            result = terraform.run(
                "test", "-no-color", f"-test-directory={directory}", cwd=module, extra_env=reattach
            )
            output.append(f"# hashicorp/aws {release}: {directory}\n{result.stdout}")
    return "\n".join(output)


# ---- examples ----------------------------------------------------------------------------------


def example_names() -> list[str]:
    return sorted(path.parent.name for path in EXAMPLES.glob("*/main.tf"))


@dataclass
class AppliedExample:
    """One example after apply: its outputs, its state and the manifests it wrote."""

    name: str
    major: int
    outputs: dict[str, Any]
    state: dict[str, Any]
    generated: dict[str, str]  # relative path under manifests/generated -> text
    log: list[str] = field(default_factory=list)

    def _walk(self) -> Iterator[dict[str, Any]]:
        modules = [self.state.get("values", {}).get("root_module", {})]
        while modules:
            module = modules.pop()
            yield from module.get("resources", [])
            modules += module.get("child_modules", [])

    def resources(self, address: str) -> list[dict[str, Any]]:
        """State values of every instance at `address` (without instance keys), e.g.
        "module.ecr_token_rotator.aws_iam_role.eso" or "aws_iam_group_policy.eso"."""
        return [
            resource["values"]
            for resource in self._walk()
            if re.sub(r"\[[^\]]*\]", "", resource["address"]) == address
        ]

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        """State values of every managed resource of a type, in any module."""
        return [
            resource["values"]
            for resource in self._walk()
            if resource["mode"] == "managed" and resource["type"] == resource_type
        ]


@contextmanager
def provider_for(root: Path, major: int) -> Iterator[dict[str, str]]:
    """A shared stand-in process where the configuration has one aws provider configuration (the
    stand-in keeps one region per process); Terraform starts its own otherwise."""
    aliased = any(re.search(r"^\s*alias\s*=", path.read_text(), re.M) for path in root.glob("*.tf"))
    if aliased:
        yield {}
        return
    with reattached_provider(major) as reattach:
        yield reattach


def example_inputs(name: str) -> list[str]:
    inputs = EXAMPLE_INPUTS / f"{name}.tfvars"
    return [f"-var-file={inputs}"] if inputs.is_file() else []


def apply_example(
    name: str, major: int, workdir: Path, variant: Mapping[str, Any] | None = None
) -> AppliedExample:
    """init, validate, plan, apply, plan again (no changes) of examples/<name> on one major.
    `variant`: values for some of the example's variables (an *.auto.tfvars.json file beside its
    *.tf), applied in a tree of its own."""
    terraform = offline_terraform()
    tree = workdir / f"{name}-{major}{'-variant' if variant else ''}"
    if not tree.exists():
        copy_module(tree, major)
    root = tree / "examples" / name
    if variant:
        (root / "zz_variant.auto.tfvars.json").write_text(json.dumps(variant), encoding="utf-8")
    log = []
    variables = example_inputs(name)
    terraform.run("init", "-no-color", "-backend=false", cwd=root)
    log.append("terraform init: ok")
    with provider_for(root, major) as reattach:
        for command in (
            ["validate", "-no-color"],
            ["plan", "-no-color", "-out=tfplan", *variables],
            ["apply", "-no-color", "tfplan"],
        ):
            terraform.run(*command, cwd=root, extra_env=reattach)
            log.append(f"terraform {' '.join(command)}: ok")
        second = terraform.run(
            "plan",
            "-no-color",
            "-detailed-exitcode",
            *variables,
            cwd=root,
            extra_env=reattach,
            ok_codes=(0, 2),
        )
        if second.returncode != 0:
            raise AssertionError(
                f"examples/{name} on hashicorp/aws {PROVIDER_VERSIONS[major]}: the plan after "
                f"apply is not empty:\n{second.stdout}"
            )
        log.append("terraform plan -detailed-exitcode: no changes")
        state = json.loads(terraform.run("show", "-json", cwd=root, extra_env=reattach).stdout)
    outputs = {key: value["value"] for key, value in state["values"].get("outputs", {}).items()}
    generated_dir = root / GENERATED
    generated = {
        path.relative_to(generated_dir).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(generated_dir.rglob("*"))
        if path.is_file()
    }
    return AppliedExample(name, major, outputs, state, generated, log)


def rendered_copies(name: str) -> dict[str, str]:
    """The committed manifests/rendered/ of an example, without their header."""
    root = EXAMPLES / name / RENDERED
    copies = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            copies[path.relative_to(root).as_posix()] = text.removeprefix(RENDERED_HEADER)
    return copies


def stale_rendered(applied: AppliedExample) -> list[str]:
    """Where the committed rendered copies differ from what the apply wrote."""
    committed = rendered_copies(applied.name)
    where = f"examples/{applied.name}/{RENDERED}"
    problems = [f"{where}/{path}: missing" for path in applied.generated if path not in committed]
    problems += [
        f"{where}/{path}: not written by terraform apply"
        for path in committed
        if path not in applied.generated
    ]
    problems += [
        f"{where}/{path}: differs from what terraform apply writes"
        for path, text in applied.generated.items()
        if path in committed and committed[path] != text
    ]
    return problems


def write_rendered(applied: AppliedExample) -> None:
    root = EXAMPLES / applied.name / RENDERED
    if root.exists():
        shutil.rmtree(root)
    for path, text in applied.generated.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(RENDERED_HEADER + text, encoding="utf-8")


# ---- policies as Terraform renders them --------------------------------------------------------


@dataclass
class RenderedModules:
    """What Terraform renders for each module call: {call: {document name: policy}} of its
    aws_iam_policy_document data sources, the input of its apply-time invocation, and the input
    its EventBridge Scheduler schedule sends (calls with a schedule only)."""

    documents: dict[str, dict[str, dict[str, Any]]]
    invocation_inputs: dict[str, Any]
    schedule_inputs: dict[str, Any] = field(default_factory=dict)


@cache
def policy_document_names() -> tuple[str, ...]:
    """The module's aws_iam_policy_document data sources, by name."""
    return tuple(
        name
        for content in module_files(REPO).values()
        for kind, name, _ in labelled(content, "data")
        if kind == "aws_iam_policy_document"
    )


def init_root(
    directory: Path,
    major: int,
    *,
    providers: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    modules: Mapping[str, Mapping[str, Any]],
    outputs: Mapping[str, Any] | None = None,
) -> Path:
    """A root module (main.tf.json) in `directory` with these aws provider configurations and
    calls of this checkout's module ({call: inputs}), pinned to hashicorp/aws `major`, after
    `terraform init`."""
    directory.mkdir(parents=True, exist_ok=True)
    source = os.path.relpath(REPO, directory)
    configuration: dict[str, Any] = {
        "terraform": {
            "required_providers": {
                "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSIONS[major]}
            }
        },
        "provider": {"aws": providers},
        "module": {call: {"source": source, **inputs} for call, inputs in modules.items()},
    }
    if outputs:  # Terraform refuses an empty "output" object
        configuration["output"] = outputs
    (directory / "main.tf.json").write_text(json.dumps(configuration, indent=2))
    offline_terraform().run("init", "-no-color", "-backend=false", cwd=directory)
    return directory


def render_modules(
    calls: Mapping[str, Mapping[str, Any]],
    workdir: Path,
    major: int = 6,
    *,
    invocations: bool = False,
) -> RenderedModules:
    """Every aws_iam_policy_document the module renders (with `invocations`, also the inputs of
    its apply-time invocation and of its Scheduler schedule), for each call's inputs: one root
    module with one module block per call, planned offline and read back from the plan. Only
    those and what they depend on are planned (-target): the rest would cost Terraform time and
    change nothing. Calls whose documents are known only after apply (a created secret's ARN)
    are then applied in a root of their own (Terraform evaluates every module call of a root,
    targeted or not) and read back from its state."""
    terraform = offline_terraform()
    names = policy_document_names()

    def targets(selected: Iterable[str]) -> list[str]:
        return [
            address
            for call in selected
            for address in (
                *(f"-target=module.{call}.data.aws_iam_policy_document.{name}" for name in names),
                *(
                    [
                        f"-target=module.{call}.aws_lambda_invocation.this",
                        f"-target=module.{call}.aws_scheduler_schedule.this",
                    ]
                    if invocations
                    else []
                ),
            )
        ]

    def root(name: str, selected: Iterable[str]) -> Path:
        return init_root(
            workdir / f"{name}-{major}",
            major,
            providers={"region": "eu-central-1"},
            modules={call: calls[call] for call in selected},
        )

    planned = root("policies", calls)
    with reattached_provider(major) as reattach:
        terraform.run(
            "plan", "-no-color", "-out=tfplan", *targets(calls), cwd=planned, extra_env=reattach
        )
        plan = json.loads(
            terraform.run("show", "-json", "tfplan", cwd=planned, extra_env=reattach).stdout
        )
        documents = _policy_documents(plan.get("prior_state", {}), calls)
        pending = [call for call, found in documents.items() if "function" not in found]
        if pending:
            applied = root("policies-applied", pending)
            terraform.run(
                "apply",
                "-no-color",
                "-auto-approve",
                *targets(pending),
                cwd=applied,
                extra_env=reattach,
            )
            state = terraform.run("show", "-json", cwd=applied, extra_env=reattach).stdout
            documents.update(_policy_documents(json.loads(state), pending))
    modules = plan["planned_values"]["root_module"].get("child_modules", [])
    return RenderedModules(
        documents,
        _planned_inputs(modules, "aws_lambda_invocation", lambda values: values["input"]),
        _planned_inputs(
            modules, "aws_scheduler_schedule", lambda values: values["target"][0]["input"]
        ),
    )


def _planned_inputs(
    modules: list[dict[str, Any]], resource_type: str, json_input: Callable[[dict[str, Any]], str]
) -> dict[str, Any]:
    """{call: the JSON input the call's resource of `resource_type` sends}, read from planned
    values with `json_input`."""
    return {
        module["address"].removeprefix("module."): json.loads(json_input(resource["values"]))
        for module in modules
        for resource in module.get("resources", [])
        if resource["type"] == resource_type
    }


def _policy_documents(
    state: Mapping[str, Any], calls: Iterable[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The rendered policy documents of each module call in a state (or a plan's prior state)."""
    documents: dict[str, dict[str, dict[str, Any]]] = {call: {} for call in calls}
    for module in state.get("values", {}).get("root_module", {}).get("child_modules", []):
        call = module["address"].removeprefix("module.")
        for resource in module.get("resources", []):
            values = resource.get("values", {})
            if (
                call in documents
                and resource["mode"] == "data"
                and resource["type"] == "aws_iam_policy_document"
                and values.get("json")
            ):
                documents[call][resource["name"]] = json.loads(values["json"])
    return documents


# ---- module calls, planned: outputs, the function's environment, precondition messages ---------


@dataclass
class PlannedCalls:
    """A plan of one root module calling the module once per call, each in its own region.

    `outputs`: {call: {output name: value}}; `environments`: {call: the function's environment};
    `resources`: {call: {address in the module, e.g. "aws_cloudwatch_metric_alarm.expiry[0]": its
    planned values}}; all empty where the plan failed. `errors`: the error messages of a failed
    plan (Terraform's diagnostics name the file and line, not the module call, so they come as one
    list)."""

    outputs: dict[str, dict[str, Any]]
    environments: dict[str, dict[str, str]]
    errors: list[str]
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def plan_module_calls(
    calls: Mapping[str, tuple[str, Mapping[str, Any]]],
    workdir: Path,
    *,
    outputs: Sequence[str] = (),
    targets: Sequence[str] = ("aws_lambda_function.this",),
    major: int = 6,
) -> PlannedCalls:
    """Plan {call: (provider region, module inputs)} offline, the `targets` of each call (module
    addresses; default: the function) and what they depend on (-target): the module's logic up to
    its preconditions, in any partition the stand-in knows (aws, aws-cn, aws-us-gov). A plan that
    fails with error messages returns them rather than raising."""
    terraform = offline_terraform()
    regions = sorted({region for region, _ in calls.values()})
    alias = {region: re.sub(r"[^a-z0-9]", "_", region) for region in regions}
    directory = init_root(
        workdir / f"calls-{major}",
        major,
        providers=[{"alias": alias[region], "region": region} for region in regions],
        modules={
            call: {"providers": {"aws": f"aws.{alias[region]}"}, **inputs}
            for call, (region, inputs) in calls.items()
        },
        outputs={
            f"{call}__{name}": {"value": f"${{module.{call}.{name}}}"}
            for call in calls
            for name in outputs
        },
    )
    options = [f"-target=module.{call}.{target}" for call in calls for target in targets]
    result = terraform.run("plan", "-json", "-out=tfplan", *options, cwd=directory, ok_codes=(0, 1))
    if result.returncode != 0:
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        errors = [
            message["diagnostic"]["detail"]
            for message in messages
            if message.get("type") == "diagnostic" and message["diagnostic"]["severity"] == "error"
        ]
        if not errors:
            raise TerraformFailed(("plan", "-json"), directory, result)
        return PlannedCalls({}, {}, errors)
    plan = json.loads(terraform.run("show", "-json", "tfplan", cwd=directory).stdout)
    planned_outputs = plan["planned_values"].get("outputs", {})
    resources: dict[str, dict[str, dict[str, Any]]] = {call: {} for call in calls}
    for module in plan["planned_values"]["root_module"].get("child_modules", []):
        call = module["address"].removeprefix("module.")
        for resource in module.get("resources", []):
            address = resource["address"].removeprefix(f"{module['address']}.")
            resources[call][address] = resource["values"]
    environments = {
        call: values["environment"][0]["variables"]
        for call, planned in resources.items()
        for address, values in planned.items()
        if address.startswith("aws_lambda_function.")
    }
    return PlannedCalls(
        outputs={
            call: {name: planned_outputs[f"{call}__{name}"]["value"] for name in outputs}
            for call in calls
        },
        environments=environments,
        errors=[],
        resources=resources,
    )


# ---- command line --------------------------------------------------------------------------------


def _module_tests(majors: Sequence[int], workdir: Path) -> int:
    with ThreadPoolExecutor(max_workers=len(majors)) as pool:
        futures = {major: pool.submit(run_module_tests, major, workdir) for major in majors}
    failed = False
    for major, future in futures.items():
        try:
            print(future.result())
        except TerraformFailed as e:
            failed = True
            print(f"hashicorp/aws {PROVIDER_VERSIONS[major]}: {e}", file=sys.stderr)
    return 1 if failed else 0


def _examples(majors: Sequence[int], names: Sequence[str], workdir: Path, update: bool) -> int:
    problems: list[str] = []
    for major in majors:
        for name in names:
            label = f"examples/{name} on hashicorp/aws {PROVIDER_VERSIONS[major]}"
            try:
                applied = apply_example(name, major, workdir)
            except (TerraformFailed, AssertionError) as e:
                problems.append(f"{label}: {e}")
                continue
            print(f"{label}: " + "; ".join(applied.log))
            if update and major == max(majors):
                write_rendered(applied)
                print(f"examples/{name}/{RENDERED}: {len(applied.generated)} file(s) written")
            elif not update:
                problems += stale_rendered(applied)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and not update:
        print("rendered manifests stale? run `make manifests`", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["module-tests", "examples", "setup"])
    parser.add_argument("--major", type=int, action="append", choices=MAJORS)
    parser.add_argument("--example", action="append", help="default: every example")
    parser.add_argument("--update-rendered", action="store_true")
    args = parser.parse_args(argv)
    majors = sorted(set(args.major or MAJORS))
    try:
        if args.what == "setup":
            set_up_offline_provider()  # always: e.g. after ../shared moved
        terraform = offline_terraform()
    except Unavailable as e:
        print(f"skipped: {e}")
        return 0
    releases = ", ".join(PROVIDER_VERSIONS[major] for major in majors)
    print(f"terraform: {terraform.binary}; offline hashicorp/aws {releases}")
    if args.what == "setup":
        return 0
    with tempfile.TemporaryDirectory(prefix="ecr-token-rotator-tf-") as tmp:
        if args.what == "module-tests":
            return _module_tests(majors, Path(tmp))
        return _examples(majors, args.example or example_names(), Path(tmp), args.update_rendered)


if __name__ == "__main__":
    sys.exit(main())

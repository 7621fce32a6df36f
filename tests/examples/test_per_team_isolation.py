"""The per-team-isolation example: each team's grants are its own, as Terraform applied them
(offline, both provider majors), and each team's manifests reach only its own role.

From each team's namespace the test follows every link a read can take: the SecretStore of the
namespace, the service account it authenticates as (a namespaced store: always one of its own
namespace), the role annotated on it, the roles whose trust admits that service account, the
secrets those roles may read, and the repositories the function writing each secret may pull
(the token carries exactly its function role's ECR permissions). Each chain must end at the
team's own secret and repositories, and no grant may cover the whole registry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tools.terraform.harness import (
    EXAMPLES,
    MAJORS,
    PROVIDER_VERSIONS,
    AppliedExample,
    Unavailable,
    copy_module,
    offline_terraform,
)
from tools.terraform.hcl import MODULE_DIR

NAME = "per-team-isolation"
TEAMS = ("team-a", "team-b")  # the example's default teams
ACCOUNT_REGION = "eu-central-1:123456789012"
READER = "ecr-pull-secret-reader"


@pytest.fixture(params=MAJORS, ids=[f"aws{PROVIDER_VERSIONS[m]}" for m in MAJORS])
def example(request, applied) -> AppliedExample:
    return applied(NAME, request.param)


@dataclass
class Team:
    """One team's module call, as applied: its resources' state values by address."""

    name: str
    resources: dict[str, dict[str, Any]]

    def __getitem__(self, address: str) -> dict[str, Any]:
        return self.resources[address]

    def statements(self, address: str, attribute: str = "policy") -> list[dict[str, Any]]:
        return list(json.loads(self[address][attribute])["Statement"])


def teams(example: AppliedExample) -> dict[str, Team]:
    """The module instances of the example, by team (the for_each key)."""
    found: dict[str, Team] = {}
    for module in example.state["values"]["root_module"].get("child_modules", []):
        key = re.fullmatch(r'module\.ecr_token_rotator\["([^"]+)"\]', module["address"])
        assert key, module["address"]
        found[key.group(1)] = Team(
            key.group(1),
            {
                re.sub(
                    r"\[[^\]]*\]", "", resource["address"].removeprefix(module["address"] + ".")
                ): resource["values"]
                for resource in module.get("resources", [])
            },
        )
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def grants(statements: list[dict[str, Any]], service: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the statements allow for one service's actions."""
    return {
        (action, resource)
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        if action.startswith(f"{service}:")
        for resource in as_list(statement["Resource"])
    }


def manifests(example: AppliedExample, team: str) -> list[dict[str, Any]]:
    return [
        document
        for path, text in sorted(example.generated.items())
        if path.startswith(f"{team}/")
        for document in yaml.safe_load_all(text)
        if document
    ]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [obj for obj in objects if obj["kind"] == kind]
    return found


def test_one_module_call_and_one_manifest_directory_per_team(example):
    assert sorted(teams(example)) == list(TEAMS)
    assert {path.split("/")[0] for path in example.generated} == set(TEAMS)
    for output in ("secret_arns", "lambda_role_arns", "eso_role_arns", "ecr_repository_arns"):
        assert sorted(example.outputs[output]) == list(TEAMS), output


def test_each_function_role_pulls_only_its_teams_repositories(example):
    for name, team in teams(example).items():
        ecr = grants(team.statements("aws_iam_role_policy.this"), "ecr")
        pulled = {resource for action, resource in ecr if action != "ecr:GetAuthorizationToken"}
        own = {f"arn:aws:ecr:{ACCOUNT_REGION}:repository/{name}/*"}
        assert pulled == own, (name, pulled)
        assert set(example.outputs["ecr_repository_arns"][name]) == own
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
            assert (action, *own) in ecr
        # GetAuthorizationToken has no resource-level permissions; nothing else is on "*"
        assert {action for action, resource in ecr if resource == "*"} == {
            "ecr:GetAuthorizationToken"
        }
        assert not any(resource.endswith(":repository/*") for _, resource in ecr)


def test_each_function_writes_only_its_teams_secret(example):
    for team in teams(example).values():
        secret = team["aws_secretsmanager_secret.this"]["arn"]
        written = grants(team.statements("aws_iam_role_policy.this"), "secretsmanager")
        assert {resource for _, resource in written} == {secret}, team.name


def test_each_eso_role_reads_only_its_teams_secret_and_trusts_only_its_reader(example):
    for team in teams(example).values():
        secret = team["aws_secretsmanager_secret.this"]["arn"]
        read = grants(team.statements("aws_iam_role_policy.eso"), "secretsmanager")
        assert read == {
            ("secretsmanager:GetSecretValue", secret),
            ("secretsmanager:DescribeSecret", secret),
        }
        (trust,) = team.statements("aws_iam_role.eso", "assume_role_policy")
        subjects = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert subjects == [f"system:serviceaccount:{team.name}:{READER}"]


def test_each_teams_store_reaches_only_its_own_role(example):
    applied = teams(example)
    assert not [obj for obj in manifests_all(example) if obj["kind"] == "ClusterSecretStore"]
    for name, team in applied.items():
        objects = manifests(example, name)
        assert {obj["metadata"].get("namespace", obj["metadata"]["name"]) for obj in objects} == {
            name
        }
        store = one(objects, "SecretStore")
        ref = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]
        # a namespaced store authenticates as a service account of its own namespace only
        assert ref.get("namespace", name) == name
        account = one(objects, "ServiceAccount")
        assert account["metadata"]["name"] == ref["name"]
        role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role == team["aws_iam_role.eso"]["arn"] == example.outputs["eso_role_arns"][name]
        external = one(objects, "ExternalSecret")
        assert external["spec"]["secretStoreRef"] == {
            "kind": "SecretStore",
            "name": store["metadata"]["name"],
        }
        keys = {item["remoteRef"]["key"] for item in external["spec"]["data"]}
        assert keys == {team["aws_secretsmanager_secret.this"]["name"]}
        (container,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
        assert container["image"].split("/", 1)[1].startswith(f"{name}/")


def manifests_all(example: AppliedExample) -> list[dict[str, Any]]:
    return [obj for team in TEAMS for obj in manifests(example, team)]


def test_from_each_namespace_every_path_ends_at_the_teams_own_secret_and_images(example):
    """The chain a read can take, across every team's grants at once: whichever roles trust the
    namespace's service accounts, which secrets those may read, which repositories the tokens in
    those secrets may pull."""
    applied = teams(example)
    trusted_by = {
        team["aws_iam_role.eso"]["arn"]: {
            value
            for statement in team.statements("aws_iam_role.eso", "assume_role_policy")
            for key, value in statement["Condition"]["StringEquals"].items()
            if key.endswith(":sub")
        }
        for team in applied.values()
    }
    readable = {
        team["aws_iam_role.eso"]["arn"]: {
            resource
            for _, resource in grants(team.statements("aws_iam_role_policy.eso"), "secretsmanager")
        }
        for team in applied.values()
    }
    pullable = {
        team["aws_secretsmanager_secret.this"]["arn"]: {
            resource
            for action, resource in grants(team.statements("aws_iam_role_policy.this"), "ecr")
            if action == "ecr:BatchGetImage"
        }
        for team in applied.values()
    }
    for name, team in applied.items():
        accounts = [obj for obj in manifests(example, name) if obj["kind"] == "ServiceAccount"]
        subjects = {f"system:serviceaccount:{name}:{a['metadata']['name']}" for a in accounts}
        roles = {role for role, trusted in trusted_by.items() if trusted & subjects}
        assert roles == {team["aws_iam_role.eso"]["arn"]}, name
        secrets = set().union(*(readable[role] for role in roles))
        assert secrets == {team["aws_secretsmanager_secret.this"]["arn"]}, name
        images = set().union(*(pullable[secret] for secret in secrets))
        assert images == {f"arn:aws:ecr:{ACCOUNT_REGION}:repository/{name}/*"}, name


def test_the_readme_prices_a_team_as_the_cost_page_does():
    section = " ".join((MODULE_DIR / "docs" / "cost.md").read_text().split())
    total = re.search(r"\*\*total\*\* \| \| \*\*\$(\d+\.\d\d)\*\*, plus \$([0-9.]+) per", section)
    assert total, "docs/cost.md has no total line"
    per_team, per_external_secret = float(total.group(1)), total.group(2)
    readme = " ".join((EXAMPLES / NAME / "README.md").read_text().split())
    assert f"**${per_team:.2f} a month per team**" in readme
    assert f"plus ${per_external_secret} per `ExternalSecret`" in readme
    assert f"2 x ${per_team:.2f} = ${2 * per_team:.2f} a month" in readme
    assert f"ten teams: ${10 * per_team:.2f}" in readme


# teams values the example refuses at plan, each for one of its validations (by its message).
BAD_TEAMS = {
    "Team_A": {"repositories": ["Team_A/*"], "app_image": "team-a/api:1"},  # not a namespace
    "team-c": {"repositories": ["*"], "app_image": "team-c/api:1"},  # the whole registry
    "team-d": {"repositories": ["team-d/*"], "app_image": "team-e/api:1"},  # not its image
    "team-e": {"repositories": ["team-d/api"], "app_image": "team-d/api:1"},  # team-d's
}
REFUSALS = [
    "teams needs at least one team, each named by its namespace",
    "never a bare *, which is every repository of the registry",
    "Two teams list repositories that can name the same repository",
    "Each team's app_image must be <repository>:<tag> in one of that team's repositories",
]


def test_teams_that_would_share_or_widen_grants_are_refused_at_plan(tmp_path):
    try:
        terraform = offline_terraform()
    except Unavailable as e:
        pytest.skip(f"terraform plan: {e}")
    root = copy_module(tmp_path, 6) / "examples" / NAME
    terraform.run("init", "-no-color", "-backend=false", cwd=root)
    result = terraform.run(
        "plan",
        "-no-color",
        "-var=cluster_name=platform",
        f"-var=teams={json.dumps(BAD_TEAMS)}",
        cwd=root,
        ok_codes=(1,),
    )
    errors = " ".join(result.stderr.replace("│", " ").split())
    for refusal in REFUSALS:
        assert refusal in errors, (refusal, errors)

"""The hashicorp/aws minimum in versions.tf covers every argument and enum value the module (and
its examples) may send, and the README and the examples say the same.

The provider checks enum values (e.g. the Lambda runtime) at plan, and the offline provider does
not, so these facts come from the provider's CHANGELOG and issues, recorded below with their
references. A new runtime in lambda_runtime's validation, or a new provider feature in the HCL,
fails here until its first release is recorded.
"""

from __future__ import annotations

import re

import pytest

from tools.terraform.hcl import MODULE_DIR, literal, module_files, required_versions, variables

# A release that accepts each argument or value (the first one, where known), and the reference.
ACCEPTED_FROM = {
    "resource aws_eks_pod_identity_association": ("5.29.0", "#34566"),
    "aws_lambda_function logging_config": ("5.32.0", "#35050"),
    "aws_secretsmanager_secret_rotation rotate_immediately": ("5.33.0", "#35105"),
    # 5.75.1's runtime error in #40107 lists python3.11 and python3.12 among the accepted values.
    "runtime python3.11": ("5.75.1", "#40107"),
    "runtime python3.12": ("5.75.1", "#40107"),
    "runtime python3.13": ("5.76.0", "#40277 (5.75.1 rejects it: #40107)"),
    "runtime python3.14": ("6.20.0", "#44984 (no 5.x release accepts it)"),
}
# Above the minimum on purpose: refused at plan on older providers by a precondition, proven by
# the run named here (tests/terraform/provider-5/provider_5.tftest.hcl).
GUARDED = {"runtime python3.14": "python3_14_is_refused_on_provider_5"}
# Where each non-runtime feature appears in the module's HCL.
FEATURE_TEXT = {
    "resource aws_eks_pod_identity_association": 'resource "aws_eks_pod_identity_association"',
    "aws_lambda_function logging_config": "logging_config {",
    "aws_secretsmanager_secret_rotation rotate_immediately": "rotate_immediately",
}
EXAMPLES = sorted(path.parent for path in (MODULE_DIR / "examples").glob("*/versions.tf"))
# Runtimes Lambda has announced the end of: (deprecation, block function update), from Lambda's
# runtime table (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html) as endoflife.date's
# copy of it read it in 2026-08 (AWS moved python3.11's from 2026-06-30 / 2026-08-31 in 2026-01).
# Still allowed (a plan with one must succeed: tests/terraform/preconditions.tftest.hcl), with
# the dates in lambda_runtime's description.
RETIRING = {"python3.11": ("2027-06-30", "2027-08-31")}


def version(text: str) -> tuple[int, ...]:
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def minimum(constraint: str) -> tuple[int, ...]:
    match = re.fullmatch(r">= (\d+(?:\.\d+){0,2})", constraint)
    assert match, f"{constraint!r}: a minimum-only constraint (>= X.Y) is expected"
    return version(match.group(1))


def runtimes_the_module_may_send() -> list[str]:
    (validation,) = variables()["lambda_runtime"]["validation"]
    values = re.findall(r'"(python3\.\d+)"', validation["condition"])
    assert values, "lambda_runtime's validation lists the runtimes"
    return values


def test_every_runtime_the_module_accepts_has_a_recorded_first_release():
    default = literal(variables()["lambda_runtime"]["default"])
    assert default in runtimes_the_module_may_send()
    missing = [r for r in runtimes_the_module_may_send() if f"runtime {r}" not in ACCEPTED_FROM]
    assert missing == [], "record the first hashicorp/aws release that accepts these runtimes"


def test_a_retiring_runtime_stays_allowed_with_a_warning_in_its_description():
    description = str(literal(variables()["lambda_runtime"]["description"]))
    default = literal(variables()["lambda_runtime"]["default"])
    for runtime, dates in RETIRING.items():
        assert runtime in runtimes_the_module_may_send()
        assert runtime != default
        assert f"Warning: {runtime} runs on Amazon Linux 2" in description
        for date in dates:
            assert date in description, (runtime, date)


def test_every_recorded_feature_is_used_and_the_table_is_complete():
    text = "\n".join(path.read_text() for path in sorted(MODULE_DIR.glob("*.tf")))
    for feature, needle in FEATURE_TEXT.items():
        assert needle in text, f"{feature} is no longer used: drop it from ACCEPTED_FROM"
    runtimes = {f"runtime {r}" for r in runtimes_the_module_may_send()}
    assert set(ACCEPTED_FROM) == set(FEATURE_TEXT) | runtimes


def test_the_minimum_is_the_newest_release_any_unguarded_feature_needs():
    needed = max(
        version(release)
        for feature, (release, _) in ACCEPTED_FROM.items()
        if feature not in GUARDED
    )
    assert minimum(required_versions()["aws"]) == needed


def test_every_guarded_feature_is_refused_below_its_release_by_a_tested_precondition():
    tested = (
        MODULE_DIR / "tests" / "terraform" / "provider-5" / "provider_5.tftest.hcl"
    ).read_text()
    floor = minimum(required_versions()["aws"])
    for feature, run in GUARDED.items():
        assert version(ACCEPTED_FROM[feature][0]) > floor, f"{feature} needs no guard"
        assert f'run "{run}"' in tested, run
    assert 'lambda_runtime == "python3.14"' in (MODULE_DIR / "lambda.tf").read_text()


def test_versions_tf_explains_the_minimum():
    comments = (MODULE_DIR / "versions.tf").read_text()
    for feature, (release, reference) in ACCEPTED_FROM.items():
        assert release in comments, feature
        assert reference.split()[0] in comments, feature


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_examples_require_what_the_module_requires(example):
    module, own = required_versions(), required_versions(example)
    assert own["terraform"] == module["terraform"]
    assert own["aws"] == module["aws"]
    assert set(own) <= {"terraform", "aws", "local"}  # no kubernetes provider needed


def test_the_readme_requirements_are_versions_tf():
    readme = (MODULE_DIR / "README.md").read_text()
    match = re.search(r"^## Requirements\n(.*?)(?=^## |^<!--)", readme, re.DOTALL | re.MULTILINE)
    assert match, "README has no Requirements section"
    rows = dict(re.findall(r"^\| (\w+) \| `([^`]+)` \|", match.group(1), re.MULTILINE))
    assert rows == required_versions()


def test_terraform_version_is_minimum_only():
    assert required_versions()["terraform"] == ">= 1.5"
    assert "versions.tf" in module_files()

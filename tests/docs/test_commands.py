"""The commands the docs give can be run again, and they install the ESO the docs require.

Readers repeat steps: after a failure half-way, on a second cluster, when rotating a key. So every
command in the docs (a line of a shell code block, or an inline code span that starts with a
command-line tool) must succeed the second time and leave the same result. The rules below name
the commands that fail when what they create already exists, with the repeatable form to use
instead; a command that is not repeatable on purpose is listed in ON_PURPOSE with the reason,
which its page must explain.

External Secrets Operator: every README that installs it adds the chart repository and pins
the chart to the version whose CRDs CI validates the manifests against (../shared/eso-crds), and
says which ESO release first serves the API the manifests use.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.docs.pages import example_readmes, pages

REPO = Path(__file__).resolve().parents[2]
READMES = [REPO / "README.md", *example_readmes()]  # the READMEs that install ESO
DOCUMENTS = [*pages(), *example_readmes()]  # every page whose commands a reader may run
SHARED = Path(os.environ.get("SHARED", REPO.parent / "shared"))
# Chart versions are ESO's release without the `v`: chart 2.9.0 installs ESO v2.9.0.
ESO_CHART_VERSION = "2.9.0"
ESO_CHART_REPOSITORY = "helm repo add external-secrets https://charts.external-secrets.io"
TOOLS = {"kubectl", "helm", "aws", "terraform", "eksctl", "pip", "python", "make", "mkdir", "git"}
SHELL_LANGUAGES = {"sh", "bash", "shell", "console", ""}

Stage = list[str]  # one command of a pipeline, as words
Pipeline = list[Stage]

# Not repeatable on purpose: (the command's first words, why, a phrase its README must contain).
ON_PURPOSE = {
    ("aws", "iam", "create-access-key"): (
        "each run makes a new key: that is how the key is rotated (IAM allows two per user)",
        "delete the old one",
    ),
}


# ---- reading the commands ------------------------------------------------------------------


def code(markdown: str) -> tuple[list[str], list[str]]:
    """(lines of shell code blocks, inline code spans outside code blocks)."""
    fence = re.compile(r"^[ \t]*```([a-z]*)\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)
    lines = []
    for language, block in fence.findall(markdown):
        if language in SHELL_LANGUAGES:
            lines += [line.strip() for line in block.replace("\\\n", " ").splitlines()]
    prose = fence.sub("", markdown)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return lines, spans


def pipelines(line: str) -> Iterator[Pipeline]:
    """The pipelines of a shell line: commands separated by ;, && or ||, each split at |.
    Command substitutions ($(...), <(...)) are pipelines of their own."""
    substitution = re.compile(r"[$<]\(([^()]*)\)")
    while match := substitution.search(line):
        yield from pipelines(match.group(1))
        line = line[: match.start()] + "SUBSTITUTED" + line[match.end() :]
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # unbalanced quotes: not a command
        return
    pipeline: Pipeline = [[]]
    for word in [*words, ";"]:
        if word in (";", "&&", "||", "&"):
            if pipeline[0]:
                yield pipeline
            pipeline = [[]]
        elif word == "|":
            pipeline.append([])
        else:
            pipeline[-1].append(word)


def commands(markdown: str) -> list[Pipeline]:
    """Every pipeline a README tells its reader to run (elided spans such as `kubectl create
    secret ... --dry-run=client` are prose, not commands)."""
    lines, spans = code(markdown)
    found = []
    for text in [*lines, *(span for span in spans if "..." not in span)]:
        for pipeline in pipelines(text):
            if pipeline[0] and pipeline[0][0] in TOOLS:
                found.append(pipeline)
    return found


# ---- the rules ------------------------------------------------------------------------------


def subcommand(stage: Stage) -> list[str]:
    """The words of a command without its options, e.g. kubectl --context x -n apps create ns a
    -> [kubectl, create, ns, a] (an option's value is dropped with it when it is a separate
    word of a known value-taking option)."""
    valued = {"-n", "--namespace", "--context", "--kube-context", "--region", "--profile"}
    words, skip = [], False
    for word in stage:
        if skip:
            skip = False
        elif word in valued:
            skip = True
        elif not word.startswith("-"):
            words.append(word)
    return words


def has(stage: Stage, *options: str) -> bool:
    return any(
        word == option or word.startswith(option + "=") for word in stage for option in options
    )


def kubectl_create(pipeline: Pipeline) -> str | None:
    first = pipeline[0]
    if subcommand(first)[:2] not in (
        ["kubectl", "create"],
        ["kubectl", "run"],
        ["kubectl", "expose"],
    ):
        return None
    applied = len(pipeline) > 1 and subcommand(pipeline[1])[:2] == ["kubectl", "apply"]
    if "--dry-run=client" in first and has(first, "-o", "--output") and applied:
        return None
    return (
        "fails once the object exists: print it and apply it instead, "
        "`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`"
    )


def kubectl_label(pipeline: Pipeline) -> str | None:
    words = subcommand(pipeline[0])
    if (
        words[:2] in (["kubectl", "label"], ["kubectl", "annotate"])
        and "--overwrite" not in pipeline[0]
    ):
        return (
            f"`kubectl {words[1]}` refuses a key that is already set (kubectl before 1.24 even "
            "with the same value): add --overwrite"
        )
    return None


def kubectl_delete(pipeline: Pipeline) -> str | None:
    if (
        subcommand(pipeline[0])[:2] == ["kubectl", "delete"]
        and "--ignore-not-found" not in pipeline[0]
    ):
        return "fails once the objects are gone: add --ignore-not-found"
    return None


def helm_install(pipeline: Pipeline) -> str | None:
    if subcommand(pipeline[0])[:2] == ["helm", "install"]:
        return "fails once the release exists: `helm upgrade --install` installs or upgrades"
    return None


def aws_create(pipeline: Pipeline) -> str | None:
    words = subcommand(pipeline[0])
    if words[:1] == ["aws"] and len(words) > 2 and words[2].startswith("create-"):
        return "creates another one, or fails once it exists: say how to repeat the step"
    return None


def eksctl_create(pipeline: Pipeline) -> str | None:
    if subcommand(pipeline[0])[:2] == ["eksctl", "create"]:
        return "fails once the resource exists"
    return None


def mkdir(pipeline: Pipeline) -> str | None:
    if pipeline[0][0] == "mkdir" and not has(pipeline[0], "-p", "--parents"):
        return "fails once the directory exists: mkdir -p"
    return None


def terraform_import(pipeline: Pipeline) -> str | None:
    if subcommand(pipeline[0])[:2] == ["terraform", "import"]:
        return "fails once the resource is in the state: use an `import` block"
    return None


RULES: list[Callable[[Pipeline], str | None]] = [
    kubectl_create,
    kubectl_label,
    kubectl_delete,
    helm_install,
    aws_create,
    eksctl_create,
    mkdir,
    terraform_import,
]


def on_purpose(pipeline: Pipeline) -> tuple[str, str] | None:
    words = tuple(subcommand(pipeline[0]))
    return next((why for start, why in ON_PURPOSE.items() if words[: len(start)] == start), None)


def not_repeatable(markdown: str) -> list[str]:
    problems = []
    for pipeline in commands(markdown):
        reasons = [reason for rule in RULES if (reason := rule(pipeline))]
        if reasons and on_purpose(pipeline) is None:
            text = " | ".join(shlex.join(stage) for stage in pipeline)
            problems += [f"{text}: {reason}" for reason in reasons]
    return problems


# ---- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("readme", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_command_can_be_run_again(readme):
    assert not_repeatable(readme.read_text()) == []


@pytest.mark.parametrize("readme", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_a_command_that_repeats_differently_on_purpose_says_so(readme):
    text = " ".join(readme.read_text().split())
    for pipeline in commands(readme.read_text()):
        if (why := on_purpose(pipeline)) is not None:
            assert why[1] in text, f"{readme.name}: {shlex.join(pipeline[0])}: {why[0]}"


def test_the_rules_catch_what_fails_the_second_time():
    markdown = """
```sh
kubectl create namespace apps
kubectl create secret generic creds -n apps --from-literal=a=b --dry-run=client -o yaml
kubectl label namespace team-a pull=fan-out
helm install external-secrets external-secrets/external-secrets -n external-secrets
aws secretsmanager create-secret --name x && mkdir out
eksctl create iamserviceaccount --name x
kubectl delete -f manifests/generated/
```
Then `kubectl --context prod -n apps annotate externalsecret x force-sync=$(date +%s)`.
"""
    assert len(not_repeatable(markdown)) == 9  # the secret: printed, never applied


def test_the_repeatable_forms_pass():
    markdown = """
```sh
kubectl create namespace apps --dry-run=client -o yaml | kubectl apply -f -
kubectl create secret generic creds \\
  --namespace apps --from-literal=a="$A" \\
  --dry-run=client -o yaml | kubectl apply --server-side -f -
kubectl label namespace team-a pull=fan-out --overwrite   # a comment
helm upgrade --install external-secrets external-secrets/external-secrets --version 2.9.0
read -r A B < <(aws iam create-access-key --user-name u --query 'A.[B,C]' --output text)
mkdir -p out && terraform apply
kubectl delete -f manifests/generated/ --ignore-not-found
```
A mention of `kubectl create secret ... --dry-run=client` in prose is not a command.
"""
    assert not_repeatable(markdown) == []
    created = [p for p in commands(markdown) if on_purpose(p)]
    assert [p[0][:3] for p in created] == [["aws", "iam", "create-access-key"]]


# ---- External Secrets Operator ----------------------------------------------------------------


def eso_installs(markdown: str) -> list[Stage]:
    return [
        pipeline[0]
        for pipeline in commands(markdown)
        if subcommand(pipeline[0])[:1] == ["helm"]
        and "external-secrets/external-secrets" in pipeline[0]
    ]


@pytest.mark.parametrize("readme", READMES, ids=lambda path: str(path.relative_to(REPO)))
def test_eso_installs_add_the_chart_repository_and_pin_the_chart(readme):
    markdown = readme.read_text()
    for stage in eso_installs(markdown):
        text = shlex.join(stage)
        assert subcommand(stage)[:2] == ["helm", "upgrade"], text
        assert "--install" in stage, text
        assert stage[stage.index("--version") + 1] == ESO_CHART_VERSION, text
        before = markdown[: markdown.index("helm upgrade --install external-secrets")]
        assert ESO_CHART_REPOSITORY in before, f"{readme.name}: add the repository first"


@pytest.mark.parametrize("readme", READMES, ids=lambda path: str(path.relative_to(REPO)))
def test_readmes_that_install_eso_say_which_release_serves_the_manifests(readme):
    text = " ".join(readme.read_text().split())
    if eso_installs(readme.read_text()) or readme.name == "README.md":
        assert "v0.16.0 or newer" in text, (
            readme
        )  # the first release serving external-secrets.io/v1
        assert "external-secrets.io/v1" in text


def test_every_example_readme_installs_eso():
    for readme in READMES[1:]:
        assert eso_installs(readme.read_text()), readme


def test_the_readme_says_when_v1beta1_stopped_being_served():
    text = " ".join((REPO / "README.md").read_text().split())
    assert "v0.16.0 first served `v1`; v0.17.0 stopped serving `v1beta1`" in text


def test_the_pinned_chart_is_the_eso_release_ci_validates_against():
    source = SHARED / "eso-crds" / "source.json"
    if not source.is_file():
        pytest.skip(
            f"{source} is absent (the ESO CRDs CI validates against live beside the project)"
        )
    assert json.loads(source.read_text())["equivalent_tag"] == f"v{ESO_CHART_VERSION}"


# ---- the docs' local walkthrough, run as written ----------------------------------------------

WALKTHROUGH_START = 'eval "$(make --silent moto)"'
VENV_COMMAND = REPO / ".venv" / "bin" / "ecr-token-rotator"


def walkthrough() -> str:
    """The docs' shell block that starts a local AWS with `make moto` (docs/cli.md today)."""
    fence = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)
    [block] = [
        block
        for path in pages()
        for block in fence.findall(path.read_text())
        if WALKTHROUGH_START in block
    ]
    return block


def test_the_local_walkthrough_succeeds_and_cleans_up_after_itself(tmp_path):
    """The block, run twice in one shell as a reader would (the second time after the first's
    clean-up): every command succeeds, `refresh` and `repair --dry-run` among them, against a
    server on a free port; at the end the server is gone and nothing it exported is left."""
    if shutil.which("make") is None or shutil.which("bash") is None:
        pytest.skip("the docs walkthrough needs `make` and `bash` on PATH")
    if not VENV_COMMAND.exists():
        pytest.skip(f"{VENV_COMMAND} is absent: run `make venv` (the walkthrough's first step)")
    block = walkthrough()
    lines = block.splitlines()
    assert lines[-2:] == [
        "make --silent moto-stop",
        "unset AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID "
        "AWS_SECRET_ACCESS_KEY",
    ]
    exported = (
        "AWS_ENDPOINT_URL|AWS_REGION|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY"
    )
    script = f"set -euo pipefail\n{block}{block}env | grep -E '^({exported})=' || true\n"
    process = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "TMPDIR": str(tmp_path),  # the servers' state files: this test's own
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    urls = re.findall(r"local AWS \(moto.*?\) at (http://127\.0\.0\.1:(\d+))", process.stderr)
    assert len(urls) == 2, process.stderr
    results = [
        json.loads(text) for text in re.findall(r"^\{\n.*?^\}$", process.stdout, re.M | re.S)
    ]
    refreshed = [result for result in results if result.get("published")]
    dry_runs = [result for result in results if result.get("dry_run")]
    assert len(refreshed) == len(dry_runs) == 2, process.stdout
    assert refreshed[0]["registry_hosts"] == ["123456789012.dkr.ecr.eu-central-1.amazonaws.com"]
    assert process.stdout.rstrip().splitlines()[-1] == "}"  # nothing `make moto` exported is left
    for url, port in urls:
        assert port != "5000"
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", int(port)), 2),
        ):
            pass  # the server is gone
        assert f"stopped the local AWS at {url}" in process.stderr
    assert list(tmp_path.glob("ecr-token-rotator-moto-*")) == []

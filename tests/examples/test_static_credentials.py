"""The static-credentials example: the `kubectl create secret generic` command in its README
creates exactly the Secret and keys its SecretStore reads (a classic mistake is creating one key
name and referencing another)."""

from __future__ import annotations

import re
import shlex

from tests.examples.cluster import load_manifests
from tools.terraform.harness import EXAMPLES as EXAMPLES_DIR

EXAMPLE = EXAMPLES_DIR / "static-credentials"


def kubectl_create_secret_commands(markdown: str) -> list[list[str]]:
    """Every `kubectl create secret generic ...` command of the README's code blocks, as argv
    (backslash line continuations joined, the way the shell reads them)."""
    fences = re.findall(r"^[ \t]*```([a-z]*)\n(.*?)^[ \t]*```", markdown, re.DOTALL | re.MULTILINE)
    commands = []
    for language, block in fences:
        if language not in ("sh", "bash", "shell", ""):
            continue
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip().startswith("kubectl create secret generic"):
                commands.append(shlex.split(command))
    return commands


def parse_create_secret(argv: list[str]) -> tuple[str, str | None, dict[str, str]]:
    """(secret name, namespace, {key: value expression}) of `kubectl create secret generic`, up
    to a pipe (the printed Secret piped into `kubectl apply`: tests/docs/test_commands.py)."""
    name = argv[4]
    namespace = None
    literals = {}
    arguments = iter(argv[5 : argv.index("|") if "|" in argv else len(argv)])
    for argument in arguments:
        if argument in ("--namespace", "-n"):
            namespace = next(arguments)
        elif argument.startswith("--namespace="):
            namespace = argument.split("=", 1)[1]
        elif argument.startswith("--from-literal="):
            key, _, value = argument.removeprefix("--from-literal=").partition("=")
            literals[key] = value
        elif argument == "--dry-run=client":
            pass
        elif argument in ("-o", "--output"):
            assert next(arguments) == "yaml"
        else:
            raise AssertionError(f"unexpected argument {argument!r}")
    return name, namespace, literals


def test_readme_command_creates_the_secret_and_keys_the_secret_store_reads():
    commands = kubectl_create_secret_commands((EXAMPLE / "README.md").read_text())
    assert len(commands) == 1, "the README should show one kubectl create secret generic command"
    name, namespace, literals = parse_create_secret(commands[0])

    (store,) = [
        obj
        for _, obj in load_manifests(EXAMPLE / "manifests" / "rendered")
        if obj["kind"] == "SecretStore"
    ]
    refs = store["spec"]["provider"]["aws"]["auth"]["secretRef"]
    access_key_id = refs["accessKeyIDSecretRef"]
    secret_access_key = refs["secretAccessKeySecretRef"]

    assert namespace == store["metadata"]["namespace"]  # a SecretStore reads its own namespace
    assert access_key_id["name"] == secret_access_key["name"] == name
    assert set(literals) == {access_key_id["key"], secret_access_key["key"]}
    # Each key gets the right half of the access key, as the README's `read` fills them.
    assert literals[access_key_id["key"]] == "$ACCESS_KEY_ID"
    assert literals[secret_access_key["key"]] == "$SECRET_ACCESS_KEY"
    # Printed, then created or updated: repeatable, and the key stays out of annotations.
    assert commands[0][-6:] == ["|", "kubectl", "apply", "--server-side", "-f", "-"]
    readme = " ".join((EXAMPLE / "README.md").read_text().replace("\\\n", " ").split())
    assert "read -r ACCESS_KEY_ID SECRET_ACCESS_KEY" in readme
    assert "--query 'AccessKey.[AccessKeyId,SecretAccessKey]'" in readme


def test_the_parser_sees_a_mismatch():
    readme = """```sh
kubectl create secret generic aws-credentials \\
  --namespace apps \\
  --from-literal=access-key="$ID" \\
  --from-literal=secret-key-secret="$SECRET" \\
  --dry-run=client -o yaml | kubectl apply --server-side -f -
```"""
    (argv,) = kubectl_create_secret_commands(readme)
    assert parse_create_secret(argv) == (
        "aws-credentials",
        "apps",
        {"access-key": "$ID", "secret-key-secret": "$SECRET"},
    )

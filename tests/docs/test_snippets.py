"""Every snippet a user can copy works as written: each ```hcl block of the docs (README,
examples' READMEs, docs/) either calls the module, and then plans offline with the real terraform
(source pointed at this checkout, placeholders filled), or says it is a fragment and why. A block
that is neither fails here: nothing is skipped silently."""

from __future__ import annotations

import re

import pytest

from tools.terraform.harness import MAJORS, PROVIDER_VERSIONS, REPO
from tools.terraform.snippets import (
    SnippetError,
    as_root_module,
    doc_snippets,
    markdown_files,
    snippets_of,
    unclassified,
)

SNIPPETS = doc_snippets()
MODULE_CALLS = [s.name for s in SNIPPETS if s.fragment_reason is None and s.calls_the_module]


def test_the_docs_are_searched_where_they_live() -> None:
    found = {str(path.relative_to(REPO)) for path in markdown_files()}
    assert "README.md" in found
    assert "examples/eks-irsa/README.md" in found
    assert {str(p.relative_to(REPO)) for p in REPO.glob("docs/**/*.md")} <= found
    assert not [path for path in found if path.startswith((".venv", "tests/"))]
    assert len(MODULE_CALLS) >= 2  # the Quick start's, and eks-irsa's Pod Identity variant


def test_every_hcl_block_calls_the_module_or_is_a_marked_fragment() -> None:
    assert [problem for snippet in SNIPPETS if (problem := unclassified(snippet))] == []


@pytest.mark.parametrize("major", MAJORS, ids=lambda major: f"aws-{PROVIDER_VERSIONS[major]}")
@pytest.mark.parametrize("name", MODULE_CALLS)
def test_every_module_call_plans_as_written(
    snippet_plans: dict[int, dict[str, str | None]], name: str, major: int
) -> None:
    assert snippet_plans[major][name] is None, snippet_plans[major][name]


# ---- the rules themselves -----------------------------------------------------------------------

MARKDOWN = """
Text.

```hcl
module "rotator" {
  source = "git::https://github.com/<org>/ecr-token-rotator.git?ref=<commit-sha>"

  probe_images = ["<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>"]
}
```

1. A list item:

   ```hcl
   # Fragment: goes beside the module block above.
   import {
     to = module.rotator.aws_secretsmanager_secret.this[0]
     id = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:x-AbCdEf"
   }
   ```

```terraform
moved {
  from = module.old
  to   = module.rotator
}
```

```hcl
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
```

```yaml
not: hcl
```
"""


def test_blocks_are_found_with_their_line_and_kind() -> None:
    call, fragment, moved, other = snippets_of(MARKDOWN, "doc.md")
    assert [s.line for s in (call, fragment, moved, other)] == [4, 14, 22, 29]
    assert (call.calls_the_module, call.fragment_reason) == (True, None)
    assert fragment.fragment_reason == "goes beside the module block above."
    assert fragment.text.startswith("# Fragment:")  # the list item's indentation is gone
    assert unclassified(call) is None
    assert unclassified(fragment) is None
    assert "doc.md:22: an hcl block that does not call this module" in (unclassified(moved) or "")
    assert unclassified(other) is not None  # another module: a fragment, or not in the docs


def test_a_module_call_gets_this_checkout_and_placeholder_values(tmp_path) -> None:
    call = snippets_of(MARKDOWN, "doc.md")[0]
    root = tmp_path / "root"
    text = as_root_module(call, root)
    [source] = re.findall(r'source = "([^"]+)"', text)
    assert (root / source).resolve() == REPO
    assert 'probe_images = ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/team/app:1.0"]' in (
        text
    )
    assert "<" not in text


def test_a_placeholder_without_a_value_is_named(tmp_path) -> None:
    [call] = snippets_of(
        '```hcl\nmodule "m" {\n  source = "git::https://x/ecr-token-rotator.git?ref=<commit-sha>"\n'
        '  name   = "<your-name>"\n}\n```\n',
        "doc.md",
    )
    with pytest.raises(SnippetError, match=r"doc.md:1: placeholder\(s\) <your-name> have no value"):
        as_root_module(call, tmp_path)

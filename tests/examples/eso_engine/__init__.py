"""ESO's template engine v2 itself: Go's text/template with sprig, built from main.go beside this
file with Debian's `golang-go` and `golang-github-masterminds-sprig-dev` (GOPATH mode on Debian's
source tree, /usr/share/gocode: nothing is downloaded). `build()` compiles it once (the tests keep
one binary per session); `Engine.render()` runs it on an ExternalSecret's templates and the data
ESO fetched. Where Go or sprig is absent, `build()` raises `EngineUnavailable` with the reason (the
tests skip with it); .ci/run installs both.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("main.go")
# Debian installs Go libraries' sources under /usr/share/gocode/src (a GOPATH tree).
DEBIAN_GOPATH = Path("/usr/share/gocode")
SPRIG_PACKAGE = "github.com/Masterminds/sprig"
TARGETS = ("data", "labels", "annotations")


class EngineUnavailable(Exception):
    """Go or sprig is not installed here: the reason, for a skip message."""


class TemplateError(Exception):
    """What ESO reports (ExternalSecret condition Ready=False) for a template that fails."""


@dataclass(frozen=True)
class Rendered:
    data: dict[str, bytes]
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class Engine:
    binary: Path

    def render(
        self, templates: Mapping[str, Mapping[str, str]], data: Mapping[str, str]
    ) -> Rendered:
        """Each template of each target (data, labels, annotations) executed on `data`."""
        unknown = set(templates) - set(TARGETS)
        if unknown:
            raise ValueError(f"template targets {sorted(unknown)}: ESO renders {TARGETS}")
        targets = {target: dict(values) for target, values in templates.items()}
        request = json.dumps({"data": dict(data), "templates": targets})
        result = subprocess.run(
            [str(self.binary)],
            input=request,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            raise TemplateError(result.stderr.strip())
        out = json.loads(result.stdout)
        return Rendered(
            data={key: base64.b64decode(value) for key, value in (out["data"] or {}).items()},
            labels=dict(out["labels"] or {}),
            annotations=dict(out["annotations"] or {}),
        )


def build(directory: Path) -> Engine:
    """Compile main.go into `directory` with Debian's Go and sprig, offline."""
    go = shutil.which("go")
    if go is None:
        raise EngineUnavailable("no `go` on PATH (Debian: apt-get install golang-go)")
    if not (DEBIAN_GOPATH / "src" / SPRIG_PACKAGE).is_dir():
        raise EngineUnavailable(
            f"sprig is not in {DEBIAN_GOPATH}/src "
            "(Debian: apt-get install golang-github-masterminds-sprig-dev)"
        )
    binary = directory / "eso-template-v2"
    env = {
        **os.environ,
        # GOPATH mode on Debian's source tree: no module download, no proxy.
        "GO111MODULE": "off",
        "GOPATH": str(DEBIAN_GOPATH),
        "GOFLAGS": "",
        "GOCACHE": str(directory / "go-build-cache"),
        "CGO_ENABLED": "0",
    }
    result = subprocess.run(
        [go, "build", "-o", str(binary), str(SOURCE)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:  # Go and sprig are here: a broken build is a failure, not a skip
        raise RuntimeError(f"go build of {SOURCE} failed:\n{result.stderr.strip()}")
    return Engine(binary)

"""ESO's template engine v2 itself, for templates beyond gotemplate.py's subset (sprig's date
functions): Go's text/template with sprig's TxtFuncMap and missingkey=error, as ESO's
runtime/template/v2 runs it, built here from Debian's golang-go and
golang-github-masterminds-sprig-dev (GOPATH mode, offline).

`render(template, data)` returns the output; `Unavailable` (a skip reason) where go or sprig is
absent, `TemplateError` with Go's message where the template fails."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

GOPATH = Path(os.environ.get("SPRIG_GOPATH", "/usr/share/gocode"))
SPRIG = GOPATH / "src" / "github.com" / "Masterminds" / "sprig"
PROGRAM = """package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"

	"github.com/Masterminds/sprig"
)

func main() {
	var in struct {
		Template string            `json:"template"`
		Data     map[string]string `json:"data"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	t := template.New("t").Option("missingkey=error").Funcs(sprig.TxtFuncMap())
	t, err := t.Parse(in.Template)
	if err == nil {
		var out bytes.Buffer
		if err = t.Execute(&out, in.Data); err == nil {
			os.Stdout.Write(out.Bytes())
			return
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
"""


class Unavailable(Exception):
    """go or sprig is not installed here."""


class TemplateError(Exception):
    """Go's error for a template that does not parse or execute."""


@cache
def _binary() -> Path:
    go = shutil.which("go")
    if go is None:
        raise Unavailable("no `go` on PATH (Debian: golang-go)")
    if not (SPRIG / "functions.go").is_file():
        raise Unavailable(
            f"sprig is not under {SPRIG} (Debian: golang-github-masterminds-sprig-dev)"
        )
    work = Path(tempfile.mkdtemp(prefix="ecr-token-rotator-go-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    (work / "main.go").write_text(PROGRAM)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(work / "cache"),
        "GOFLAGS": "",
    }
    result = subprocess.run(
        [go, "build", "-o", str(work / "render"), str(work / "main.go")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise Unavailable(f"go build of the renderer failed:\n{result.stderr}")
    return work / "render"


def render(template: str, data: Mapping[str, str]) -> str:
    result = subprocess.run(
        [str(_binary())],
        input=json.dumps({"template": template, "data": dict(data)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TemplateError(result.stderr.strip())
    return result.stdout

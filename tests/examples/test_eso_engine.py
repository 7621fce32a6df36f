"""ESO's template engine v2 as the example tests run it (tests/examples/eso_engine): Go's
text/template with sprig, missingkey=error, sprig's env/expandenv/getHostByName removed as ESO
removes them, and `cluster.eso_secret` putting the rendered values where ESO puts them.
(Terraform's templatefile() is Terraform's own: the examples are applied with it.)"""

from __future__ import annotations

import pytest

from tests.examples.cluster import eso_secret
from tests.examples.eso_engine import TemplateError


def render_data(engine, text: str, data: dict[str, str]) -> bytes:
    return engine.render({"data": {"key": text}}, data).data["key"]


def test_fields_printf_and_b64enc(eso_engine):
    data = {"username": "AWS", "password": "pa:ss"}
    text = '{"u":"{{ .username }}","auth":"{{ printf "%s:%s" .username .password | b64enc }}"}'
    assert render_data(eso_engine, text, data) == b'{"u":"AWS","auth":"QVdTOnBhOnNz"}'


def test_a_pipeline_passes_the_previous_result_last(eso_engine):
    assert render_data(eso_engine, '{{ .a | printf "%s-%s" .b }}', {"a": "A", "b": "B"}) == b"B-A"
    assert render_data(eso_engine, '{{ printf "100%% %s" "x\\"y" }}', {}) == b'100% x"y'


def test_what_a_per_host_template_needs_renders(eso_engine):
    # Go's actions (variables, if, range, trim markers) and sprig's JSON, base64 and string
    # functions: none of these was in reach of a hand-written subset.
    config = '{"auths":{"a.example":{"auth":"QVdTOnA6cQ=="},"b.example":{"auth":"eDp5"}}}'
    text = (
        "{{- $auths := (fromJson .config).auths -}}"
        '{{- $login := (index $auths "a.example").auth | b64dec -}}'
        '{{ (splitn ":" 2 $login)._0 }}|{{ (splitn ":" 2 $login)._1 }}'
        "{{ range $host, $entry := $auths }} {{ $host }}{{ end }}"
        '{{ if hasKey $auths "c.example" }} c{{ else }} no-c{{ end }}'
    )
    assert render_data(eso_engine, text, {"config": config}) == (
        b"AWS|p:q a.example b.example no-c"
    )


def test_rendered_data_may_be_any_bytes(eso_engine):
    assert render_data(eso_engine, '{{ "/w==" | b64dec }}', {}) == b"\xff"
    assert render_data(eso_engine, "{{ .v | b64dec }}", {"v": "AP8="}) == b"\x00\xff"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{{ .missing }}", 'map has no entry for key "missing"'),
        ('{{ fail "no entry for this host" }}', "no entry for this host"),
        ('{{ env "HOME" }}', 'function "env" not defined'),
        ('{{ expandenv "$HOME" }}', 'function "expandenv" not defined'),
        ('{{ getHostByName "localhost" }}', 'function "getHostByName" not defined'),
        ("{{ .a | pkcs12key }}", 'function "pkcs12key" not defined'),  # ESO's own: not built
        ("{{ .a ", "unclosed action"),
    ],
)
def test_what_eso_refuses_fails_with_its_message(eso_engine, text, error):
    with pytest.raises(TemplateError, match="at key key") as raised:
        render_data(eso_engine, text, {"a": "A"})
    assert error in str(raised.value)


def test_labels_and_annotations_are_templates_too(eso_engine):
    rendered = eso_engine.render(
        {"labels": {"team": "{{ .team | lower }}"}, "annotations": {"note": "fixed"}},
        {"team": "Platform"},
    )
    assert (rendered.data, rendered.labels, rendered.annotations) == (
        {},
        {"team": "platform"},
        {"note": "fixed"},
    )


SPEC = {
    "data": [
        {"secretKey": "user", "remoteRef": {"key": "s", "property": "username"}},
        {"secretKey": "config", "remoteRef": {"key": "s", "property": "dockerconfigjson"}},
    ],
    "target": {
        "template": {
            "engineVersion": "v2",
            "type": "Opaque",
            "metadata": {"labels": {"kind": "{{ .user | lower }}"}},
            "data": {"greeting": "hello {{ .user }}"},
        }
    },
}
DOCUMENT = {"username": "AWS", "dockerconfigjson": "{}"}


def test_eso_secret_replaces_the_fetched_data_with_the_templates(eso_engine):
    secret = eso_secret(SPEC, DOCUMENT, eso_engine)
    assert secret.type == "Opaque"
    assert secret.data == {"greeting": b"hello AWS"}
    assert secret.labels == {"kind": "aws"}


def test_eso_secret_with_merge_policy_merge_keeps_the_fetched_data(eso_engine):
    template = {**SPEC["target"]["template"], "mergePolicy": "Merge"}
    spec = {**SPEC, "target": {"template": template}}
    assert eso_secret(spec, DOCUMENT, eso_engine).data == {
        "user": b"AWS",
        "config": b"{}",
        "greeting": b"hello AWS",
    }


def test_eso_secret_needs_the_engine_for_templates():
    with pytest.raises(TypeError, match="engine"):
        eso_secret(SPEC, DOCUMENT)

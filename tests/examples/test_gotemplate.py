"""The renderer of ESO's template engine v2 (Go text/template) subset the example tests rely on:
it renders what ESO renders, and stops on anything outside its subset instead of guessing.
(Terraform's templatefile() is Terraform's own: the examples are applied with it.)"""

from __future__ import annotations

import pytest

from tests.examples import gotemplate
from tests.examples.gotemplate import Unsupported

# ---- ESO template engine v2 ---------------------------------------------------------------------


def test_go_template_fields_printf_and_b64enc():
    data = {"username": "AWS", "password": "pa:ss"}
    text = '{"u":"{{ .username }}","auth":"{{ printf "%s:%s" .username .password | b64enc }}"}'
    assert gotemplate.render(text, data) == '{"u":"AWS","auth":"QVdTOnBhOnNz"}'


def test_go_template_pipeline_passes_the_previous_result_last():
    assert gotemplate.render('{{ .a | printf "%s-%s" .b }}', {"a": "A", "b": "B"}) == "B-A"
    assert gotemplate.render('{{ printf "100%% %s" "x\\"y" }}', {}) == '100% x"y'


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{{ .missing }}", gotemplate.TemplateError),
        ('{{ printf "%s %s" .a }}', gotemplate.TemplateError),
        ('{{ printf "%s" .a .a }}', gotemplate.TemplateError),
        ('{{ printf "%d" .a }}', Unsupported),
        ("{{ .a | toJson }}", Unsupported),
        ("{{- .a }}", Unsupported),
        ("{{ $x := .a }}", Unsupported),
        ("{{ if .a }}x{{ end }}", Unsupported),
    ],
)
def test_go_template_refuses_what_it_does_not_render_like_eso(text, error):
    with pytest.raises(error):
        gotemplate.render(text, {"a": "A"})

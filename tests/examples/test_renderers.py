"""The two template renderers the example tests rely on: Terraform's templatefile() subset and
ESO's engine v2 (Go text/template) subset. Each renders what the real engine renders, and stops on
anything outside its subset instead of guessing."""

from __future__ import annotations

import pytest

from tests.examples import gotemplate, tftpl
from tests.terraform.hcl_eval import EvalError, Unsupported

# ---- templatefile() ----------------------------------------------------------------------------


def test_tftpl_interpolates_variables_and_expressions():
    text = "name: ${name}\nhost: ${hosts[1]}\nupper: ${upper(name)}\nn: ${n}\nok: ${ok}\n"
    variables = {"name": "app", "hosts": ["a", "b"], "n": 6, "ok": True}
    assert tftpl.render(text, variables) == "name: app\nhost: b\nupper: APP\nn: 6\nok: true\n"


def test_tftpl_keeps_escapes_and_other_dollar_and_brace_text():
    text = "$${not_a_var} %%{ directive } $labels {{ .go }} 50% {x}"
    assert tftpl.render(text, {}) == "${not_a_var} %{ directive } $labels {{ .go }} 50% {x}"


def test_tftpl_braces_inside_a_string_literal_do_not_end_the_interpolation():
    assert tftpl.render('${"}" == x ? "a" : "b"}', {"x": "}"}) == "a"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("%{ for x in xs }${x}%{ endfor }", Unsupported),
        ("${~ name}", Unsupported),
        ("${name ~}", Unsupported),
        ("${undeclared}", Unsupported),
        ("${nothing}", EvalError),
        ("${hosts}", EvalError),
        ("${name", Unsupported),
    ],
)
def test_tftpl_refuses_what_it_does_not_render_like_terraform(text, error):
    with pytest.raises(error):
        tftpl.render(text, {"name": "app", "nothing": None, "hosts": ["a"]})


def test_tftpl_templatefile_reads_the_file(tmp_path):
    template = tmp_path / "t.tftpl"
    template.write_text("key: ${secret_name}\n")
    assert tftpl.templatefile(str(template), {"secret_name": "x"}) == "key: x\n"
    with pytest.raises(EvalError):
        tftpl.templatefile(str(template), ["not", "a", "map"])  # type: ignore[arg-type]


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

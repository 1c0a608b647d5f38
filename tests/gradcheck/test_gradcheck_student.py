"""gradcheck on student code: kink conventions, side effects, stubs, messages, the child
process and the command line around it (issue: gradcheck on real student code)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import layers
from gradcheck import check_layer, check_loss
from gradcheck.cli import main
from gradcheck.hints import NUMPY2, factor_hint, numpy2_hint
from gradcheck.recipes import RECIPES

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).parents[2]


def relu_backward_ge(dout, cache):
    return dout * (cache >= 0)


def test_any_subgradient_at_a_kink_is_a_kink_by_default():
    (x,) = RECIPES["relu"].inputs()
    assert np.sum(x == 0) == 2
    r = check_layer(layers.relu_forward, relu_backward_ge, x).result("dx")
    assert r.verdict == "pass"
    assert r.kinks == 2


def test_a_convention_fails_another_subgradient_and_names_itself():
    lc = RECIPES["relu"].check(_module(relu_backward=relu_backward_ge), convention="pytorch")
    r = lc.result("dx")
    assert r.verdict == "fail"
    assert "pytorch convention" in r.hint
    assert RECIPES["relu"].check(convention="pytorch").passed       # the library's own: 0 at 0


def test_an_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention is 'numpy'"):
        RECIPES["relu"].check(convention="numpy")


def _module(**functions):
    """A stand-in for a student's file: layers' functions, some replaced."""
    import types
    module = types.ModuleType("student")
    for name in ("relu_forward", "relu_backward", "affine_forward", "affine_backward"):
        setattr(module, name, functions.get(name, getattr(layers, name)))
    return module


def test_the_convention_comes_from_the_command_line_or_coursework_toml(tmp_path, monkeypatch,
                                                                        capsys):
    student = CORPUS / "relu_ge.py"
    monkeypatch.chdir(tmp_path)
    assert main([str(student), "--timeout", "10"]) == 0
    assert main([str(student), "--convention", "pytorch", "--timeout", "10"]) == 1
    (tmp_path / "coursework.toml").write_text('[course]\nkink_convention = "pytorch"\n')
    assert main([str(student), "--timeout", "10"]) == 1
    assert "pytorch convention" in capsys.readouterr().out
    assert main([str(student), "--convention", "any", "--timeout", "10"]) == 0
    (tmp_path / "coursework.toml").write_text('[course]\nkink_convention = "tf"\n')
    assert main([str(student)]) == 2
    assert "kink_convention is 'tf'" in capsys.readouterr().err


def test_side_effects_warn_unless_strict(rng):
    def relu_backward_inplace(dout, cache):
        dout[cache <= 0] = 0
        return dout

    x = rng.standard_normal((4, 5))
    loose = check_layer(layers.relu_forward, relu_backward_inplace, x, strict=False)
    assert loose.passed
    assert "backward modified dout in place" in loose.result("dx").warnings[0]
    strict = check_layer(layers.relu_forward, relu_backward_inplace, x)
    assert strict.result("backward").verdict == "fail"


def test_strict_on_the_command_line(capsys):
    student = str(CORPUS / "sidefx_dout.py")
    assert main([student, "--timeout", "10"]) == 0
    assert "warning: backward modified dout in place" in capsys.readouterr().out
    assert main([student, "--strict", "--timeout", "10"]) == 1


def test_stubs_are_not_attempted_with_their_file_and_line(rng):
    def backward_none(dout, cache):
        pass

    def forward_none(x):
        out = None
        return out, x

    x = rng.standard_normal((3, 4))
    r = check_layer(layers.relu_forward, backward_none, x).result("dx")
    assert r.verdict == "not_attempted"
    assert f"backward_none ({__file__}" in r.hint or "backward_none (tests/" in r.hint
    r = check_layer(forward_none, layers.relu_backward, x).result("dx")
    assert r.verdict == "not_attempted"
    assert "forward_none" in r.hint


def test_a_none_dx_of_a_loss_is_not_attempted(rng):
    x, y = rng.standard_normal((4, 3)), rng.integers(3, size=4)
    lc = check_loss(lambda x, y: (layers.softmax_loss(x, y)[0], None), x, y)
    assert lc.result("dx").verdict == "not_attempted"


def test_a_real_bug_on_a_none_is_a_failure_not_a_stub(rng):
    def backward(dout, cache):
        mask = {}.get("mask")
        return dout * mask.sum()             # finished code with a bug: not a blank

    r = check_layer(layers.relu_forward, backward, rng.standard_normal((3, 4))).result("dx")
    assert r.verdict == "fail"
    assert "raised AttributeError" in r.hint


def test_system_exit_in_a_backward_is_a_verdict(rng):
    def backward(dout, cache):
        sys.exit(0)

    r = check_layer(layers.relu_forward, backward, rng.standard_normal((3, 4))).result("dx")
    assert r.verdict == "fail"
    assert "raised SystemExit" in r.hint
    assert f"{Path(__file__).name}:" in r.hint


def test_a_forward_failing_mid_check_is_a_failure(rng):
    calls = []

    def forward(x):
        calls.append(1)
        if len(calls) > 5:
            raise RuntimeError("tired")
        return layers.tanh_forward(x)

    r = check_layer(forward, layers.tanh_backward, rng.standard_normal((3, 4))).result("dx")
    assert r.verdict == "fail"
    assert "RuntimeError: tired" in r.hint


@pytest.mark.parametrize(("code", "words"), [
    ("np.product([1, 2])", "np.prod"),
    ("np.lib.pad(np.ones(2), 1)", "np.pad"),
    ("np.ones(4).reshape(newshape=(2, 2))", "positionally"),
    ("int(np.ones(1))", "a.item()"),
    ("np.float(1)", "float"),
    ("np.cumproduct([1])", "np.cumprod"),
    ("xrange(3)", "use range"),
])
def test_numpy2_removals_name_their_replacement(code, words):
    with pytest.raises((AttributeError, TypeError, NameError)) as info:
        eval(code, {"np": np})
    assert words in numpy2_hint(info.value)


def test_every_numpy2_hint_names_a_replacement():
    assert all(": use " in hint for _, hint in NUMPY2)


@pytest.mark.parametrize("c", [1.0002, 0.9995, 1.004, 0.991])
def test_the_factor_hint_never_says_1(c):
    hint = factor_hint(c, 4)
    assert "factor 1 " not in hint + " "
    assert "factor 1." not in hint
    assert "%" in hint


def test_explain_at_a_kink_explains_the_kink(capsys):
    assert main([str(CORPUS / "relu_ge.py"), "--explain", "--convention", "pytorch"]) == 1
    out = capsys.readouterr().out
    assert "has a kink" in out
    assert "is their mean, not a gradient" in out
    assert "pytorch convention" in out


def test_a_structural_failure_states_the_problem(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\ndef relu_forward(x):\n    return np.maximum(x, 0), x\n"
                    "\ndef relu_backward(dout, cache):\n    return (dout * (cache > 0)).T\n")
    assert main([str(path)]) == 1
    line = next(s for s in capsys.readouterr().out.splitlines() if " dx " in s)
    assert "rel 0.0e+00" not in line
    assert "limit" not in line
    assert "FAIL" in line


def test_many_files_are_labelled_and_summed_up(tmp_path, capsys):
    files = [str(CORPUS / "affine_ok.py"), str(CORPUS / "affine_db_mean.py")]
    report = tmp_path / "out.json"
    assert main([*files, "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert f"{files[0]}::affine" in out
    assert f"{files[1]}::affine" in out
    header = next(line for line in out.splitlines() if line.startswith("file "))
    assert header.split()[1:] == ["exit", "affine"]                 # the summary table
    data = json.loads(report.read_text())
    assert [(f["file"], f["exit_code"]) for f in data["files"]] == [(files[0], 0), (files[1], 1)]
    assert {c["file"] for c in data["checks"]} == set(files)


def test_a_model_class_of_the_working_folder_is_found(tmp_path, monkeypatch, capsys):
    (tmp_path / "mynets.py").write_text("from models import TwoLayerNet as MyNet\n")
    monkeypatch.chdir(tmp_path)
    assert main(["mynets::MyNet", "--fast"]) == 0
    assert "mynets::MyNet" in capsys.readouterr().out


def test_the_gradcheck_command_finds_modules_in_the_working_folder(tmp_path):
    (tmp_path / "mynets.py").write_text("from models import TwoLayerNet as MyNet\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", "import sys; from gradcheck.cli import main; "
                           "sys.exit(main())", "mynets::MyNet", "--fast"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_custom_layer_name_points_to_check_layer(tmp_path, capsys):
    path = tmp_path / "mine.py"
    path.write_text("def swish_forward(x):\n    return x, x\n\n"
                    "def swish_backward(dout, cache):\n    return dout\n")
    assert main([f"{path}::swish"]) == 2
    assert "check_layer(" in capsys.readouterr().err
    assert main(["swish"]) == 2
    assert "check_layer(" in capsys.readouterr().err


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    from handgrad.cli import main as handgrad_main
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"gradcheck (handgrad) {version('handgrad')}"
    assert handgrad_main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"handgrad {version('handgrad')}"


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    path = tmp_path / "slow.py"
    path.write_text("import time\n\ndef relu_forward(x):\n    time.sleep(60)\n    return x, x\n\n"
                    "def relu_backward(dout, cache):\n    return dout\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gradcheck", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)                                     # the child is in relu_forward by now
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "gradcheck: interrupted"


def test_bad_numbers_are_usage_errors(capsys):
    assert main(["relu", "--timeout", "0"]) == 2
    assert "--timeout must be more than 0 seconds" in capsys.readouterr().err
    assert main(["relu", "--jobs", "0"]) == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err


def _configs(name):
    recipe = RECIPES[name]
    return [recipe.inputs(0, np.float64, k) for k in range(len(recipe.configurations()))]


@pytest.mark.parametrize("name", ["conv_naive", "conv_fast"])
def test_conv_configurations_are_valid_and_reach_every_path(name):
    seen = set()
    for x, w, _, param in _configs(name):
        (H, W), (HH, WW), S, P = x.shape[2:], w.shape[2:], param["stride"], param["pad"]
        assert (H + 2 * P - HH) % S == 0                 # the course's naive conv asserts it
        assert (W + 2 * P - WW) % S == 0
        seen |= {f"pad{min(P, 1)}", f"stride{S}", "batch1" * (len(x) == 1),
                 "nonsquare_x" * (H != W), "nonsquare_w" * (HH != WW), "channels" * (
                     x.shape[1] > 1 and len(w) > 1)}
    assert {"pad0", "pad1", "stride1", "stride2", "batch1", "nonsquare_x", "nonsquare_w",
            "channels"} <= seen


@pytest.mark.parametrize("name", ["max_pool_naive", "max_pool_fast"])
def test_pool_configurations_tile_overlap_and_leave_a_remainder(name):
    kinds = set()
    for x, p in _configs(name):
        H, PH, S = x.shape[2], p["pool_height"], p["stride"]
        kinds |= {"tiles" if (H - PH) % S == 0 and PH == S else "",
                  "overlaps" if PH > S else "", "remainder" if (H - PH) % S else "",
                  "tie" if len(np.unique(x)) < x.size else ""}
        assert len(np.unique(x)) >= x.size - 1           # at most one planted tie
    assert {"tiles", "overlaps", "remainder", "tie"} <= kinds


def test_dropout_is_checked_on_2d_3d_4d_and_in_test_mode():
    configs = _configs("dropout")
    assert {x.ndim for x, _ in configs} == {2, 3, 4}
    assert {p["mode"] for _, p in configs} == {"train", "test"}


@pytest.mark.parametrize("name", ["affine", "softmax_loss", "svm_loss", "layernorm",
                                  "spatial_groupnorm", "spatial_batchnorm", "conv_naive"])
def test_batch_size_1_is_among_the_configurations(name):
    assert any(len(inputs[0]) == 1 for inputs in _configs(name))


def test_a_failure_names_its_configuration():
    lc = RECIPES["conv_naive"].check(_conv_module())
    r = lc.result("dx")
    assert r.verdict == "fail"
    assert "pad:-pad" in r.hint
    assert "pad 0" in r.config


def _conv_module():
    import types
    module = types.ModuleType("student")
    module.conv_forward_naive = layers.conv_forward_naive

    def conv_backward_naive(dout, cache):
        dx, dw, db = layers.conv_backward_naive(dout, cache)
        pad = cache[-1]["pad"] if isinstance(cache[-1], dict) else 1
        dx_pad = np.pad(dx, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        return dx_pad[:, :, pad:-pad, pad:-pad], dw, db

    module.conv_backward_naive = conv_backward_naive
    return module


def test_a_student_tree_whose_layers_exit_at_import_is_a_verdict(tmp_path):
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "__init__.py").write_text("import sys\nsys.exit(3)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "gradcheck", "relu"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout + done.stderr          # a verdict, not exit 3
    assert "FAIL: raised SystemExit: 3 at layers/__init__.py:2" in done.stdout


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_ties_follow_the_convention_asked_for(kind):
    recipe = RECIPES[f"max_pool_{kind}"]
    assert recipe.check(convention="pytorch").passed           # the library: the first maximum

    def to_every_maximum(dout, cache):                          # a student's mask == max
        x, pool_param = cache[0], cache[1]
        dx = np.zeros_like(x)
        S, PH, PW = pool_param["stride"], pool_param["pool_height"], pool_param["pool_width"]
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                window = x[:, :, i * S:i * S + PH, j * S:j * S + PW]
                mask = window == window.max(axis=(2, 3), keepdims=True)
                dx[:, :, i * S:i * S + PH, j * S:j * S + PW] += mask * dout[:, :, i:i + 1, j:j + 1]
        return dx

    student = _pool_module(kind, to_every_maximum)
    assert recipe.check(student).passed                         # any subgradient: a kink
    r = recipe.check(student, convention="pytorch").result("dx")
    assert r.verdict == "fail"
    assert "first maximum" in r.hint
    assert "(1, 1, 2, 4)" in r.config


def _pool_module(kind, backward):
    import types
    module = types.ModuleType("student")

    def forward(x, pool_param):
        out, _ = getattr(layers, f"max_pool_forward_{kind}")(x, pool_param)
        return out, (x, pool_param)

    setattr(module, f"max_pool_forward_{kind}", forward)
    setattr(module, f"max_pool_backward_{kind}", backward)
    return module


def test_a_float64_gradient_of_a_float32_input_is_a_warning_unless_strict(rng):
    def relu_backward_float64(dout, cache):
        return (dout * (cache > 0)).astype(np.float64)

    x = rng.standard_normal((3, 4)).astype(np.float32)
    loose = check_layer(layers.relu_forward, relu_backward_float64, x, strict=False)
    assert loose.result("dx").verdict == "pass"
    assert "dx has dtype float64 for a float32 x" in loose.result("dx").warnings[0]
    assert check_layer(layers.relu_forward, relu_backward_float64, x).result("dx").verdict == \
        "fail"


COURSE_LAYERS = ["affine", "relu", "sigmoid", "tanh", "softmax_loss", "svm_loss", "mse_loss",
                 "batchnorm", "batchnorm_alt", "layernorm", "dropout", "add", "multiply", "max",
                 "affine_relu", "conv_naive", "conv_fast", "max_pool_naive", "max_pool_fast",
                 "spatial_batchnorm", "spatial_groupnorm", "conv_relu", "conv_relu_pool",
                 "conv_bn_relu"]


@pytest.mark.parametrize("name", COURSE_LAYERS)
def test_every_course_layer_is_checked_on_several_configurations(name):
    configs = _configs(name)
    assert len(configs) >= 2
    shapes = {tuple(a.shape for a in inputs if isinstance(a, np.ndarray)) for inputs in configs}
    assert len(shapes) == len(configs)                   # each one reaches other sizes

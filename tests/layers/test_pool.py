"""Max pooling: course values, naive against fast, winner routing, dtypes, errors.

The fast pooling must agree with the naive one exactly, ties included (the first
maximum in row-major window order wins), for windows that tile the input, that
do not (the last rows and columns dropped), that overlap, and that skip pixels.
"""

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import layers
import layers.pool
from gradcheck import check_layer

# (x shape, (pool_height, pool_width, stride))
CONFIGS = {
    "2x2 s2 tiles": ((2, 3, 8, 8), (2, 2, 2)),
    "2x2 s2 drops": ((2, 3, 7, 5), (2, 2, 2)),
    "3x3 s1 overlaps": ((2, 2, 6, 7), (3, 3, 1)),
    "3x2 s2 overlaps": ((1, 2, 7, 6), (3, 2, 2)),
    "2x3 s3 tiles": ((2, 2, 6, 9), (2, 3, 3)),
    "2x2 s3 skips": ((2, 2, 8, 8), (2, 2, 3)),
    "1x1 s1": ((2, 2, 3, 4), (1, 1, 1)),
    "whole image": ((3, 2, 4, 5), (4, 5, 1)),
}


def _param(window):
    PH, PW, stride = window
    return {"pool_height": PH, "pool_width": PW, "stride": stride}


def _both(x, pool_param, dout_seed):
    """(out, dx) of the naive and of the fast pair on one random dout."""
    results = []
    for kind in ("naive", "fast"):
        out, cache = getattr(layers, f"max_pool_forward_{kind}")(x, pool_param)
        dout = np.random.default_rng(dout_seed).normal(size=out.shape).astype(out.dtype)
        results.append((out, getattr(layers, f"max_pool_backward_{kind}")(dout, cache), dout))
    return results


def test_max_pool_forward_naive_reproduces_the_course_values():
    x_shape = (2, 3, 4, 4)
    x = np.linspace(-0.3, 0.4, num=np.prod(x_shape)).reshape(x_shape)
    correct_out = np.array(
        [[[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
          [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
          [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
         [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
          [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
          [[0.32631579, 0.34105263], [0.38526316, 0.4]]]]
    )
    for forward in (layers.max_pool_forward_naive, layers.max_pool_forward_fast):
        out, _ = forward(x, _param((2, 2, 2)))
        np.testing.assert_allclose(out, correct_out, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_routes_to_the_first_maximum_of_each_window(kind):
    # Windows of a 2x4 image: [[1, 3], [3, 2]] (tie: the first 3 in row order wins)
    # and [[5, 5], [5, 5]] (all tied: the top-left wins).
    x = np.array([[[[1.0, 3.0, 5.0, 5.0], [3.0, 2.0, 5.0, 5.0]]]])
    out, cache = getattr(layers, f"max_pool_forward_{kind}")(x, _param((2, 2, 2)))
    dx = getattr(layers, f"max_pool_backward_{kind}")(np.array([[[[10.0, 20.0]]]]), cache)
    np.testing.assert_array_equal(out, [[[[3.0, 5.0]]]])
    np.testing.assert_array_equal(dx, [[[[0, 10, 20, 0], [0, 0, 0, 0]]]])


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_max_pool_fast_routes_a_nan_window_to_its_first_nan_as_naive(rng, config):
    x_shape, window = config
    x = rng.normal(size=x_shape)
    x.flat[rng.choice(x.size, size=max(2, x.size // 6), replace=False)] = np.nan
    (out, dx, _), (out_fast, dx_fast, _) = _both(x, _param(window), 4)
    assert np.isnan(out).any()
    np.testing.assert_array_equal(out_fast, out)       # NaN where a window holds one
    np.testing.assert_allclose(dx_fast, dx, rtol=1e-12, atol=1e-15)   # sums overlap in any order


def test_max_pool_fast_sends_a_nan_windows_gradient_to_the_first_nan():
    x = np.array([[[[1.0, np.nan], [np.nan, 3.0]]]])
    out, cache = layers.max_pool_forward_fast(x, _param((2, 2, 2)))
    dx = layers.max_pool_backward_fast(np.array([[[[7.0]]]]), cache)
    assert np.isnan(out).all()
    np.testing.assert_array_equal(dx, [[[[0, 7.0], [0, 0]]]])


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_overlapping_windows_add_up_at_a_shared_winner(kind):
    # 1x3 windows with stride 1 over [0, 9, 1, 2]: both windows pick the 9.
    x = np.array([[[[0.0, 9.0, 1.0, 2.0]]]])
    out, cache = getattr(layers, f"max_pool_forward_{kind}")(x, _param((1, 3, 1)))
    dx = getattr(layers, f"max_pool_backward_{kind}")(np.array([[[[1.5, 2.0]]]]), cache)
    np.testing.assert_array_equal(out, [[[[9.0, 9.0]]]])
    np.testing.assert_array_equal(dx, [[[[0, 3.5, 0, 0]]]])


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("values", ["ties", "distinct"])
def test_max_pool_fast_matches_naive_exactly(rng, config, values):
    x_shape, window = config
    x = rng.integers(0, 3, size=x_shape) if values == "ties" else rng.normal(size=x_shape)
    (out, dx, dout), (out_fast, dx_fast, _) = _both(x.astype(np.float64), _param(window), 1)
    PH, PW, stride = window
    N, C, H, W = x_shape
    assert out.shape == (N, C, 1 + (H - PH) // stride, 1 + (W - PW) // stride)
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_allclose(dx_fast, dx, rtol=1e-12, atol=1e-15)
    assert dx.shape == x_shape
    assert np.count_nonzero(dx) <= out.size            # one winner per window at most
    np.testing.assert_allclose(dx.sum(), dout.sum())   # and every window has one


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_max_pool_fast_takes_strided_views_of_x_and_dout(rng, config):
    x_shape, window = config
    x = rng.normal(size=x_shape[::-1]).transpose(3, 2, 1, 0)      # no axis contiguous
    out, cache = layers.max_pool_forward_naive(x.copy(), _param(window))
    dout = rng.normal(size=out.shape[::-1]).T
    out_fast, cache_fast = layers.max_pool_forward_fast(x, _param(window))
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_allclose(layers.max_pool_backward_fast(dout, cache_fast),
                               layers.max_pool_backward_naive(dout.copy(), cache),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_max_pool_fast_splits_the_batch_over_threads_with_the_same_values(rng, config,
                                                                          monkeypatch):
    x_shape, window = config
    x = rng.integers(0, 3, size=(5, *x_shape[1:])).astype(np.float64)
    (out, dx, _), _ = _both(x, _param(window), 1)
    monkeypatch.setattr(layers.pool, "_PARALLEL_MIN", 1)
    monkeypatch.setattr(layers.pool, "_THREADS", 3)
    monkeypatch.setattr(layers.pool, "_BLOCKS_PER_THREAD", 1)      # three blocks: 1, 2 and 2 images
    _, (out_fast, dx_fast, _) = _both(x, _param(window), 1)
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_allclose(dx_fast, dx, rtol=1e-12, atol=1e-15)


def test_max_pool_fast_runs_big_batches_in_blocks_in_parallel(rng, monkeypatch):
    x = rng.normal(size=(8, 4, 48, 48)).astype(np.float32)
    assert x.size >= layers.pool._PARALLEL_MIN
    monkeypatch.setattr(layers.pool, "_THREADS", 2)                # eight blocks of one image
    monkeypatch.setattr(layers.pool, "_BLOCKS_PER_THREAD", 4)
    (out, dx, _), (out_fast, dx_fast, _) = _both(x, _param((2, 2, 2)), 5)
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_array_equal(dx_fast, dx)


def test_blocks_cover_the_batch_once_over_several_threads(monkeypatch):
    monkeypatch.setattr(layers.pool, "_THREADS", 2)
    monkeypatch.setattr(layers.pool, "_BLOCKS_PER_THREAD", 4)
    done, lock = [], threading.Lock()

    def work(block):
        time.sleep(0.01)                                           # long enough for both to start
        with lock:
            done.append((block.start, block.stop, threading.current_thread().name))

    layers.pool._in_parallel(work, 20, layers.pool._PARALLEL_MIN)
    assert sorted((start, stop) for start, stop, _ in done) == [
        (0, 2), (2, 5), (5, 7), (7, 10), (10, 12), (12, 15), (15, 17), (17, 20)]
    assert len({name for _, _, name in done}) == 2


def test_an_error_in_a_worker_thread_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(layers.pool, "_THREADS", 2)

    def work(block):
        time.sleep(0.01)                                           # so that the worker takes one
        if threading.current_thread() is not threading.main_thread():
            raise MemoryError(f"block {block.start} in a worker")

    with pytest.raises(MemoryError, match="in a worker"):
        layers.pool._in_parallel(work, 8, layers.pool._PARALLEL_MIN)


def test_max_pool_fast_caches_only_the_winners_offsets(rng):
    x = rng.normal(size=(2, 3, 8, 8))
    _, cache = layers.max_pool_forward_fast(x, _param((2, 2, 2)))
    cached = [a for a in cache if isinstance(a, np.ndarray)]
    assert [(a.shape, a.dtype) for a in cached] == [((2, 3, 4, 4), np.uint8)]


def test_max_pool_fast_offsets_count_from_each_windows_top_left_pixel():
    x = np.zeros((1, 1, 4, 40))
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = x[0, 0, 3, 39] = 1.0   # winners of three 2x2 windows
    _, (_, _, arg, _) = layers.max_pool_forward_fast(x, _param((2, 2, 2)))
    assert arg.dtype == np.uint8                        # offsets up to 1 * 40 + 1
    assert (arg[0, 0, 0, 0], arg[0, 0, 1, 1], arg[0, 0, 1, 19]) == (41, 0, 41)
    assert np.count_nonzero(arg) == 2                   # ties elsewhere: the top-left wins
    _, (_, _, arg, _) = layers.max_pool_forward_fast(np.zeros((1, 1, 300, 300)), _param((2, 2, 2)))
    assert arg.dtype == np.uint16


def test_max_pool_fast_routes_windows_of_more_than_256_entries(rng):
    x = rng.permutation(2 * 17 * 17).reshape(1, 2, 17, 17).astype(np.float64)
    (out, dx, _), (out_fast, dx_fast, _) = _both(x, _param((17, 17, 1)), 3)
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_array_equal(dx_fast, dx)
    assert np.count_nonzero(dx_fast) == 2


@pytest.mark.parametrize("config", [CONFIGS["3x2 s2 overlaps"], CONFIGS["2x2 s2 drops"]])
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_gradient_matches_numeric(rng, config, kind):
    x_shape, window = config
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / np.prod(x_shape)   # no ties
    result = check_layer(getattr(layers, f"max_pool_forward_{kind}"),
                         getattr(layers, f"max_pool_backward_{kind}"), x, _param(window), seed=2)
    assert result.passed, str(result)


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_keeps_float32(rng, kind):
    x = rng.normal(size=(2, 3, 7, 6)).astype(np.float32)
    out, cache = getattr(layers, f"max_pool_forward_{kind}")(x, _param((3, 2, 2)))
    dx = getattr(layers, f"max_pool_backward_{kind}")(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32


def test_max_pool_accepts_lists_and_extra_keys():
    out, _ = layers.max_pool_forward_fast([[[[1, 2], [4, 3]]]],
                                          {**_param((2, 2, 2)), "mode": "train"})
    np.testing.assert_array_equal(out, [[[[4.0]]]])


BAD_INPUTS = [
    ({"x": np.zeros((3, 4, 4))}, r"max_pool_forward_\w+: x has shape \(3, 4, 4\); expected 4"),
    ({"pool_param": {"pool_height": 2, "pool_width": 2}},
     r"pool_param\['stride'\] is None; expected an integer >= 1"),
    ({"pool_param": _param((0, 2, 2))}, r"pool_param\['pool_height'\] is 0"),
    ({"pool_param": _param((2, 6, 1))},
     r"2x6 window is larger than x of shape \(1, 2, 4, 5\) padded by 0 on each side \(4x5\)"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS)
@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_rejects_bad_input_with_a_clear_message(change, message, kind):
    args = {"x": np.zeros((1, 2, 4, 5)), "pool_param": _param((2, 2, 2))}
    args.update(change)
    with pytest.raises(ValueError, match=message):
        getattr(layers, f"max_pool_forward_{kind}")(**args)


@pytest.mark.parametrize("kind", ["naive", "fast"])
def test_max_pool_backward_rejects_dout_of_the_wrong_shape(kind):
    _, cache = getattr(layers, f"max_pool_forward_{kind}")(np.zeros((1, 2, 4, 5)),
                                                           _param((2, 2, 2)))
    with pytest.raises(ValueError, match=r"dout has shape \(1, 2, 2, 3\); expected \(1, 2, 2, 2\)"):
        getattr(layers, f"max_pool_backward_{kind}")(np.zeros((1, 2, 2, 3)), cache)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), H=st.integers(1, 8), W=st.integers(1, 8),
       PH=st.integers(1, 4), PW=st.integers(1, 4), stride=st.integers(1, 4),
       levels=st.sampled_from([2, 5, 1000]))
def test_max_pool_fast_matches_naive_on_any_shape(seed, H, W, PH, PW, stride, levels):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, size=(2, 2, H, W)).astype(np.float64)
    pool_param = _param((min(PH, H), min(PW, W), stride))
    (out, dx, _), (out_fast, dx_fast, _) = _both(x, pool_param, seed)
    np.testing.assert_array_equal(out_fast, out)
    np.testing.assert_allclose(dx_fast, dx, rtol=1e-12, atol=1e-15)

"""stratified_split: a partition, every class in proportion, repeatable by seed."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from datasets import stratified_split


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    K=st.integers(1, 12),
    N=st.integers(1, 600),
    fractions=st.lists(st.floats(0, 0.45), min_size=1, max_size=3),
)
def test_stratified_split_partitions_in_proportion(seed, K, N, fractions):
    data_rng = np.random.default_rng(seed)
    y = data_rng.integers(0, K, size=N)
    counts = np.bincount(y, minlength=K)
    sizes = [int(f * N / len(fractions)) for f in fractions]
    parts = stratified_split(y, sizes, seed)

    assert [len(p) for p in parts[:-1]] == sizes
    everything = np.concatenate(parts)
    np.testing.assert_array_equal(np.sort(everything), np.arange(N))
    for part in parts:
        found = np.bincount(y[part], minlength=K)
        expected = len(part) * counts / N
        assert np.all(np.abs(found - expected) < 2), (found, expected)


def test_stratified_split_balanced_classes_split_exactly():
    y = np.repeat(np.arange(10), 100)
    val, test, train = stratified_split(y, [200, 100], seed=3)
    assert np.all(np.bincount(y[val]) == 20)
    assert np.all(np.bincount(y[test]) == 10)
    assert np.all(np.bincount(y[train]) == 70)


def test_stratified_split_seed_and_generator(rng):
    y = rng.integers(0, 5, size=300)
    a = stratified_split(y, [50, 50], seed=7)
    b = stratified_split(y, [50, 50], seed=np.random.default_rng(7))
    c = stratified_split(y, [50, 50], seed=8)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a[0], c[0])


def test_stratified_split_parts_are_shuffled():
    y = np.repeat(np.arange(3), 100)
    (train,) = stratified_split(y, [], seed=0)
    assert not np.array_equal(train, np.sort(train))
    assert len(np.unique(y[train[:30]])) == 3

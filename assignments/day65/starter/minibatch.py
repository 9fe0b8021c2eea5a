"""Day 65 homework: splitting the training samples into minibatches.

第 65 天作業：把訓練樣本的索引切成小批次（minibatch）。

Check your work with:  hwgrade check day65
"""

import numpy as np  # noqa: F401 - you will need it


def minibatches(n_samples, batch_size, rng=None):
    """Split the indices 0 .. n_samples-1 into batches of batch_size.

    把 0 到 n_samples-1 的索引切成每批 batch_size 個；沒有 rng 時依序，
    有 rng 時依 rng 抽出的一個隨機排列的順序；最後一批放剩下的索引。

    Returns a list of 1-d integer NumPy arrays that together hold every index
    of range(n_samples) exactly once:
    - without rng (rng is None): in order 0, 1, ..., n_samples-1;
    - with rng (a numpy.random.Generator): in the order of ONE permutation
      drawn from it, e.g. order = rng.permutation(n_samples). Use only this
      rng, never np.random.shuffle / np.random.permutation (numpy's global
      generator): the same seed must give the same batches.
    Every batch holds batch_size indices, except possibly the last, which
    holds the remainder (25 samples in batches of 10: sizes 10, 10, 5).
    batch_size > n_samples gives one batch; n_samples == 0 gives [].
    batch_size < 1 or n_samples < 0: raise ValueError. An argument that is
    not an integer (2.5, "10"): raise TypeError (or ValueError).

    >>> minibatches(7, 3)
    [array([0, 1, 2]), array([3, 4, 5]), array([6])]
    """
    raise NotImplementedError("minibatches is not written yet")

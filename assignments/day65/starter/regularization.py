"""Day 65 homework: L1 / L2 regularization and TensorFlow Playground's update rule.

第 65 天作業：L1 / L2 正規化，以及 Playground 的權重更新規則。不要修改輸入的陣列。

weights is a NumPy float array of any shape (0-d and empty included).
Never modify weights or gradient: build new arrays.

| name | penalty of one weight | derivative                         |
| ---- | --------------------- | ---------------------------------- |
| L1   | abs(w)                | -1 for w < 0, 0 at 0, +1 for w > 0 |
| L2   | 0.5 * w^2             | w                                  |

Check your work with:  hwgrade check day65
"""

import numpy as np  # noqa: F401 - you will need it


def l1_penalty(weights):
    """L1 penalty: the sum of |w| over all weights, as one float.

    L1 懲罰項：所有權重絕對值的總和，傳回一個浮點數。

    Return a Python float (float(...)) or a float64 NumPy scalar; no weights
    give 0.0.

    >>> l1_penalty(np.array([[1.0, -2.0], [0.5, 0.0]]))
    3.5
    """
    raise NotImplementedError("l1_penalty is not written yet")


def l2_penalty(weights):
    """L2 penalty: 0.5 * the sum of w^2 over all weights, as one float.

    L2 懲罰項：0.5 乘以所有權重平方的總和（別忘了 1/2），傳回一個浮點數。

    >>> l2_penalty(np.array([1.0, -2.0, 3.0]))
    7.0
    """
    raise NotImplementedError("l2_penalty is not written yet")


def l1_derivative(weights):
    """Derivative of the L1 penalty, elementwise: sign(w), with 0 at w == 0.

    L1 的導數：逐元素取 w 的正負號 sign(w)；w = 0 時為 0。

    Same shape as weights; a float64 array. Playground uses 0 at w == 0,
    which np.sign does; np.where(w >= 0, 1, -1) does not.

    >>> l1_derivative(np.array([-3.0, 0.0, 0.5]))
    array([-1.,  0.,  1.])
    """
    raise NotImplementedError("l1_derivative is not written yet")


def l2_derivative(weights):
    """Derivative of the L2 penalty, elementwise: w (as a new float64 array).

    L2 的導數：逐元素等於 w 本身（傳回新的 float64 陣列）。

    >>> l2_derivative(np.array([-3.0, 0.0, 0.5]))
    array([-3. ,  0. ,  0.5])
    """
    raise NotImplementedError("l2_derivative is not written yet")


def regularized_update(weights, gradient, learning_rate, rate, kind):
    """The weights after ONE update step, by TensorFlow Playground's rule.

    依 Playground 的規則更新一次權重：先在「更新前」的權重計算正規化導數 d，
    再做梯度步與正規化步；L1 時被正規化步推過 0 的權重設為 0。

    weights, gradient: float arrays of the same shape. learning_rate, rate:
    numbers (rate is the regularization rate). kind: "L1", "L2" or None.
    In this order:
      1. d = the regularization derivative AT THE WEIGHTS YOU WERE GIVEN
         (l1_derivative or l2_derivative of weights, before anything moves);
      2. gradient step:        w = weights - learning_rate * gradient
      3. regularization step:  w_new = w - learning_rate * rate * d
      4. L1 only: where w and w_new have opposite signs (w * w_new < 0), the
         regularization step pushed the weight across 0: it becomes exactly
         0.0 (Playground then treats that link as dead).
    kind None is the gradient step alone (whatever rate is).
    Return a new float64 array of the weights' shape; do not modify weights
    or gradient (no weights -= ...).

    >>> regularized_update(np.array([0.05, 0.001]), np.array([1.0, 0.0]), 0.1, 1.0, "L1")
    array([-0.15,  0.  ])
    """
    raise NotImplementedError("regularized_update is not written yet")

"""Day 65 homework: activation functions and their derivatives.

第 65 天作業：啟動函數與其導數。請完成下面每個函數，不要修改輸入的 z。

Rules for every function in this file:
- z is a NumPy float array of any shape (0-d, empty, 1-d, 3-d, ...) or a
  Python float.
- Return a NEW float64 array of z's shape (for a Python float, a float64 0-d
  array or a Python float). Convert first: z = np.asarray(z, dtype=np.float64)
  turns float32 arrays and Python floats into float64.
- Never modify z: no z[...] = ..., no z *= ..., no out=z.
- Work elementwise with NumPy (np.exp, np.tanh, np.maximum, np.where, ...);
  no Python loops needed.

Derivatives are taken at the pre-activation input z, as TensorFlow
Playground does: sigmoid_derivative(z) is the slope of sigmoid AT z, computed
from z (not from sigmoid's output).

Check your work with:  hwgrade check day65
"""

import numpy as np  # noqa: F401 - you will need it


def sigmoid(z):
    """Sigmoid: 1 / (1 + exp(-z)), elementwise.

    S 型函數：逐元素計算 1 / (1 + e^(-z))；|z| 再大（到 1e300）也不可溢位或產生 NaN。

    Must be numerically stable: for any finite z (|z| up to 1e300) return
    values in [0, 1], with no overflow warning and no NaN. np.exp(z) overflows
    for z > 709, so never take exp of a large positive number. Hint:
    e = np.exp(-np.abs(z)) is always in [0, 1]; 1 / (1 + e) is sigmoid(z) for
    z >= 0 and e / (1 + e) is sigmoid(z) for z < 0.

    >>> sigmoid(np.array([-1e300, 0.0, 2.0]))
    array([0.        , 0.5       , 0.88079708])
    """
    raise NotImplementedError("sigmoid is not written yet")


def sigmoid_derivative(z):
    """Slope of sigmoid at the input z: s * (1 - s) with s = sigmoid(z).

    sigmoid 的導數，在輸入 z 處計算：s * (1 - s)，其中 s = sigmoid(z)。

    z is the input of the activation, not its output: compute s = sigmoid(z)
    first. The result is in [0, 0.25] and is 0.25 at z = 0.

    >>> sigmoid_derivative(np.array([0.0, 2.0]))
    array([0.25      , 0.10499359])
    """
    raise NotImplementedError("sigmoid_derivative is not written yet")


def tanh(z):
    """Hyperbolic tangent tanh(z), elementwise (np.tanh is stable for any z).

    雙曲正切函數：逐元素計算 tanh(z)。

    >>> tanh(np.array([-1e300, 0.0, 1.0]))
    array([-1.        ,  0.        ,  0.76159416])
    """
    raise NotImplementedError("tanh is not written yet")


def tanh_derivative(z):
    """Slope of tanh at the input z: 1 - tanh(z)^2.

    tanh 的導數，在輸入 z 處計算：1 - tanh(z)^2（注意是平方）。

    >>> tanh_derivative(np.array([0.0, 1.0]))
    array([1.        , 0.41997434])
    """
    raise NotImplementedError("tanh_derivative is not written yet")


def relu(z):
    """ReLU: max(0, z), elementwise (np.maximum, not Python's max).

    ReLU：逐元素計算 max(0, z)。

    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    raise NotImplementedError("relu is not written yet")


def relu_derivative(z):
    """Slope of ReLU at the input z: 1 where z > 0, else 0.

    ReLU 的導數：z > 0 時為 1，z <= 0 時為 0（與 Playground 相同：relu'(0) = 0）。

    At z == 0 the slope is not defined; Playground uses 0 there, and so do
    we: test z > 0, not z >= 0. Return floats (0.0 / 1.0), not booleans.

    >>> relu_derivative(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 1.])
    """
    raise NotImplementedError("relu_derivative is not written yet")


def linear(z):
    """Linear (identity) activation: z itself, as a new float64 array.

    線性（恆等）函數：傳回與 z 相同的值（float64 的新陣列）。

    >>> linear(np.array([-2.0, 0.5]))
    array([-2. ,  0.5])
    """
    raise NotImplementedError("linear is not written yet")


def linear_derivative(z):
    """Slope of the linear activation: 1 everywhere, as an array of z's shape.

    線性函數的導數：與 z 同形狀、全部為 1 的陣列（不是數字 1）。

    >>> linear_derivative(np.zeros((2, 2)))
    array([[1., 1.],
           [1., 1.]])
    """
    raise NotImplementedError("linear_derivative is not written yet")

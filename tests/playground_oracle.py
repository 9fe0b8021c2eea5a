"""Test oracle: a literal, one-example-at-a-time port of TensorFlow Playground's training loop.

This module re-implements, on purpose slowly and without numpy, the parts of the public
repository tensorflow/playground that train a classification network:

* ``src/nn.ts``: ``Node``, ``Link``, ``buildNetwork``, ``forwardProp``, ``backProp``,
  ``updateWeights``, ``Activations``, ``RegularizationFunction``, ``Errors.SQUARE``
  (the current version, with ``Link.isDead`` and the L1 zero-crossing rule);
* ``src/playground.ts``: ``oneStep`` (one epoch) and ``getLoss``.

It follows nn.ts statement by statement: the same objects with the same fields, the same loops
in the same order and the same arithmetic order in every expression, using Python floats and
the ``math`` module only. It is slow and obviously right, and it is the reference the vectorized
engine in ``grader`` must match to 1e-12. It is independent of that package on purpose: do not
import anything from ``grader`` here. Names (``totalInput``, ``accErrorDer``, ``updateWeights``,
...) keep their nn.ts camelCase spelling so that each line can be checked against the source.

Where JavaScript and Python floats behave differently (``Math.exp`` overflowing to Infinity,
``Math.max`` with NaN, ``0 / 0``) small helpers mirror the JavaScript result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OracleResult", "train_oracle"]


# --- JavaScript number semantics -----------------------------------------------------------


def _js_exp(x: float) -> float:
    """Math.exp: JS returns Infinity on overflow where Python's math.exp raises."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _js_max0(x: float) -> float:
    """Math.max(0, x): NaN if x is NaN (Python's max(0, nan) would give 0), +0 for -0."""
    if x != x:
        return math.nan
    return x if x > 0 else 0.0


def _js_pow2(x: float) -> float:
    """Math.pow(x, 2): Infinity on overflow where Python's math.pow raises."""
    try:
        return math.pow(x, 2)
    except OverflowError:
        return math.inf


# --- nn.ts: ErrorFunction, ActivationFunction, RegularizationFunction ----------------------


@dataclass(frozen=True)
class ErrorFunction:
    error: Callable[[float, float], float]
    der: Callable[[float, float], float]


@dataclass(frozen=True)
class ActivationFunction:
    output: Callable[[float], float]
    der: Callable[[float], float]


@dataclass(frozen=True)
class RegularizationFunction:
    output: Callable[[float], float]
    der: Callable[[float], float]


# Errors.SQUARE: error = 0.5 * Math.pow(output - target, 2), der = output - target.
SQUARE = ErrorFunction(
    error=lambda output, target: 0.5 * _js_pow2(output - target),
    der=lambda output, target: output - target,
)


def _tanh_output(x: float) -> float:
    return math.tanh(x)


def _tanh_der(x: float) -> float:
    # nn.ts recomputes the output from the total input: 1 - output * output.
    output = TANH.output(x)
    return 1 - output * output


def _sigmoid_output(x: float) -> float:
    # 1 / (1 + Math.exp(-x)). For x below about -709.78, exp(-x) overflows: JS gives
    # Infinity and so an output of exactly 0, which _js_exp mirrors (math.exp would raise).
    return 1 / (1 + _js_exp(-x))


def _sigmoid_der(x: float) -> float:
    output = SIGMOID.output(x)
    return output * (1 - output)


TANH = ActivationFunction(output=_tanh_output, der=_tanh_der)
# RELU der is 0 at exactly 0 (x <= 0 ? 0 : 1).
RELU = ActivationFunction(output=_js_max0, der=lambda x: 0.0 if x <= 0 else 1.0)
SIGMOID = ActivationFunction(output=_sigmoid_output, der=_sigmoid_der)
LINEAR = ActivationFunction(output=lambda x: x, der=lambda x: 1.0)

# L1 der: w < 0 ? -1 : (w > 0 ? 1 : 0) -- 0 at exactly 0 (older nn.ts versions returned 1).
L1 = RegularizationFunction(
    output=lambda w: abs(w),
    der=lambda w: -1.0 if w < 0 else (1.0 if w > 0 else 0.0),
)
L2 = RegularizationFunction(output=lambda w: 0.5 * w * w, der=lambda w: w)

_ACTIVATIONS = {"tanh": TANH, "relu": RELU, "sigmoid": SIGMOID, "linear": LINEAR}
_REGULARIZATIONS: dict[str | None, RegularizationFunction | None] = {
    None: None,
    "L1": L1,
    "L2": L2,
}


# --- nn.ts: Node and Link --------------------------------------------------------------------


class Node:
    """nn.ts Node: bias, input/output links and the per-example derivative state."""

    def __init__(self, node_id: str, activation: ActivationFunction) -> None:
        self.id = node_id
        self.inputLinks: list[Link] = []
        self.bias = 0.1  # nn.ts default; train_oracle overwrites it with the given bias
        self.outputs: list[Link] = []
        self.totalInput = 0.0
        self.output = 0.0
        self.outputDer = 0.0
        self.inputDer = 0.0
        # Accumulated dE/d(total input) since the last update; equals dE/db.
        self.accInputDer = 0.0
        self.numAccumulatedDers = 0
        self.activation = activation

    def updateOutput(self) -> float:
        # totalInput = bias, then += weight * source.output in input-link order. Dead links
        # are not skipped here (their weight is 0), exactly as in nn.ts.
        self.totalInput = self.bias
        for link in self.inputLinks:
            self.totalInput += link.weight * link.source.output
        self.output = self.activation.output(self.totalInput)
        return self.output


class Link:
    """nn.ts Link: weight, isDead and the accumulated weight derivative."""

    def __init__(
        self,
        source: Node,
        dest: Node,
        regularization: RegularizationFunction | None,
        weight: float,
    ) -> None:
        self.id = source.id + "-" + dest.id
        self.source = source
        self.dest = dest
        # nn.ts draws Math.random() - 0.5 here; the oracle takes the weight as given.
        self.weight = weight
        self.isDead = False
        self.errorDer = 0.0
        self.accErrorDer = 0.0
        self.numAccumulatedDers = 0
        self.regularization = regularization


Network = list[list[Node]]


def buildNetwork(
    networkShape: Sequence[int],
    activation: ActivationFunction,
    outputActivation: ActivationFunction,
    regularization: RegularizationFunction | None,
    inputIds: Sequence[str],
    weights: list[list[list[float]]],
    biases: list[list[float]],
) -> Network:
    """nn.ts buildNetwork, with the given weights/biases instead of random ones.

    Construction order is the nn.ts one: for each non-input layer, for each node j in it,
    for each node i of the previous layer, a link i -> j whose weight is weights[l][j][i].
    """
    numLayers = len(networkShape)
    node_id = 1
    network: Network = []
    for layerIdx in range(numLayers):
        isOutputLayer = layerIdx == numLayers - 1
        isInputLayer = layerIdx == 0
        currentLayer: list[Node] = []
        network.append(currentLayer)
        numNodes = networkShape[layerIdx]
        for i in range(numNodes):
            nodeId = str(node_id)
            if isInputLayer:
                nodeId = inputIds[i]
            else:
                node_id += 1
            node = Node(nodeId, outputActivation if isOutputLayer else activation)
            if layerIdx >= 1:
                node.bias = biases[layerIdx - 1][i]
            currentLayer.append(node)
            if layerIdx >= 1:
                # Add links from nodes in the previous layer to this node.
                for j, prevNode in enumerate(network[layerIdx - 1]):
                    link = Link(prevNode, node, regularization, weights[layerIdx - 1][i][j])
                    prevNode.outputs.append(link)
                    node.inputLinks.append(link)
    return network


# --- nn.ts: forwardProp, backProp, updateWeights ----------------------------------------------


def forwardProp(network: Network, inputs: Sequence[float]) -> float:
    inputLayer = network[0]
    if len(inputs) != len(inputLayer):
        raise ValueError("The number of inputs must match the number of nodes in the input layer")
    # Update the input layer.
    for i, node in enumerate(inputLayer):
        node.output = inputs[i]
    for layerIdx in range(1, len(network)):
        for node in network[layerIdx]:
            node.updateOutput()
    return network[-1][0].output


def backProp(network: Network, target: float, errorFunc: ErrorFunction) -> None:
    # The output node is the special case: its outputDer comes from the error function.
    outputNode = network[-1][0]
    outputNode.outputDer = errorFunc.der(outputNode.output, target)

    # Go through the layers backwards.
    for layerIdx in range(len(network) - 1, 0, -1):
        currentLayer = network[layerIdx]
        # 1) dE/d(total input) of each node; accumulated for the bias.
        for node in currentLayer:
            node.inputDer = node.outputDer * node.activation.der(node.totalInput)
            node.accInputDer += node.inputDer
            node.numAccumulatedDers += 1

        # 2) dE/dw of each weight coming into the node; dead links take no gradient.
        for node in currentLayer:
            for link in node.inputLinks:
                if link.isDead:
                    continue
                link.errorDer = node.inputDer * link.source.output
                link.accErrorDer += link.errorDer
                link.numAccumulatedDers += 1

        if layerIdx == 1:
            continue
        # 3) dE/d(output) of each node of the previous layer, summed over its output links
        #    in order (dead links included: their weight is 0).
        for node in network[layerIdx - 1]:
            node.outputDer = 0.0
            for output in node.outputs:
                node.outputDer += output.weight * output.dest.inputDer


def updateWeights(network: Network, learningRate: float, regularizationRate: float) -> None:
    for layerIdx in range(1, len(network)):
        for node in network[layerIdx]:
            # Update the node's bias (never regularized).
            if node.numAccumulatedDers > 0:
                # nn.ts: bias -= learningRate * accInputDer / numAccumulatedDers, i.e.
                # (lr * acc) / n -- the spec writes lr * (acc / n), which rounds differently.
                node.bias = node.bias - learningRate * node.accInputDer / node.numAccumulatedDers
                node.accInputDer = 0.0
                node.numAccumulatedDers = 0
            # Update the weights coming into this node.
            for link in node.inputLinks:
                if link.isDead:
                    continue
                # Regularization derivative at the weight's value before this update.
                regulDer = (
                    link.regularization.der(link.weight) if link.regularization is not None else 0.0
                )
                if link.numAccumulatedDers > 0:
                    # Update the weight based on dE/dw. nn.ts: w - (lr / n) * acc; the spec
                    # writes w - lr * (acc / n), which rounds differently.
                    link.weight = (
                        link.weight - (learningRate / link.numAccumulatedDers) * link.accErrorDer
                    )
                    # Further update the weight based on regularization.
                    newLinkWeight = link.weight - (learningRate * regularizationRate) * regulDer
                    if link.regularization is L1 and link.weight * newLinkWeight < 0:
                        # The weight crossed 0 due to the regularization term: set it to 0
                        # and kill the link for the rest of training.
                        link.weight = 0.0
                        link.isDead = True
                    else:
                        link.weight = newLinkWeight
                    link.accErrorDer = 0.0
                    link.numAccumulatedDers = 0


# --- playground.ts: getLoss and oneStep -------------------------------------------------------


def getLoss(network: Network, inputs: list[list[float]], labels: list[float]) -> float:
    loss = 0.0
    for x, label in zip(inputs, labels, strict=True):
        output = forwardProp(network, x)
        loss += SQUARE.error(output, label)
    # JS: loss / dataPoints.length is NaN (0 / 0) for an empty set; Python would raise.
    return loss / len(inputs) if inputs else math.nan


def oneStep(
    network: Network,
    inputs: list[list[float]],
    labels: list[float],
    batchSize: int,
    learningRate: float,
    regularizationRate: float,
) -> None:
    """One epoch: every training point in order; update after every batchSize-th point.

    Points left over at the end (n not a multiple of batchSize) keep their accumulated
    derivatives, so they are averaged into the first update of the next epoch.
    """
    for i, (x, label) in enumerate(zip(inputs, labels, strict=True)):
        forwardProp(network, x)
        backProp(network, label, SQUARE)
        if (i + 1) % batchSize == 0:
            updateWeights(network, learningRate, regularizationRate)


# --- public API -------------------------------------------------------------------------------


@dataclass
class OracleResult:
    """Per-epoch (train loss, test loss), and the final weights, biases and dead-link flags.

    ``weights[l][j][i]`` is the link from node i of layer l to node j of layer l + 1 (layer 0
    being the inputs); ``dead`` has the same nesting; ``biases[l][j]`` is node j's bias.
    """

    curve: list[tuple[float, float]] = field(default_factory=list)
    weights: list[list[list[float]]] = field(default_factory=list)
    biases: list[list[float]] = field(default_factory=list)
    dead: list[list[list[bool]]] = field(default_factory=list)


def _to_float_rows(rows: Any) -> list[list[float]]:
    return [[float(v) for v in row] for row in rows]


def train_oracle(
    x_train: Any,
    y_train: Any,
    x_test: Any,
    y_test: Any,
    weights: Any,
    biases: Any,
    *,
    activation: str,
    learning_rate: float,
    batch_size: int,
    regularization: str | None,
    regularization_rate: float,
    epochs: int,
) -> OracleResult:
    """Train like Playground's oneStep, ``epochs`` times, from the given initial parameters.

    ``activation`` is the hidden layers' activation ("tanh", "relu", "sigmoid", "linear");
    the output node is always tanh (Playground's classification problem). ``regularization``
    is None, "L1" or "L2". Inputs may be numpy arrays or nested lists; they are copied into
    Python floats and never mutated.
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    if regularization not in _REGULARIZATIONS:
        raise ValueError(f"unknown regularization {regularization!r}")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    batch_size = int(batch_size)
    epochs = int(epochs)

    xs_train = _to_float_rows(x_train)
    ys_train = [float(v) for v in y_train]
    xs_test = _to_float_rows(x_test)
    ys_test = [float(v) for v in y_test]
    if len(xs_train) != len(ys_train) or len(xs_test) != len(ys_test):
        raise ValueError("features and labels differ in length")

    w0 = [_to_float_rows(layer) for layer in weights]
    b0 = [[float(v) for v in layer] for layer in biases]
    if not w0 or len(w0) != len(b0):
        raise ValueError("need one weights and one biases entry per non-input layer")
    num_inputs = len(w0[0][0]) if w0[0] else 0
    shape = [num_inputs]
    for layer_w, layer_b in zip(w0, b0, strict=True):
        if len(layer_w) != len(layer_b) or any(len(row) != shape[-1] for row in layer_w):
            raise ValueError("weights[l] must have shape (len(biases[l]), previous layer size)")
        shape.append(len(layer_w))
    if shape[-1] != 1:
        raise ValueError("the output layer must have exactly one node")

    network = buildNetwork(
        shape,
        _ACTIVATIONS[activation],
        TANH,  # outputActivation: tanh for classification (playground.ts reset())
        _REGULARIZATIONS[regularization],
        [f"x{i + 1}" for i in range(num_inputs)],
        w0,
        b0,
    )

    lr = float(learning_rate)
    rr = float(regularization_rate)
    curve: list[tuple[float, float]] = []
    for _ in range(epochs):
        oneStep(network, xs_train, ys_train, batch_size, lr, rr)
        # Loss after each step with the current weights (playground.ts oneStep).
        curve.append((getLoss(network, xs_train, ys_train), getLoss(network, xs_test, ys_test)))

    return OracleResult(
        curve=curve,
        weights=[
            [[link.weight for link in node.inputLinks] for node in layer] for layer in network[1:]
        ],
        biases=[[node.bias for node in layer] for layer in network[1:]],
        dead=[
            [[link.isDead for link in node.inputLinks] for node in layer] for layer in network[1:]
        ],
    )

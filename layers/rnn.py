"""The vanilla RNN: one step and a whole sequence (the course's rnn_layers names).

Shapes: N sequences, T time steps, D input features, H hidden units. A sequence
x is (N, T, D), its hidden states h are (N, T, H); the step functions see one
time step: x (N, D), h (N, H).

Backpropagation through time: h_t depends on h_{t-1}, so the gradient reaching
h_{t-1} is its own upstream gradient dh[:, t-1] plus the gradient carried back
from step t. The sequence backward walks t = T-1 .. 0 and adds the two.
"""

import numpy as np

from ._checks import as_dout, as_float, check_ndim, check_shape


def check_recurrent(func, x, h0, Wx, Wh, b, gates, step):
    """Validate a recurrent layer's inputs; gates = 1 (RNN), 3 (GRU) or 4 (LSTM).

    x is (N, D) for a step, (N, T, D) for a sequence; h0 (N, H), Wx (D, gH),
    Wh (H, gH), b (gH,). Returns them as float arrays.
    """
    x = as_float(func, "x", x)
    h_name = "prev_h" if step else "h0"
    h0 = as_float(func, h_name, h0, like=x)
    Wx = as_float(func, "Wx", Wx, like=x)
    Wh = as_float(func, "Wh", Wh, like=x)
    b = as_float(func, "b", b, like=x)
    check_ndim(func, "x", x, "ND" if step else "NTD")
    if not step and x.shape[1] == 0:
        raise ValueError(f"{func}: x has shape {x.shape}; expected at least one time step")
    check_ndim(func, h_name, h0, "NH")
    check_ndim(func, "Wx", Wx, "DG")
    H = h0.shape[1]
    g = f"{gates}H = {gates * H}" if gates > 1 else f"H = {H}"
    because = f"(x {x.shape} and {h_name} {h0.shape} give D = {x.shape[-1]}, {g})"
    check_shape(func, h_name, h0, (len(x), H), because=f"(one row per sequence of x {x.shape})")
    check_shape(func, "Wx", Wx, (x.shape[-1], gates * H), because=because)
    check_shape(func, "Wh", Wh, (H, gates * H), because=because)
    check_shape(func, "b", b, (gates * H,), because=because)
    return x, h0, Wx, Wh, b


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of a vanilla RNN: next_h = tanh(x Wx + prev_h Wh + b).

    Inputs:
    - x: input of shape (N, D)
    - prev_h: hidden state of the previous step, of shape (N, H)
    - Wx: input-to-hidden weights of shape (D, H)
    - Wh: hidden-to-hidden weights of shape (H, H)
    - b: biases of shape (H,)

    Returns a tuple of:
    - next_h: of shape (N, H)
    - cache: (x, prev_h, Wx, Wh, next_h)
    """
    x, prev_h, Wx, Wh, b = check_recurrent("rnn_step_forward", x, prev_h, Wx, Wh, b, 1, True)
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward pass of next_h = tanh(a), a = x Wx + prev_h Wh + b.

    da = dnext_h * (1 - next_h**2); then a is an affine map of x and of prev_h.

    Inputs:
    - dnext_h: upstream gradient, of shape (N, H)
    - cache: from rnn_step_forward

    Returns a tuple of:
    - dx: of shape (N, D)
    - dprev_h: of shape (N, H)
    - dWx: of shape (D, H)
    - dWh: of shape (H, H)
    - db: of shape (H,)
    """
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h = as_dout("rnn_step_backward", dnext_h, next_h.shape, like=next_h)
    # BEGIN SOLUTION rnn_step_backward
    # HINT: through tanh first (its derivative in terms of next_h), then the two affine maps
    da = dnext_h * (1 - next_h**2)           # tanh'(a) = 1 - tanh(a)^2
    dx = da @ Wx.T                           # dx = da Wx^T
    dprev_h = da @ Wh.T                      # dprev_h = da Wh^T
    dWx = x.T @ da                           # dWx = x^T da
    dWh = prev_h.T @ da                      # dWh = prev_h^T da
    db = da.sum(axis=0)                      # db = 1^T da
    # END SOLUTION
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence: h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    Inputs:
    - x: inputs of shape (N, T, D)
    - h0: initial hidden state of shape (N, H)
    - Wx (D, H), Wh (H, H), b (H,): as in rnn_step_forward

    Returns a tuple of:
    - h: hidden states of every step, of shape (N, T, H)
    - cache: the list of the T step caches
    """
    x, h0, Wx, Wh, b = check_recurrent("rnn_forward", x, h0, Wx, Wh, b, 1, False)
    return forward_through_time(rnn_step_forward, x, h0, Wx, Wh, b)


def forward_through_time(step_forward, x, h0, Wx, Wh, b):
    """Run step_forward(x_t, prev_h, Wx, Wh, b) -> (next_h, cache) for t = 0 .. T-1.

    Returns h (N, T, H) and the list of step caches; used by rnn_forward and gru_forward.
    """
    prev_h, hs, caches = h0, [], []
    for t in range(x.shape[1]):
        prev_h, step_cache = step_forward(x[:, t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(step_cache)
    return np.stack(hs, axis=1), caches


def rnn_backward(dh, cache):
    """Backpropagation through time of rnn_forward.

    dh holds the upstream gradient of every hidden state h_t (from the layers
    above); the gradient carried back from step t+1 is added to dh[:, t].

    Inputs:
    - dh: upstream gradients of shape (N, T, H)
    - cache: from rnn_forward

    Returns a tuple of:
    - dx: of shape (N, T, D)
    - dh0: of shape (N, H)
    - dWx (D, H), dWh (H, H), db (H,): summed over the time steps
    """
    return backward_through_time("rnn_backward", rnn_step_backward, dh, cache)


def backward_through_time(func, step_backward, dh, caches):
    """BPTT for any cell with one state whose step caches start (x, prev_h, Wx, Wh, ...).

    step_backward(dnext_h, step_cache) -> (dx, dprev_h, dWx, dWh, db); used by
    rnn_backward and gru_backward.
    """
    x0, h0, Wx, Wh = caches[0][:4]
    N, T, H = len(x0), len(caches), h0.shape[1]
    dh = as_dout(func, dh, (N, T, H), like=h0)
    # BEGIN SOLUTION rnn_backward
    # HINT: walk t = T-1 .. 0; each step's upstream gradient is dh[:, t] plus the gradient
    # HINT: carried back from step t+1; the weights' gradients add up over the steps
    dx = np.empty((N, T, x0.shape[1]), dtype=np.result_type(dh, Wx))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wx.shape[1], Wx.dtype)
    dprev_h = np.zeros_like(h0)              # nothing is carried into the last step
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = step_backward(dh[:, t] + dprev_h, caches[t])
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    # END SOLUTION
    return dx, dprev_h, dWx, dWh, db

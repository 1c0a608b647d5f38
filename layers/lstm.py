"""Gated recurrent layers: the LSTM (the course's names) and the GRU (names of our own).

Shapes: N sequences, T time steps, D input features, H hidden units. Step
functions see x (N, D) and h (N, H); sequence functions x (N, T, D) and h (N, T, H).

LSTM, gate order i, f, o, g along the 4H axis of Wx (D, 4H), Wh (H, 4H), b (4H,):
    a = x Wx + prev_h Wh + b                      (N, 4H)
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2H]), sigmoid(a[:, 2H:3H])
    g = tanh(a[:, 3H:])
    next_c = f * prev_c + i * g,  next_h = o * tanh(next_c)

GRU, gate order r, z, n along the 3H axis of Wx (D, 3H), Wh (H, 3H), b (3H,)
(PyTorch's torch.nn.GRU with its hidden bias b_hh = 0 and b_ih = b):
    ax = x Wx + b,  ah = prev_h Wh                (N, 3H) each
    r = sigmoid(ax_r + ah_r),  z = sigmoid(ax_z + ah_z)
    n = tanh(ax_n + r * ah_n)
    next_h = (1 - z) * n + z * prev_h
"""

import numpy as np

from ._checks import as_dout, as_float, check_shape
from .activations import sigmoid_forward
from .rnn import backward_through_time, check_recurrent, forward_through_time


def lstm_gates(a, prev_c):
    """The LSTM cell after its affine part: pre-activations a (N, 4H) and prev_c (N, H).

    sigmoid(a) is computed as (1 + tanh(a / 2)) / 2: one transcendental, no overflow.
    Returns next_h, next_c, gates = [i, f, o, g] (N, 4H) and tanh(next_c).
    """
    H = a.shape[1] // 4
    gates = np.empty_like(a)
    ifo, g = gates[:, :3 * H], gates[:, 3 * H:]
    np.tanh(a[:, :3 * H] * 0.5, out=ifo)
    ifo += 1
    ifo *= 0.5                                            # i, f, o = (1 + tanh(a / 2)) / 2
    np.tanh(a[:, 3 * H:], out=g)                          # g = tanh(a)
    i, f, o, g = np.split(gates, 4, axis=1)
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    return o * tanh_c, next_c, gates, tanh_c


def lstm_gates_backward(dnext_h, dnext_c, prev_c, gates, tanh_c):
    """Backward pass of lstm_gates: returns da (N, 4H) and dprev_c (N, H).

    dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2)   (next_c reaches the loss two ways)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh(next_c), dc * i
    da = [di i(1-i), df f(1-f), do o(1-o), dg (1-g**2)];  dprev_c = dc * f
    """
    # BEGIN SOLUTION lstm_step_backward
    # HINT: next_c reaches the loss directly (dnext_c) and through next_h = o * tanh(next_c);
    # HINT: then each gate, through its own nonlinearity, in the order i, f, o, g of the 4H axis
    i, f, o, g = np.split(gates, 4, axis=1)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)          # both paths into next_c
    da = np.concatenate([
        dc * g * i * (1 - i),                             # di through sigmoid
        dc * prev_c * f * (1 - f),                        # df through sigmoid
        dnext_h * tanh_c * o * (1 - o),                   # do through sigmoid
        dc * i * (1 - g**2),                              # dg through tanh
    ], axis=1)
    return da, dc * f                                     # next_c = f * prev_c + ...
    # END SOLUTION


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step (gate order i, f, o, g; see the module docstring).

    Inputs:
    - x: input of shape (N, D)
    - prev_h, prev_c: hidden and cell state of the previous step, each (N, H)
    - Wx (D, 4H), Wh (H, 4H), b (4H,): weights and biases of the four gates

    Returns a tuple of:
    - next_h, next_c: of shape (N, H) each
    - cache: (x, prev_h, prev_c, Wx, Wh, gates, tanh(next_c)), gates = [i, f, o, g] (N, 4H)
    """
    func = "lstm_step_forward"
    x, prev_h, Wx, Wh, b = check_recurrent(func, x, prev_h, Wx, Wh, b, 4, True)
    prev_c = as_float(func, "prev_c", prev_c, like=x)
    check_shape(func, "prev_c", prev_c, prev_h.shape, because="(the shape of prev_h)")
    next_h, next_c, gates, tanh_c = lstm_gates(x @ Wx + prev_h @ Wh + b, prev_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, gates, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of one LSTM step, given the gradients of both of its outputs.

    Through the gates (lstm_gates_backward) to da (N, 4H), then the affine map
    a = x Wx + prev_h Wh + b as in the RNN.

    Inputs:
    - dnext_h, dnext_c: upstream gradients, of shape (N, H) each
    - cache: from lstm_step_forward

    Returns a tuple of:
    - dx: of shape (N, D)
    - dprev_h, dprev_c: of shape (N, H) each
    - dWx (D, 4H), dWh (H, 4H), db (4H,)
    """
    x, prev_h, prev_c, Wx, Wh, gates, tanh_c = cache
    dnext_h = as_dout("lstm_step_backward", dnext_h, prev_c.shape, like=prev_c)
    dnext_c = as_float("lstm_step_backward", "dnext_c", dnext_c, like=prev_c)
    check_shape("lstm_step_backward", "dnext_c", dnext_c, prev_c.shape,
                because="(the shape of next_c)")
    da, dprev_c = lstm_gates_backward(dnext_h, dnext_c, prev_c, gates, tanh_c)
    dx = da @ Wx.T                                        # dx = da Wx^T
    dprev_h = da @ Wh.T                                   # dprev_h = da Wh^T
    dWx = x.T @ da                                        # dWx = x^T da
    dWh = prev_h.T @ da                                   # dWh = prev_h^T da
    db = da.sum(axis=0)                                   # db = 1^T da
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence, starting from h0 and c0 = 0.

    The input part x Wx + b of every step is one matrix product before the
    loop; only prev_h Wh must wait for the step before.

    Inputs:
    - x: inputs of shape (N, T, D)
    - h0: initial hidden state of shape (N, H)
    - Wx (D, 4H), Wh (H, 4H), b (4H,): as in lstm_step_forward

    Returns a tuple of:
    - h: hidden states of every step, of shape (N, T, H) (the cell states are not returned)
    - cache: (x, h0, Wx, Wh, h, c, gates, tanh_c), c and tanh_c (N, T, H), gates (N, T, 4H)
    """
    x, h0, Wx, Wh, b = check_recurrent("lstm_forward", x, h0, Wx, Wh, b, 4, False)
    (N, T, D), H = x.shape, h0.shape[1]
    ax = (x.reshape(N * T, D) @ Wx + b).reshape(N, T, 4 * H)    # every step's x Wx + b
    h = np.empty((N, T, H), dtype=ax.dtype)
    c, tanh_c, gates = np.empty_like(h), np.empty_like(h), np.empty_like(ax)
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, gates[:, t], tanh_c[:, t] = lstm_gates(ax[:, t] + prev_h @ Wh, prev_c)
        h[:, t], c[:, t] = prev_h, prev_c
    return h, (x, h0, Wx, Wh, h, c, gates, tanh_c)


def lstm_backward(dh, cache):
    """Backpropagation through time of lstm_forward.

    Both the hidden and the cell state carry a gradient back from step t+1; the
    hidden state's is added to the upstream dh[:, t], the cell state's is the
    only gradient its cell state gets (c is not an output). The loop collects
    da of every step; dx, dWx, dWh and db are then one matrix product each.

    Inputs:
    - dh: upstream gradients of every hidden state, of shape (N, T, H)
    - cache: from lstm_forward

    Returns a tuple of:
    - dx: of shape (N, T, D)
    - dh0: of shape (N, H)
    - dWx (D, 4H), dWh (H, 4H), db (4H,): summed over the time steps
    """
    x, h0, Wx, Wh, h, c, gates, tanh_c = cache
    (N, T, D), H = x.shape, h0.shape[1]
    dh = as_dout("lstm_backward", dh, h.shape, like=h)
    da = np.empty_like(gates)                             # (N, T, 4H)
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        prev_c = c[:, t - 1] if t else np.zeros_like(h0)
        da[:, t], dprev_c = lstm_gates_backward(dh[:, t] + dprev_h, dprev_c, prev_c,
                                                gates[:, t], tanh_c[:, t])
        dprev_h = da[:, t] @ Wh.T                          # carried to step t-1
    da2d = da.reshape(N * T, 4 * H)
    prev_h = np.concatenate([h0[:, None], h[:, :-1]], axis=1).reshape(N * T, H)
    dx = (da2d @ Wx.T).reshape(N, T, D)                   # dx = da Wx^T, every step
    dWx = x.reshape(N * T, D).T @ da2d                    # dWx = sum_t x_t^T da_t
    dWh = prev_h.T @ da2d                                 # dWh = sum_t h_{t-1}^T da_t
    return dx, dprev_h, dWx, dWh, da2d.sum(axis=0)


def gru_step_forward(x, prev_h, Wx, Wh, b):
    """One GRU step (gate order r, z, n; see the module docstring).

    Inputs:
    - x: input of shape (N, D)
    - prev_h: hidden state of the previous step, of shape (N, H)
    - Wx (D, 3H), Wh (H, 3H), b (3H,): weights and biases of the gates r, z and candidate n

    Returns a tuple of:
    - next_h: of shape (N, H)
    - cache: (x, prev_h, Wx, Wh, gates, ah_n), gates = [r, z, n] (N, 3H), ah_n = prev_h Wh_n
    """
    x, prev_h, Wx, Wh, b = check_recurrent("gru_step_forward", x, prev_h, Wx, Wh, b, 3, True)
    H = prev_h.shape[1]
    ax, ah = x @ Wx + b, prev_h @ Wh                      # (N, 3H) each
    gates = np.empty_like(ax)
    gates[:, :2 * H] = sigmoid_forward(ax[:, :2 * H] + ah[:, :2 * H])[0]   # r, z
    r, z = gates[:, :H], gates[:, H:2 * H]
    ah_n = ah[:, 2 * H:]
    gates[:, 2 * H:] = n = np.tanh(ax[:, 2 * H:] + r * ah_n)              # candidate n
    next_h = (1 - z) * n + z * prev_h
    return next_h, (x, prev_h, Wx, Wh, gates, ah_n)


def gru_step_backward(dnext_h, cache):
    """Backward pass of one GRU step.

    dn = dnext_h (1 - z), dz = dnext_h (prev_h - n), dprev_h gets dnext_h z directly;
    dan = dn (1 - n**2) reaches ax_n, and ah_n through r: dah_n = dan r, dr = dan ah_n;
    dar = dr r(1-r), daz = dz z(1-z). Then dax = [dar, daz, dan], dah = [dar, daz, dah_n].

    Inputs:
    - dnext_h: upstream gradient, of shape (N, H)
    - cache: from gru_step_forward

    Returns a tuple of:
    - dx: of shape (N, D)
    - dprev_h: of shape (N, H)
    - dWx (D, 3H), dWh (H, 3H), db (3H,)
    """
    x, prev_h, Wx, Wh, gates, ah_n = cache
    dnext_h = as_dout("gru_step_backward", dnext_h, prev_h.shape, like=prev_h)
    r, z, n = np.split(gates, 3, axis=1)
    dan = dnext_h * (1 - z) * (1 - n**2)                  # through n = tanh(...)
    dar = dan * ah_n * r * (1 - r)                        # through r = sigmoid(...)
    daz = dnext_h * (prev_h - n) * z * (1 - z)            # through z = sigmoid(...)
    dax = np.concatenate([dar, daz, dan], axis=1)         # (N, 3H)
    dah = np.concatenate([dar, daz, dan * r], axis=1)     # ah_n is scaled by r
    dx = dax @ Wx.T
    dprev_h = dnext_h * z + dah @ Wh.T                    # the direct path and the gates
    dWx = x.T @ dax
    dWh = prev_h.T @ dah
    db = dax.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def gru_forward(x, h0, Wx, Wh, b):
    """A GRU over a whole sequence, starting from h0.

    Inputs:
    - x: inputs of shape (N, T, D)
    - h0: initial hidden state of shape (N, H)
    - Wx (D, 3H), Wh (H, 3H), b (3H,): as in gru_step_forward

    Returns a tuple of:
    - h: hidden states of every step, of shape (N, T, H)
    - cache: the list of the T step caches
    """
    x, h0, Wx, Wh, b = check_recurrent("gru_forward", x, h0, Wx, Wh, b, 3, False)
    return forward_through_time(gru_step_forward, x, h0, Wx, Wh, b)


def gru_backward(dh, cache):
    """Backpropagation through time of gru_forward (the carried gradient added to dh[:, t]).

    Inputs:
    - dh: upstream gradients of every hidden state, of shape (N, T, H)
    - cache: from gru_forward

    Returns a tuple of:
    - dx: of shape (N, T, D)
    - dh0: of shape (N, H)
    - dWx (D, 3H), dWh (H, 3H), db (3H,): summed over the time steps
    """
    return backward_through_time("gru_backward", gru_step_backward, dh, cache)

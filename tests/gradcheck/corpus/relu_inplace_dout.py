def relu_forward(x):
    out = x * (x > 0)
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = dout
    dx[x < 0] = 0        # dx is dout: the caller's dout changes; at x == 0 dx = dout
    return dx

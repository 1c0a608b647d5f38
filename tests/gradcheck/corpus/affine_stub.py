def affine_forward(x, w, b):
    out = None
    # TODO: Implement the affine forward pass. Store the result in out.
    pass
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: Implement the affine backward pass.
    pass
    return dx, dw, db

def im2col_indices(x, field_height, field_width, padding=1, stride=1):
    return x

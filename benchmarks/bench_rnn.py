"""Time handgrad's LSTM and multi-head attention against PyTorch on CPU, side by side.

Forward plus backward, float32:
    LSTM over a sequence: N=64, T=32, D=128, H=256 (lstm_forward/backward vs torch.nn.LSTM)
    multi-head self-attention: N=32, T=64, E=128, 4 heads
        (self_attention_forward/backward vs torch.nn.MultiheadAttention)
Each is timed against its torch twin in alternating turns (the same thread
count), medians reported with the ratio handgrad / torch and the target.

Usage:
    python benchmarks/bench_rnn.py [--threads 2] [--repeats 9] [--no-torch]
"""

import argparse
import sys

import numpy as np
from _threads import pinned_torch
from bench_conv import side_by_side_ms

import layers

TARGETS = {"lstm": 2.0, "attention": 1.5}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="BLAS/torch threads (2)")
    parser.add_argument("--repeats", type=int, default=9, help="timed turns, median kept (9)")
    parser.add_argument("--no-torch", action="store_true", help="time handgrad only")
    return parser.parse_args(argv)


def lstm_steps(torch, rng, N=64, T=32, D=128, H=256):
    """(handgrad step, torch step) of one LSTM forward and backward on the same arrays."""
    f32 = np.float32
    x, h0 = rng.normal(size=(N, T, D)).astype(f32), rng.normal(size=(N, H)).astype(f32)
    Wx = (rng.normal(size=(D, 4 * H)) / np.sqrt(D)).astype(f32)
    Wh = (rng.normal(size=(H, 4 * H)) / np.sqrt(H)).astype(f32)
    b, dh = np.zeros(4 * H, f32), rng.normal(size=(N, T, H)).astype(f32)

    def ours():
        layers.lstm_backward(dh, layers.lstm_forward(x, h0, Wx, Wh, b)[1])

    if torch is None:
        return ours, None
    lstm = torch.nn.LSTM(D, H, batch_first=True)
    xt, h0t = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True)
    c0t, dht = torch.zeros_like(h0t), torch.tensor(dh)

    def theirs():
        lstm.zero_grad()
        xt.grad = h0t.grad = None
        lstm(xt, (h0t, c0t))[0].backward(dht)

    return ours, theirs


def attention_steps(torch, rng, N=32, T=64, E=128, heads=4):
    """(handgrad step, torch step) of one multi-head self-attention forward and backward."""
    f32 = np.float32
    x, dout = rng.normal(size=(N, T, E)).astype(f32), rng.normal(size=(N, T, E)).astype(f32)
    weights = [(rng.normal(size=s) / np.sqrt(E)).astype(f32) for s in [(E, E), (E,)] * 4]

    def ours():
        layers.self_attention_backward(dout, layers.self_attention_forward(x, *weights, heads)[1])

    if torch is None:
        return ours, None
    mha = torch.nn.MultiheadAttention(E, heads, batch_first=True)
    xt, doutt = torch.tensor(x, requires_grad=True), torch.tensor(dout)

    def theirs():
        mha.zero_grad()
        xt.grad = None
        mha(xt, xt, xt, need_weights=False)[0].backward(doutt)

    return ours, theirs


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    torch = pinned_torch(args, __file__, argv)
    print(f"threads: {args.threads} (numpy BLAS and torch), repeats: {args.repeats}, float32, "
          "forward + backward")
    print(f"{'layer':<44}{'ours ms':>9}{'torch ms':>10}{'ratio':>8}{'target':>8}")
    rng = np.random.default_rng(0)
    rows = [("lstm", "LSTM N=64 T=32 D=128 H=256", lstm_steps),
            ("attention", "self-attention N=32 T=64 E=128 heads=4", attention_steps)]
    for key, label, make in rows:
        ours, theirs = make(torch, rng)
        ms, ref = side_by_side_ms(ours, theirs, args.repeats)
        print(f"{label:<44}{ms:>9.1f}{ref:>10.1f}{ms / ref:>8.2f}{'<= ' + str(TARGETS[key]):>8}")
    print("ratio = ours / torch; targets: LSTM <= 2.0, attention <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())

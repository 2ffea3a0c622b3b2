"""Parallel scan: equal to the sequential loop (values and gradients), gradcheck, log-space form."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnref.models._scan import log_space_scan, parallel_scan, sequential_scan

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pair(shape, seed, *, dtype=F64, positive=False):
    g = torch.Generator().manual_seed(seed)
    if dtype.is_complex:
        real = torch.float64
        a = torch.complex(torch.randn(shape, generator=g, dtype=real), torch.randn(shape, generator=g, dtype=real))
        b = torch.complex(torch.randn(shape, generator=g, dtype=real), torch.randn(shape, generator=g, dtype=real))
        return 0.9 * a / a.abs().clamp(min=1), b
    a = torch.rand(shape, generator=g, dtype=dtype) * 2.2 - 1.1  # also negative and |a| > 1
    b = torch.randn(shape, generator=g, dtype=dtype)
    if positive:
        a, b = a.abs() + 0.01, b.abs() + 0.01
    return a, b


@settings(max_examples=30, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    T=st.integers(1, 70),
    dim_position=st.integers(0, 2),
    with_h0=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_parallel_scan_equals_the_loop(batch, T, dim_position, with_h0, seed):
    shape = list(batch)
    dim = min(dim_position, len(shape))
    shape.insert(dim, T)
    shape.append(2)  # a feature axis after time
    a, b = _pair(shape, seed)
    h0 = None
    if with_h0:
        h0 = torch.randn(shape[:dim] + shape[dim + 1 :], generator=torch.Generator().manual_seed(seed + 1), dtype=F64)
    expected = sequential_scan(a, b, h0, dim=dim)
    torch.testing.assert_close(parallel_scan(a, b, h0, dim=dim), expected, atol=1e-12, rtol=1e-10)


@pytest.mark.parametrize("T", [1, 2, 5, 16, 33])
def test_complex_scan_equals_the_loop(T):
    a, b = _pair((2, T, 3), seed=T, dtype=torch.complex128)
    h0 = torch.randn(2, 3, dtype=torch.complex128)
    torch.testing.assert_close(parallel_scan(a, b, h0), sequential_scan(a, b, h0), atol=1e-12, rtol=1e-10)


def test_closed_form_of_a_constant_recurrence():
    """a_t = r, b_t = 1, h_0 = c: h_t = r^t c + (1 - r^t) / (1 - r)."""
    r, c, T = 0.8, 3.0, 40
    a = torch.full((1, T, 1), r, dtype=F64)
    b = torch.ones(1, T, 1, dtype=F64)
    t = torch.arange(1, T + 1, dtype=F64)
    expected = r**t * c + (1 - r**t) / (1 - r)
    h = parallel_scan(a, b, torch.full((1, 1), c, dtype=F64))
    torch.testing.assert_close(h[0, :, 0], expected, atol=1e-13, rtol=0)


@pytest.mark.parametrize(("T", "dtype"), [(1, F64), (6, F64), (7, F64), (5, torch.complex128)])
def test_gradcheck_and_gradgradcheck(T, dtype):
    a, b = _pair((1, T, 2), seed=3, dtype=dtype)
    h0 = torch.randn(1, 2, dtype=dtype)
    inputs = [t.clone().requires_grad_(True) for t in (a, b, h0)]
    assert torch.autograd.gradcheck(parallel_scan, inputs)
    assert torch.autograd.gradgradcheck(parallel_scan, inputs)


def test_gradients_equal_the_loops_on_a_long_sequence():
    a, b = _pair((2, 300, 3), seed=4)
    a = a.clamp(-0.99, 0.99)
    h0 = torch.randn(2, 3, dtype=F64)
    weights = torch.randn(2, 300, 3, dtype=F64)
    grads = []
    for scan in (sequential_scan, parallel_scan):
        leaves = [t.clone().requires_grad_(True) for t in (a, b, h0)]
        (scan(*leaves) * weights).sum().backward()
        grads.append([leaf.grad for leaf in leaves])
    for got, expected in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-8)


def test_float32_long_sequence_is_finite_and_close_to_the_loop():
    g = torch.Generator().manual_seed(5)
    a = torch.rand(2, 4096, 4, generator=g) * 0.2 + 0.8
    b = torch.randn(2, 4096, 4, generator=g)
    h = parallel_scan(a, b)
    assert torch.isfinite(h).all()
    torch.testing.assert_close(h, sequential_scan(a, b), atol=1e-4, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 50), with_h0=st.booleans(), seed=st.integers(0, 2**16))
def test_log_space_scan_equals_the_loop(T, with_h0, seed):
    a, b = _pair((2, T, 3), seed, positive=True)
    a = a.clamp(max=1.0)
    h0 = torch.rand(2, 3, dtype=F64) + 0.1 if with_h0 else None
    log_h = log_space_scan(a.log(), b.log(), None if h0 is None else h0.log())
    torch.testing.assert_close(log_h.exp(), sequential_scan(a, b, h0), atol=1e-12, rtol=1e-10)


def test_log_space_scan_gradcheck():
    a, b = _pair((2, 5, 2), seed=6, positive=True)
    log_h0 = torch.randn(2, 2, dtype=F64)
    inputs = [t.log().clone().requires_grad_(True) for t in (a, b)] + [log_h0.requires_grad_(True)]
    assert torch.autograd.gradcheck(log_space_scan, inputs)
    assert torch.autograd.gradgradcheck(log_space_scan, inputs)


def test_bad_arguments_raise_value_errors():
    a = torch.rand(2, 5, 3)
    with pytest.raises(ValueError, match="same shape"):
        parallel_scan(a, torch.rand(2, 4, 3))
    with pytest.raises(ValueError, match="h0 must have shape"):
        parallel_scan(a, a, torch.zeros(2, 5))
    with pytest.raises(ValueError, match="at least one time step"):
        parallel_scan(torch.rand(2, 0, 3), torch.rand(2, 0, 3))
    with pytest.raises(ValueError, match="out of range"):
        sequential_scan(a, a, dim=3)
    with pytest.raises(ValueError, match="same dtype"):
        parallel_scan(a, a.double())
    with pytest.raises(ValueError, match="complex"):
        log_space_scan(a.to(torch.complex64), a.to(torch.complex64))

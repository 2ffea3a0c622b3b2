"""Memory: what a workload will need, what the device has, and what a run used.

The guard runs before anything is allocated: a workload whose estimate (parameters,
their gradients, inputs, outputs and their gradients, and the activations kept for
backward) does not fit into the memory the device has free is refused with the
estimate in the message. Estimates are deliberately simple and on the high side.

Peak memory of a run:

- CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, minus
  what was allocated before: the caching allocator's own count of tensor bytes.
- CPU: the process's resident-set high-water mark (``VmHWM`` in /proc/self/status)
  after resetting it (writing ``5`` to /proc/self/clear_refs, Linux >= 4.0), minus the
  resident size before. tracemalloc does not see torch's allocations and torch keeps
  no CPU allocator statistics, so this is the number the kernel has. It counts pages
  first touched during the call, so glibc's ``malloc_trim(0)`` first hands freed heap
  pages back to the kernel (without it, memory malloc reuses from an earlier call is
  not counted again and repeated measurements read low). Small workloads still read
  coarse (4 KiB pages, plus whatever the allocator keeps). None when /proc is not
  available.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rnnref.errors import InputError

# Leave room for the interpreter, torch itself and the other processes on the box.
USABLE_FRACTION = 0.8
_PROC = Path("/proc")


def gib(n: float) -> str:
    """Bytes as a short human number: 1.5 GiB, 12.0 MiB, 800 B."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


@dataclass(frozen=True)
class Estimate:
    """Bytes a workload needs, by kind."""

    parameters: int  # parameters and their gradients, every implementation
    io: int  # inputs, outputs and their gradients, every implementation
    activations: int  # saved for backward, one implementation at a time

    @property
    def total(self) -> int:
        return self.parameters + self.io + self.activations

    def describe(self) -> str:
        return (
            f"{gib(self.total)} (parameters and gradients {gib(self.parameters)}, inputs and outputs "
            f"{gib(self.io)}, activations {gib(self.activations)})"
        )


def meminfo_available(path: Path = _PROC / "meminfo") -> int | None:
    """MemAvailable from /proc/meminfo in bytes, or None where there is none."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available_bytes(device: str) -> int | None:
    """Free memory on ``device`` ("cpu" or "cuda[:N]"), or None when it cannot be told."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    return meminfo_available()


def check_fits(estimate: Estimate, device: str, what: str, available: int | None = None) -> None:
    """Raise InputError (exit 2) when ``estimate`` does not fit into the device's free memory."""
    if available is None:
        available = available_bytes(device)
    if available is None:
        return
    usable = int(available * USABLE_FRACTION)
    if estimate.total > usable:
        raise InputError(
            f"{what} is too large for {device}: it needs an estimated {estimate.describe()}, "
            f"but only {gib(usable)} of {gib(available)} free can be used; choose smaller sizes"
        )


# -- measuring a run ------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in (_PROC / "self" / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _trim_heap() -> None:
    """Return freed malloc memory to the kernel (glibc only; a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _reset_rss_peak() -> bool:
    _trim_heap()
    try:
        with open(_PROC / "self" / "clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakMemory:
    """Peak bytes allocated while the ``with`` block runs (see the module docstring).

    ``peak_bytes`` is None where the platform cannot tell.
    """

    def __init__(self, device: str):
        self.device = device
        self.peak_bytes: int | None = None

    def __enter__(self) -> "PeakMemory":
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._before = torch.cuda.memory_allocated(self.device)
        else:
            self._ok = _reset_rss_peak()
            self._before = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            return
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.device)
            self.peak_bytes = max(0, torch.cuda.max_memory_allocated(self.device) - self._before)
        else:
            peak = _status_kib("VmHWM")
            if self._ok and peak is not None and self._before is not None:
                self.peak_bytes = max(0, (peak - self._before) * 1024)


"""A test-only adapter: the rnnref cell protocol over torch.nn's own cells, so the
wrappers (Bidirectional, Stacked) can be checked against torch independently of
rnnref's cells."""

from __future__ import annotations

import torch
from torch import nn

class TorchCell(nn.Module):
    """The rnnref cell protocol over torch.nn.RNNCell / GRUCell / LSTMCell (test-only adapter)."""

    def __init__(self, cell: nn.RNNCellBase) -> None:
        super().__init__()
        self.cell = cell
        self.input_size = cell.input_size
        self.hidden_size = self.output_size = cell.hidden_size

    def init_state(self, batch_size, *, dtype, device):
        h = torch.zeros(batch_size, self.hidden_size, dtype=dtype, device=device)
        return (h, h.clone()) if isinstance(self.cell, nn.LSTMCell) else h

    def step(self, x_t, state):
        if isinstance(self.cell, nn.LSTMCell):
            h, c = self.cell(x_t, state)
            return h, (h, c)
        h = self.cell(x_t, state)
        return h, h

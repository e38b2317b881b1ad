"""The differentiable ops, one small `Function` each, grouped by kind."""

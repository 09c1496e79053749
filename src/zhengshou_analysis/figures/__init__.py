"""The figures (指标): indicator definitions, their computation and the key figures file."""

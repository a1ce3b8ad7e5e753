"""Operations: the Prometheus /metrics endpoint of a bot process."""

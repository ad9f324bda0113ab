"""runtime: what training and evaluation share to run a model: batching, precision, device, prediction."""

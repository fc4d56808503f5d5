"""Python tools for qlm's tests and benchmarks: safetensors I/O in numpy, random-weight
checkpoints, an MLX-layout quantizer, and an independent PyTorch reference forward pass."""

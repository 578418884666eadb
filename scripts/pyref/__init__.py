"""Python reference of inferwatch's image pipeline (decode -> preprocess), built on torchvision.

The C++ engine must give the same tensors, so the scores match (see tests/integration/test_parity.py).
Used by scripts/train-demo-model, so the demo model is trained on exactly what the daemon feeds it.
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision, python3-pil).
"""

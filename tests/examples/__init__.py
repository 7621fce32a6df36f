"""Tests of examples/: the manifests each example renders, their values, and what ESO and the
kubelet make of them. The helpers here also render the committed copies (`make manifests`)."""

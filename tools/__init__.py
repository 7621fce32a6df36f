"""Developer tooling: what the Makefile runs besides the tests (`make demo`, `make docs`,
`make scan-iam`, the offline Terraform runs). Tests live in tests/, benchmarks in bench/."""

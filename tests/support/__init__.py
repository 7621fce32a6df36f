"""Test, demo and benchmark helpers: moto set-up, fault injection, a loopback registry stub.

Nothing here is part of the Lambda package; production code has no switch that points it at
these helpers.
"""

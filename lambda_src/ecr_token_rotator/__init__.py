"""Keep an Amazon ECR pull credential fresh in AWS Secrets Manager for External Secrets Operator.

Records are `typing.NamedTuple`s rather than dataclasses: defining a dataclass compiles generated
methods (0.3-0.5 ms each), which every cold start of the function would pay for each of them.
Records holding secret material define a `__repr__` without it.
"""

__version__ = "0.1.0"

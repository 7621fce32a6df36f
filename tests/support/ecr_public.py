"""ECR Public for tests: botocore's Stubber on the function's own ecr-public client.

Moto has no ECR Public. The function's ECR Public client (created and cached by `aws.client`, for
the call policy of the run) gets a Stubber that answers each `GetAuthorizationToken` as AWS
documents it (one `authorizationData` object with `authorizationToken` and `expiresAt`, no
`proxyEndpoint`), or with an error; every password it hands out is recorded in the same
`IssuedTokens` as moto's, so the redaction checks search for it too. Everything else stays on moto.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.stub import Stubber

from ecr_token_rotator import aws
from ecr_token_rotator.deadline import CallPolicy
from ecr_token_rotator.endpoints import PUBLIC_REGION
from tests.support.moto_ecr import IssuedTokens

PUBLIC_REGISTRY = "public"  # what the issued passwords are named after


class PublicEcr:
    def __init__(self, stubber: Stubber, issued: IssuedTokens) -> None:
        self.stubber = stubber
        self.issued = issued

    def issue(self, count: int = 1) -> None:
        """Queue `count` answers with fresh tokens."""
        for _ in range(count):
            password = self.issued.next_password(PUBLIC_REGISTRY)
            token = base64.b64encode(f"AWS:{password}".encode()).decode()
            self.stubber.add_response(
                "get_authorization_token",
                {
                    "authorizationData": {
                        "authorizationToken": token,
                        "expiresAt": self.issued.next_expiry(),
                    }
                },
                {},
            )

    def fail(self, code: str, message: str = "injected", status: int = 400) -> None:
        """Queue one error answer (botocore does not retry errors the Stubber raises)."""
        self.stubber.add_client_error(
            "get_authorization_token",
            service_error_code=code,
            service_message=message,
            http_status_code=status,
        )


def public_ecr(policy: CallPolicy, issued: IssuedTokens) -> PublicEcr:
    """A Stubber, active until the function's clients are reset, on the ecr-public client the
    function uses with `policy` (a run's call policy: `Deadline.for_invocation(None).policy` for
    the tests' invocations without a Lambda context and the CLI's default --timeout)."""
    stubber = Stubber(aws.client("ecr-public", PUBLIC_REGION, policy))
    stubber.activate()
    return PublicEcr(stubber, issued)


@contextmanager
def stubbed_ecr_public(policy: CallPolicy, issued: IssuedTokens) -> Iterator[PublicEcr]:
    """`public_ecr` for a block; at its end every queued answer must have been used."""
    public = public_ecr(policy, issued)
    try:
        yield public
        public.stubber.assert_no_pending_responses()
    finally:
        public.stubber.deactivate()

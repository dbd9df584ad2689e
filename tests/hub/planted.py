"""Secrets the tests plant where the tree holds only ciphertext: the keys the spawn hook
signs with (mounted into the hub pod from their Secrets) and the Triton bucket keys (read
through the API), each fresh per run and shaped like the real thing, so a test can look
for every one of them in the hub's output."""

import base64
import secrets

SCRAMBLE = b"\xde\xad\xbe\xef"


def scramble(raw):
    """HTCondor's `simple_scramble` (XOR 0xDEADBEEF), as a pool key file holds the key
    (htcondor/htcondor@v25.13.2 src/condor_utils/secure_file.cpp)."""
    return bytes(b ^ SCRAMBLE[i % 4] for i, b in enumerate(raw))


class Planted:
    def __init__(self, site):
        self.site = site
        # A pool signing key file as `condor_store_cred` / `create_signing_key` write it.
        self.pool_key = scramble(secrets.token_bytes(64))
        self.new_pool_key = scramble(secrets.token_bytes(64))
        # An XCache `macaroons.secretkey` file: base64 text (`openssl rand -base64 64`).
        self.xcache_root = secrets.token_bytes(64)
        self.xcache_file = base64.encodebytes(self.xcache_root)
        self.aws_key = "AK" + secrets.token_hex(10).upper()
        self.aws_secret = secrets.token_urlsafe(30)
        self.access_tokens = [f"at-{i}-{secrets.token_urlsafe(24)}" for i in range(4)]

    def mounted(self):
        """{(Secret, key): bytes} for the hub pod's Secret volumes."""
        return {
            ("htcondor-pool-password", "token"): self.pool_key,
            ("xcache-token", "token"): self.xcache_file,
        }

    def kube_objects(self):
        triton = self.site.get("triton")
        if not triton:
            return []
        return [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "triton-s3", "namespace": triton["namespace"]},
                "data": {
                    "AWS_ACCESS_KEY_ID": base64.b64encode(self.aws_key.encode()).decode(),
                    "AWS_SECRET_ACCESS_KEY": base64.b64encode(self.aws_secret.encode()).decode(),
                },
            }
        ]

    def plaintexts(self):
        """Every planted secret in the forms it could be printed in."""
        out = [self.aws_key, self.aws_secret, *self.access_tokens]
        for raw in (self.pool_key, self.new_pool_key, self.xcache_root):
            out += [base64.b64encode(raw).decode(), raw.hex()]
        out.append(self.xcache_file.decode().split("\n")[0])
        return out

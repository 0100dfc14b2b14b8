"""Integrations: where containers start, seccompose applies the policy's decision, and sees what it refuses.

Adapters on top of the pure core (the core never imports this package): each turns an
engine's data into ``seccompose.decide.Facts``, calls ``seccompose.decide.decide`` once, and
writes the ``Decision`` back in the engine's language. They own the I/O, the logging, the
policy reload and the failure handling; they hold no policy logic.

- ``runtime``: ``seccompose-runtime``, an OCI runtime that wraps runc or crun;
- ``proxy``: ``seccompose proxy``, a Docker Engine API proxy;
- ``bundle``: the facts each engine leaves in and around an OCI bundle;
- ``decisions``: the decision log (JSON lines) and the profiles kept by digest;
- ``policy_source``: a policy file watched for changes, keeping the last good one;
- ``notify``: the kernel's seccomp user-notification ioctls;
- ``sink``: the bounded, non-blocking events writer;
- ``agent``: ``seccompose agent``, the listener for runc's and crun's ``listenerPath``.
"""

__all__: list[str] = []

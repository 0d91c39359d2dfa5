"""What a gateway's broker message may end in besides being stored (the mqtt and sparkplug apps).

The broker has already authenticated the sender, so a message is attributed to the gateway its
topic names. One that can never be accepted (invalid JSON, a schema error, an undecodable
Sparkplug payload, an unknown node) is not retried forever: its handler raises
`MessageRejected`, and the consumer records it for planners and acknowledges it.
"""


class MessageRejected(Exception):
    def __init__(self, reason: str, *, gateway=None):
        super().__init__(reason)
        self.reason = reason
        self.gateway = gateway

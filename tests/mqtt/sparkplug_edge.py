"""A real Sparkplug B edge node process for the end-to-end test: pysparkplug's `EdgeNode` with
one device, connected to a real broker as its gateway's broker client, driven line by line on
its standard input.

It births on connecting (NBIRTH with the given bdSeq, a node keeps it across restarts, then the
device's DBIRTH), and then publishes what it is told:

    hours 101,102        NDATA Motor/Hours, one message per value
    temps 79,80.5        DDATA Temperature of device temp1, one message per value

It answers the host's rebirth request (NCMD `Node Control/Rebirth` = true) by publishing its
NBIRTH (same bdSeq, sequence restarted at 0, its metrics' current values) and DBIRTH again:
pysparkplug 0.6.1's EdgeNode does not (its default command callback only logs the command), so
the callback here does, with pysparkplug's own payload classes. Killed, the broker publishes its
will, the NDEATH with the birth's bdSeq. Each step prints one line ("connected", "rebirth
requested", "reborn", "published ...").

    python -m tests.mqtt.sparkplug_edge --port P --username U --password W --bdseq N \
        --hours 99 --temp 60
"""

import argparse
import itertools
import sys
import threading
import time

from pysparkplug import (
    Client,
    DataType,
    DBirth,
    Device,
    EdgeNode,
    Message,
    MessageType,
    Metric,
    NBirth,
    QoS,
    Topic,
    get_current_timestamp,
)

GROUP, NODE, DEVICE = "plant", "line1", "temp1"
HOURS, TEMPERATURE = ("Motor/Hours", 1), ("Temperature", 2)
REBIRTH = "Node Control/Rebirth"


def say(line: str) -> None:
    print(line, flush=True)


def metric(name_alias: tuple[str, int], value: float) -> Metric:
    name, alias = name_alias
    return Metric(get_current_timestamp(), name, DataType.DOUBLE, value=value, alias=alias)


class Edge:
    """The EdgeNode, the bdSeq of its birth, and one lock for everything it publishes (commands
    arrive on paho's thread, the values to publish on the main one)."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.bd_seq = args.bdseq
        client = Client(client_id=f"edge-{NODE}", username=args.username, password=args.password)
        self.node = EdgeNode(
            GROUP, NODE, [metric(HOURS, args.hours)], client=client, cmd_callback=self.command
        )
        self.node.register(Device(DEVICE, [metric(TEMPERATURE, args.temp)]))
        for _ in range(args.bdseq):
            self.node._bd_seq  # noqa: B018 (advance pysparkplug's bdSeq, as a restarted node has)

    def command(self, node: EdgeNode, message: Message) -> None:
        if any(m.name == REBIRTH and m.value is True for m in message.payload.metrics):
            say("rebirth requested")
            with self.lock:
                self.rebirth()
            say("reborn")

    def rebirth(self) -> None:
        """NBIRTH and DBIRTH again, as pysparkplug publishes them on connecting, but with the
        bdSeq of this connection's birth: after connecting pysparkplug already holds the *next*
        bdSeq (for its next will), which a host would take for another session."""
        node = self.node
        node._EdgeNode__seq_cycler = itertools.cycle(range(256))  # a birth restarts at 0
        bd_seq = Metric(get_current_timestamp(), "bdSeq", DataType.INT64, value=self.bd_seq)
        birth = NBirth(
            timestamp=get_current_timestamp(),
            seq=node._seq,
            metrics=(*node.metrics.values(), bd_seq),
        )
        self.publish(self.topic(MessageType.NBIRTH), birth)
        for device in node.devices.values():
            birth = DBirth(
                timestamp=get_current_timestamp(),
                seq=node._seq,
                metrics=tuple(device.metrics.values()),
            )
            self.publish(self.topic(MessageType.DBIRTH, device.device_id), birth)

    @staticmethod
    def topic(kind: MessageType, device_id: str | None = None) -> Topic:
        return Topic(message_type=kind, group_id=GROUP, edge_node_id=NODE, device_id=device_id)

    def publish(self, topic: Topic, payload) -> None:
        message = Message(topic=topic, payload=payload, qos=QoS.AT_MOST_ONCE, retain=False)
        self.node._client.publish(message, include_dtypes=True)

    def connect(self, port: int) -> None:
        self.node.connect("127.0.0.1", port=port, keepalive=5, blocking=False)
        deadline = time.monotonic() + 10
        while not self.node._connected:
            if time.monotonic() > deadline:
                sys.exit("not connected")
            time.sleep(0.02)
        time.sleep(0.1)  # pysparkplug sets _connected first, then publishes the births
        say(f"connected bdSeq={self.bd_seq}")

    def run(self, line: str) -> None:
        """Publish what one input line says."""
        command, _, values = line.strip().partition(" ")
        for value in (float(v) for v in values.split(",") if v):
            time.sleep(0.02)  # distinct millisecond timestamps
            with self.lock:
                if command == "hours":
                    self.node.update([metric(HOURS, value)])
                elif command == "temps":
                    self.node.update_device(DEVICE, [metric(TEMPERATURE, value)])
                else:
                    sys.exit(f"unknown command {line!r}")
        say(f"published {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--port", "--bdseq"):
        parser.add_argument(name, type=int, required=True)
    for name in ("--username", "--password"):
        parser.add_argument(name, required=True)
    for name in ("--hours", "--temp"):
        parser.add_argument(name, type=float, required=True)
    args = parser.parse_args()
    edge = Edge(args)
    edge.connect(args.port)
    for line in sys.stdin:
        if line.strip():
            edge.run(line)
    while True:  # input closed: stay connected until killed
        time.sleep(1)


if __name__ == "__main__":
    main()

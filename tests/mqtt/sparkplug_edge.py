"""A real Sparkplug B edge node process for the end-to-end test: pysparkplug's EdgeNode with one
device, through a real broker. It births (bdSeq as given: a node keeps it across restarts),
publishes the given node and device values (the first of each in its births), prints
"published", and stays connected until it is killed (its will, an NDEATH, is then published by
the broker) or, with --clean, disconnects with an NDEATH of its own.

    python -m tests.mqtt.sparkplug_edge --port P --username U --password W --bdseq N \
        --hours 100,101 --temps 79,80.5
"""

import argparse
import sys
import time

from pysparkplug import Client, DataType, Device, EdgeNode, Metric, get_current_timestamp

GROUP, NODE, DEVICE = "plant", "line1", "temp1"


def metric(name: str, value: float, alias: int) -> Metric:
    return Metric(get_current_timestamp(), name, DataType.DOUBLE, value=value, alias=alias)


def numbers(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v]


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--port", "--bdseq"):
        parser.add_argument(name, type=int, required=True)
    for name in ("--username", "--password", "--hours", "--temps"):
        parser.add_argument(name, default="")
    parser.add_argument("--clean", action="store_true")
    args = parser.parse_args()
    hours, temps = numbers(args.hours), numbers(args.temps)

    client = Client(client_id=f"edge-{NODE}", username=args.username, password=args.password)
    node = EdgeNode(GROUP, NODE, [metric("Motor/Hours", hours[0], 1)], client=client)
    node.register(Device(DEVICE, [metric("Temperature", temps[0], 2)]))
    for _ in range(args.bdseq):
        node._bd_seq  # noqa: B018 (advance pysparkplug's bdSeq counter, as a restarted node would)
    node.connect("127.0.0.1", port=args.port, keepalive=5, blocking=False)
    deadline = time.monotonic() + 10
    while not node._connected:
        if time.monotonic() > deadline:
            sys.exit("not connected")
        time.sleep(0.02)
    for value in hours[1:]:
        time.sleep(0.02)  # distinct millisecond timestamps
        node.update([metric("Motor/Hours", value, 1)])
    for value in temps[1:]:
        time.sleep(0.02)
        node.update_device(DEVICE, [metric("Temperature", value, 2)])
    time.sleep(0.2)
    print("published", flush=True)
    if args.clean:
        node.disconnect()
        return
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()

"""An edge node for the Sparkplug tests that builds its messages with pysparkplug (no hand-built
bytes): births, deaths and data of the node and its devices, with sequence numbers as a real
node counts them."""

from datetime import datetime

from pysparkplug import DataType, DBirth, DData, DDeath, Metric, NBirth, NData, NDeath


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class SparkplugNode:
    def __init__(self, group: str, node: str, *, aliases: dict[str, int] | None = None):
        self.group, self.node = group, node
        self.aliases = aliases or {}  # metric name -> alias
        self.bd_seq = 0
        self.seq = 0

    def topic(self, kind: str, device: str | None = None) -> str:
        tail = f"/{device}" if device else ""
        return f"spBv1.0/{self.group}/{kind}/{self.node}{tail}"

    def _next(self) -> int:
        self.seq = (self.seq + 1) % 256
        return self.seq

    def metric(self, name: str, value, at: datetime, *, by_alias=False, dtype=DataType.DOUBLE):
        alias = self.aliases.get(name)
        return Metric(
            timestamp=ms(at),
            name=None if by_alias else name,
            datatype=dtype,
            value=value,
            alias=alias,
        )

    def nbirth(self, at: datetime, metrics: dict | None = None, *, bd_seq=None):
        if bd_seq is not None:
            self.bd_seq = bd_seq
        self.seq = 0
        declared = [self.metric(name, value, at) for name, value in (metrics or {}).items()]
        declared.append(Metric(ms(at), "bdSeq", DataType.INT64, value=self.bd_seq))
        payload = NBirth(timestamp=ms(at), seq=0, metrics=tuple(declared))
        return self.topic("NBIRTH"), payload.encode()

    def ndeath(self, at: datetime, *, bd_seq=None):
        metric = Metric(
            ms(at), "bdSeq", DataType.INT64, value=self.bd_seq if bd_seq is None else bd_seq
        )
        return self.topic("NDEATH"), NDeath(timestamp=ms(at), bd_seq_metric=metric).encode()

    def ndata(self, at: datetime, metrics: dict, *, by_alias=False, seq=None):
        payload = NData(
            timestamp=ms(at),
            seq=self._next() if seq is None else seq,
            metrics=tuple(self.metric(n, v, at, by_alias=by_alias) for n, v in metrics.items()),
        )
        return self.topic("NDATA"), payload.encode(include_dtypes=not by_alias)

    def dbirth(self, device: str, at: datetime, metrics: dict | None = None):
        declared = tuple(self.metric(name, value, at) for name, value in (metrics or {}).items())
        payload = DBirth(timestamp=ms(at), seq=self._next(), metrics=declared)
        return self.topic("DBIRTH", device), payload.encode()

    def ddata(self, device: str, at: datetime, metrics: dict, *, by_alias=False):
        payload = DData(
            timestamp=ms(at),
            seq=self._next(),
            metrics=tuple(self.metric(n, v, at, by_alias=by_alias) for n, v in metrics.items()),
        )
        return self.topic("DDATA", device), payload.encode(include_dtypes=not by_alias)

    def ddeath(self, device: str, at: datetime):
        payload = DDeath(timestamp=ms(at), seq=self._next())
        return self.topic("DDEATH", device), payload.encode()

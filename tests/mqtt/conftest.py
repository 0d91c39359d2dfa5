import pytest

from tests.mosquitto import MosquittoServer


@pytest.fixture
def mosquitto(request):
    """A private Mosquitto with dynamic security on a free port (tests/mosquitto.py), as
    docs/mqtt-broker.md configures it; parametrized indirectly with False, a broker that does
    not queue QoS 0 messages for absent sessions."""
    if not MosquittoServer.available():
        pytest.skip(
            "mosquitto and its dynamic security plugin are needed (apt-get install mosquitto)"
        )
    server = MosquittoServer(queue_qos0=getattr(request, "param", True)).init()
    yield server
    server.destroy()
